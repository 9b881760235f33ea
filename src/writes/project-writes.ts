/**
 * One project's writes: events and identity merges to /import, profile
 * updates to /engage, group updates to /groups, Lexicon edits, all merged
 * across the project's clients (batcher.ts) and sent through the project's
 * runtime like every other call (budget, metrics).
 *
 * Retries (the budget's, on 429, 5xx and timeouts): /import batches may be
 * retried, since every event carries a `$insert_id` and Mixpanel keeps one of
 * each (event, time, distinct_id, $insert_id); `$merge` is idempotent too.
 * Profile and group updates travel in two streams: `$set`, `$set_once`,
 * `$union`, `$unset` and `$delete` batches may be retried; `$add`, `$append`
 * and `$remove` batches are sent once (maxRetries 0), as a second delivery
 * would apply them twice.
 */
import { GatewayError, InvalidArgumentError } from '../core/errors.js';
import { MixpanelError } from '../mixpanel/errors.js';
import { DEFAULT_MAX_RETRIES } from '../limits/defaults.js';
import type { GroupUpdate, ImportResult, IngestEvent, ProfileUpdate } from '../mixpanel/types.js';
import type { CallContext, ProjectRuntime } from '../runtime/types.js';
import { createBatcher, type Batcher, type Outcome } from './batcher.js';
import { WriteUnsupportedError } from './errors.js';
import { prepareEvent, type EventInputShape } from './events.js';
import type { Idempotency } from './idempotency.js';
import { createLexiconEditor, type LexiconEditor } from './lexicon-edits.js';
import { MAX_EVENTS_PER_REQUEST, MAX_IMPORT_REQUEST_BYTES, MAX_UPDATES_PER_REQUEST, jsonBytes } from './limits.js';
import {
  prepareGroupUpdate,
  prepareProfileUpdate,
  REPLAY_SAFE_OPERATIONS,
  type GroupUpdateShape,
  type PreparedUpdate,
  type ProfileUpdateShape,
} from './profiles.js';
import { batchCallContext, creditCalls } from './shared-call.js';

/** Events one `importEvents` may carry; they leave in requests of at most 2,000. */
export const MAX_EVENTS_PER_MUTATION = 10_000;
/** Updates one `updateProfiles` (or `updateGroupProfiles`) may carry. */
export const MAX_UPDATES_PER_MUTATION = 10_000;
/** Profiles one `mergeProfiles` may merge (one `$merge` per profile after the first). */
export const MAX_MERGED_PROFILES = 100;
/** Bytes the client adds to each event (`"$source":"<integration id>"`), at most. */
const SOURCE_MARGIN_BYTES = 160;
/** Bytes the client adds to each update (`"$token":"…"`), at most. */
const TOKEN_MARGIN_BYTES = 256;

export interface ImportFailureShape {
  readonly index: number;
  readonly insertId: string | null;
  readonly field: string | null;
  readonly message: string;
}

export interface ImportOutcome {
  readonly imported: number;
  readonly failures: readonly ImportFailureShape[];
}

export interface UpdateFailureShape {
  readonly index: number;
  readonly message: string;
}

export interface UpdateOutcome {
  readonly updated: number;
  readonly failures: readonly UpdateFailureShape[];
}

export interface ProjectWritesOptions {
  readonly project: ProjectRuntime;
  readonly idempotency: Idempotency;
  /** How long a batch that is not full waits for other clients' writes, in ms. */
  readonly batchWindowMs: number;
  /** How long Lexicon edits wait to be merged, in ms. */
  readonly lexiconWindowMs: number;
  /** Whether the project accepts `$merge` (Original ID Merge). */
  readonly identityMerge: boolean;
  /** Clock of the time checks. Default Date.now. */
  readonly now?: () => number;
}

export interface ProjectWrites {
  readonly idempotency: Idempotency;
  readonly lexicon: LexiconEditor;
  importEvents(events: readonly EventInputShape[], context: CallContext): Promise<ImportOutcome>;
  mergeProfiles(distinctIds: readonly string[], context: CallContext): Promise<{ readonly merged: number }>;
  updateProfiles(updates: readonly ProfileUpdateShape[], context: CallContext): Promise<UpdateOutcome>;
  updateGroupProfiles(updates: readonly GroupUpdateShape[], context: CallContext): Promise<UpdateOutcome>;
  close(): void;
}

interface Carried<T> {
  readonly value: T;
  readonly bytes: number;
  readonly context: CallContext;
}

/** A failed record as Mixpanel reported it (null: landed). */
type RecordVerdict = { readonly field: string; readonly message: string } | null;

const messageOf = (error: unknown): string => (error instanceof GatewayError ? error.message : 'the request to Mixpanel failed');

/**
 * Every item failed, and for one reason (one error, or errors of one code, such as the budget refusing
 * each batch): the caller gets that error, typed when it can act on it, rather than a list of failures.
 */
