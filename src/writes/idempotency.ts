/**
 * Idempotent writes: the same key with the same input answers the first
 * result without sending anything again; the same key with another input is
 * refused (IdempotencyConflictError). Keys are scoped by project, API key
 * and mutation, so two clients never see each other's results.
 *
 * A write that fails before anything was sent releases its key, so a retry
 * with the same key sends it. A write that fails after it may have reached
 * Mixpanel keeps its key when sending it twice could apply it twice
 * (`replaySafe: false`): replays then fail with WriteOutcomeUnknownError.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../cache/keys.js';
import { GatewayError, InvalidArgumentError } from '../core/errors.js';
import { UpstreamError, UpstreamTimeoutError } from '../mixpanel/errors.js';
import { IdempotencyConflictError, WriteOutcomeUnknownError } from './errors.js';
import type { IdempotencyStore, StoredOutcome } from './idempotency-store.js';

/** Default life of a finished write's record: a day, ample for any client's retries. */
export const DEFAULT_IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
/** A pending claim outlives any request; past this its instance is presumed dead. */
const PENDING_TTL_MS = 10 * 60 * 1000;
/** How a replay waits for a write in progress on another instance. */
const POLL_MS = 100;
const MAX_KEY_LENGTH = 255;

export interface IdempotencyOptions {
  readonly store: IdempotencyStore;
  /** Life of a finished write's record, in ms. Default DEFAULT_IDEMPOTENCY_TTL_MS. */
  readonly ttlMs?: number;
  readonly now?: () => number;
}

export interface OnceRequest {
  /** Project key, API-key id (or undefined) and mutation name: the key's scope. */
  readonly scope: readonly (string | undefined)[];
  readonly idempotencyKey: string | null | undefined;
  /** The write's input, as received. */
  readonly input: unknown;
  /** Whether sending the write a second time is harmless (import with $insert_id, `$set`). */
  readonly replaySafe: boolean;
  /** Epoch ms after which a replay stops waiting for a write in progress elsewhere. */
  readonly deadline: number;
}

export interface Idempotency {
  once<T>(request: OnceRequest, run: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** Whether a failed write may have reached Mixpanel (a timeout, a 5xx, a connection lost mid-request, anything unknown). */
export function mayHaveReachedMixpanel(error: unknown): boolean {
  if (error instanceof UpstreamError || error instanceof UpstreamTimeoutError) return true;
  return !(error instanceof GatewayError);
}

export function checkIdempotencyKey(key: string | null | undefined): string | undefined {
  if (key === null || key === undefined) return undefined;
  if (key.length === 0 || key.length > MAX_KEY_LENGTH || !/^[\x21-\x7e]+$/.test(key)) {
    throw new InvalidArgumentError(`idempotencyKey must be 1 to ${MAX_KEY_LENGTH} printable ASCII characters without spaces (a UUID, say)`, 'idempotencyKey');
  }
  return key;
}

export function createIdempotency(options: IdempotencyOptions): Idempotency {
  const { store } = options;
  const ttlMs = options.ttlMs ?? DEFAULT_IDEMPOTENCY_TTL_MS;
  const now = options.now ?? Date.now;
  /** Writes in progress on this instance: a concurrent replay joins them. */
  const inFlight = new Map<string, { fingerprint: string; promise: Promise<unknown> }>();

  const replay = <T>(outcome: StoredOutcome | undefined): T => {
    if (outcome?.ok) return outcome.value as T;
    throw new WriteOutcomeUnknownError(
      `The first write with this idempotency key failed after it may have reached Mixpanel (${outcome?.message ?? 'unknown failure'}); ` +
        `it is not sent again. Check the data, then write with a new key`,
    );
  };

  return {
    async once<T>(request: OnceRequest, run: () => Promise<T>): Promise<T> {
      const idempotencyKey = checkIdempotencyKey(request.idempotencyKey);
      if (idempotencyKey === undefined) return run();
      const key = createHash('sha256')
        .update(canonicalJson([...request.scope.map((part) => part ?? ''), idempotencyKey]))
        .digest('hex');
      const fingerprint = createHash('sha256')
        .update(canonicalJson(request.input ?? null))
        .digest('hex');

      const local = inFlight.get(key);
      if (local) {
        if (local.fingerprint !== fingerprint) throw new IdempotencyConflictError(idempotencyKey);
        return (await local.promise) as T;
      }
      let existing = await store.claim(key, fingerprint, PENDING_TTL_MS, now());
      while (existing?.state === 'pending' && existing.fingerprint === fingerprint && now() < request.deadline) {
        // In progress on another instance: wait for its result rather than send twice.
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
        existing = await store.get(key, now());
        if (!existing) existing = await store.claim(key, fingerprint, PENDING_TTL_MS, now());
      }
      if (existing) {
        if (existing.fingerprint !== fingerprint) throw new IdempotencyConflictError(idempotencyKey);
        if (existing.state === 'pending')
          throw new WriteOutcomeUnknownError('A write with this idempotency key is still in progress; retry later with the same key');
        return replay<T>(existing.outcome);
      }

      const promise = (async () => {
        try {
          const value = await run();
          await store.complete(key, { fingerprint, state: 'done', outcome: { ok: true, value } }, ttlMs, now());
          return value;
        } catch (error) {
          if (!request.replaySafe && mayHaveReachedMixpanel(error)) {
            const message = error instanceof GatewayError ? error.message : 'an unexpected failure';
            const code = error instanceof GatewayError ? error.code : 'INTERNAL';
            await store.complete(key, { fingerprint, state: 'done', outcome: { ok: false, code, message } }, ttlMs, now()).catch(() => undefined);
          } else {
            await store.release(key).catch(() => undefined);
          }
          throw error;
        }
      })();
      inFlight.set(key, { fingerprint, promise });
      try {
        return await promise;
      } finally {
        inFlight.delete(key);
      }
    },
    close: () => store.close(),
  };
}