function sharedFailure(outcomes: readonly Outcome<unknown>[]): unknown {
  if (outcomes.length === 0 || outcomes.some((outcome) => outcome.ok)) return undefined;
  const errors = outcomes.map((outcome) => (outcome as { error: unknown }).error);
  const first = errors[0];
  const codeOf = (error: unknown) => (error instanceof GatewayError ? error.code : undefined);
  const same = errors.every((error) => error === first || (codeOf(first) !== undefined && codeOf(error) === codeOf(first)));
  return same ? first : undefined;
}

export function createProjectWrites(options: ProjectWritesOptions): ProjectWrites {
  const { project } = options;
  const now = options.now ?? Date.now;
  const closed = new AbortController();

  const importBatcher: Batcher<Carried<IngestEvent>, RecordVerdict> = createBatcher({
    maxItems: MAX_EVENTS_PER_REQUEST,
    maxBytes: MAX_IMPORT_REQUEST_BYTES,
    sizeOf: (item) => item.bytes,
    windowMs: options.batchWindowMs,
    async send(items) {
      const verdicts = await importChunk(items);
      project.invalidate('events');
      return verdicts;
    },
  });

  /**
   * One /import request. Mixpanel's docs give 10 MB a request but the spec's 413 example quotes 2 MiB: on a 413
   * (nothing was ingested) the halves are sent instead, each on its own.
   */
  async function importChunk(items: readonly Carried<IngestEvent>[]): Promise<Outcome<RecordVerdict>[]> {
    const contexts = items.map((item) => item.context);
    const call = batchCallContext(contexts, closed.signal);
    let result: ImportResult;
    try {
      result = await project.fetch('importEvents', { events: items.map((item) => item.value) }, call);
    } catch (error) {
      if (error instanceof MixpanelError && error.status === 413 && items.length > 1) {
        const half = Math.ceil(items.length / 2);
        return [...(await importChunk(items.slice(0, half))), ...(await importChunk(items.slice(half)))];
      }
      throw error;
    } finally {
      creditCalls(contexts, call);
    }
    const failed = new Map((result.failed_records ?? []).map((record) => [record.index, record]));
    return items.map((_item, index): Outcome<RecordVerdict> => {
      const record = failed.get(index);
      return { ok: true, value: record ? { field: String(record.field), message: String(record.message) } : null };
    });
  }

  const updateBatcher = <U>(endpoint: 'engageUpdate' | 'groupsUpdate', replaySafe: boolean): Batcher<Carried<U>, null> =>
    createBatcher({
      maxItems: MAX_UPDATES_PER_REQUEST,
      // /engage and /groups document no request size, only 1 MB an update; the 10 MB of /import keeps bodies sane.
      maxBytes: MAX_IMPORT_REQUEST_BYTES,
      sizeOf: (item) => item.bytes,
      windowMs: options.batchWindowMs,
      async send(items) {
        const contexts = items.map((item) => item.context);
        const call = batchCallContext(contexts, closed.signal);
        const updates = items.map((item) => item.value);
        try {
          // Only a batch whose operations are idempotent may be retried by the budget (the endpoints default to no retry).
          const options = { maxRetries: replaySafe ? DEFAULT_MAX_RETRIES : 0 };
          if (endpoint === 'engageUpdate') await project.fetch('engageUpdate', { updates: updates as readonly ProfileUpdate[] }, call, options);
          else await project.fetch('groupsUpdate', { updates: updates as readonly GroupUpdate[] }, call, options);
        } finally {
          creditCalls(contexts, call);
        }
        // A read of the profile right after the write must see it.
        project.invalidate('profiles');
        return items.map((): Outcome<null> => ({ ok: true, value: null }));
      },
    });

  const engage = { safe: updateBatcher<ProfileUpdate>('engageUpdate', true), once: updateBatcher<ProfileUpdate>('engageUpdate', false) };
  const groups = { safe: updateBatcher<GroupUpdate>('groupsUpdate', true), once: updateBatcher<GroupUpdate>('groupsUpdate', false) };

  async function sendEvents(
    records: readonly { index: number; record: IngestEvent; insertId: string | null }[],
    context: CallContext,
    failures: ImportFailureShape[],
  ): Promise<number> {
    const outcomes = await importBatcher.submit(records.map(({ record }) => ({ value: record, bytes: jsonBytes(record) + SOURCE_MARGIN_BYTES, context })));
    const shared = sharedFailure(outcomes);
    if (shared !== undefined) throw shared;
    let imported = 0;
    outcomes.forEach((outcome, position) => {
      const { index, insertId } = records[position]!;
      if (!outcome.ok)
        failures.push({ index, insertId, field: null, message: `Mixpanel did not take the batch carrying this event: ${messageOf(outcome.error)}` });
      else if (outcome.value) failures.push({ index, insertId, field: outcome.value.field, message: outcome.value.message });
      else imported += 1;
    });
    return imported;
  }

  async function sendUpdates<U>(
    prepared: readonly { index: number; updates: PreparedUpdate<U>[] }[],
    streams: { safe: Batcher<Carried<U>, null>; once: Batcher<Carried<U>, null> },
    context: CallContext,
  ): Promise<UpdateOutcome> {
    const flat = prepared.flatMap(({ index, updates }) => updates.map((update) => ({ index, update })));
    const outcomes = await Promise.all(
      flat.map(({ update }) => {
        const stream = REPLAY_SAFE_OPERATIONS.has(update.operation) ? streams.safe : streams.once;
        return stream.submit([{ value: update.update, bytes: jsonBytes(update.update) + TOKEN_MARGIN_BYTES, context }]).then((results) => results[0]!);
      }),
    );
    const shared = sharedFailure(outcomes);
    if (shared !== undefined) throw shared;
    const failed = new Map<number, string>();
    outcomes.forEach((outcome, position) => {
      if (!outcome.ok && !failed.has(flat[position]!.index))
        failed.set(flat[position]!.index, `Mixpanel did not take the batch carrying this update: ${messageOf(outcome.error)}`);
    });
    return {
      updated: prepared.length - failed.size,
      failures: [...failed].sort(([a], [b]) => a - b).map(([index, message]) => ({ index, message })),
    };
  }

  const checkCount = (count: number, max: number, argument: string, what: string) => {
    if (count === 0) throw new InvalidArgumentError(`${argument} must list at least one ${what}`, argument);
    if (count > max) throw new InvalidArgumentError(`${argument} takes at most ${max} ${what}s per call, got ${count}`, argument);
  };

  return {
    idempotency: options.idempotency,
    lexicon: createLexiconEditor({ project, windowMs: options.lexiconWindowMs, now }),

    async importEvents(events, context) {
      checkCount(events.length, MAX_EVENTS_PER_MUTATION, 'events', 'event');
      const at = now();
      const failures: ImportFailureShape[] = [];
      const valid: { index: number; record: IngestEvent; insertId: string | null }[] = [];
      events.forEach((event, index) => {
        const prepared = prepareEvent(event, at);
        if ('problem' in prepared)
          failures.push({ index, insertId: prepared.insertId ?? null, field: prepared.problem.field, message: prepared.problem.message });
        else valid.push({ index, record: prepared.record, insertId: prepared.insertId });
      });
      const imported = valid.length === 0 ? 0 : await sendEvents(valid, context, failures);
      return { imported, failures: failures.sort((a, b) => a.index - b.index) };
    },

    async mergeProfiles(distinctIds, context) {
      if (!options.identityMerge) {
        throw new WriteUnsupportedError(
          'This gateway is configured for Simplified ID Merge, which has no merge call (identities merge through ' +
            '$device_id and $user_id on events); set MIXPANEL_ID_MERGE_API=original for projects on the Original ID Merge ' +
            'API',
        );
      }
      const ids = [...new Set(distinctIds.map(String))];
      if (ids.length < 2) throw new InvalidArgumentError('distinctIds must name at least two different profiles', 'distinctIds');
      if (ids.length > MAX_MERGED_PROFILES) throw new InvalidArgumentError(`distinctIds takes at most ${MAX_MERGED_PROFILES} profiles`, 'distinctIds');
      ids.forEach((id, index) => {
        const problem = id.trim() === '' ? { message: 'must not be empty' } : undefined;
        if (problem) throw new InvalidArgumentError(`distinctIds[${index}] ${problem.message}`, `distinctIds[${index}]`);
      });
      const token = project.config.projectToken?.isEmpty === false ? { token: project.config.projectToken.reveal() } : {};
      const [first, ...others] = ids as [string, ...string[]];
      // https://developer.mixpanel.com/reference/identity-merge: one $merge of two distinct ids per event.
      const records = others.map((other, index) => ({
        index,
        insertId: null,
        record: { event: '$merge', properties: { $distinct_ids: [first, other], ...token } },
      }));
      const failures: ImportFailureShape[] = [];
      const merged = await sendEvents(records, context, failures);
      if (failures.length > 0)
        throw new InvalidArgumentError(`Mixpanel refused to merge ${JSON.stringify(others[failures[0]!.index])}: ${failures[0]!.message}`, 'distinctIds');
      project.invalidate('profiles');
      return { merged };
    },

    async updateProfiles(updates, context) {
      checkCount(updates.length, MAX_UPDATES_PER_MUTATION, 'updates', 'update');
      const prepared = updates.map((update, index) => {
        const result = prepareProfileUpdate(update);
        if ('problem' in result)
          throw new InvalidArgumentError(`updates[${index}].${result.problem.field}: ${result.problem.message}`, `updates[${index}].${result.problem.field}`);
        return { index, updates: result.updates };
      });
      return sendUpdates(prepared, engage, context);
    },

    async updateGroupProfiles(updates, context) {
      checkCount(updates.length, MAX_UPDATES_PER_MUTATION, 'updates', 'update');
      const prepared = updates.map((update, index) => {
        const result = prepareGroupUpdate(update);
        if ('problem' in result)
          throw new InvalidArgumentError(`updates[${index}].${result.problem.field}: ${result.problem.message}`, `updates[${index}].${result.problem.field}`);
        return { index, updates: result.updates };
      });
      return sendUpdates(prepared, groups, context);
    },

    close() {
      closed.abort();
      this.lexicon.close();
    },
  };
}
