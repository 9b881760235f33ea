/**
 * The cohort-sync webhook receiver: a graphql-yoga plugin answering
 * `POST <WebhookConfig.path>` before GraphQL handling (modelled on
 * graphql-hive gateway's useWebhooks), that stores each page and publishes
 * what it changed.
 *
 * It answers only after the page is committed (durable), because Mixpanel
 * retries only on 429/5xx. A page's own changes are published before the
 * answer; the completion changes of a full sync (every member that left,
 * joined, and the new membership page by page) stream from the store after
 * it, a bounded batch at a time, then `cohortSyncCompleted`. A cohort's pages
 * are applied and published one after the other, in arrival order: the next
 * page of a cohort waits until the previous one's events are all published,
 * so subscribers see each cohort's events in order and the completion stream
 * reads a membership no later page has changed yet. The completion stream
 * publishes only as fast as this instance's subscribers drain: before each
 * event it waits for the pubsub's flow to fall under PUBLISH_HIGH_WATER_MARK
 * (publish-flow.ts), so a big sync never passes a healthy group's queue limit. Statuses follow what Mixpanel
 * does with them (https://docs.mixpanel.com/docs/cohort-sync/webhooks#failed-syncs):
 * - 400, 401, 403, 404 PAUSE the sync, so they are kept for problems that a
 *   retry cannot fix: a body that can never be valid (400), wrong credentials
 *   (401), a project this gateway does not serve (404).
 * - A transient problem (store down, store too slow) is 503, which Mixpanel
 *   retries 5 times over 60 s and then again at the next scheduled sync.
 * - A source address that failed authentication too often gets 429 with
 *   Retry-After (auth-throttle.ts): transient, so a throttled Mixpanel only
 *   syncs later, while a guesser is slowed to `maxAuthFailures` per window.
 * - 405, 413 and 415 are not named by the docs (neither retried nor said to
 *   pause); they only answer requests Mixpanel does not send.
 * Every answer is JSON in Mixpanel's expected shape:
 * `{"action", "status": "success"}` or `{"action", "status": "failure", "error": {"message", "code"}}`.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Plugin } from 'graphql-yoga';
import type { WebhookConfig } from '../config/types.js';
import type { ApplyResult, MembershipStore, SyncPage } from '../membership/types.js';
import { PUBLISH_HIGH_WATER_MARK } from '../pubsub/publish-flow.js';
import type { GatewayPubSub } from '../pubsub/types.js';
import { createAuthThrottle } from './auth-throttle.js';
import { parseCohortSyncBody } from './cohort-sync.js';

/** HTTP statuses of the receiver, named for the outcome. */
export const WebhookStatus = {
  Success: 200,
  /** Pauses the sync: the body can never be valid. */
  InvalidBody: 400,
  /** Pauses the sync: missing or wrong Basic credentials. */
  Unauthorized: 401,
  /** Pauses the sync: the Mixpanel project is not served here. */
  UnknownProject: 404,
  MethodNotAllowed: 405,
  BodyTooLarge: 413,
  UnsupportedMediaType: 415,
  /** Mixpanel retries: too many failed authentications from this address. */
  TooManyFailures: 429,
  /** Mixpanel retries: the store failed or did not answer in time. */
  Unavailable: 503,
} as const;

export interface ResolvedWebhookProject {
  /** Project id used in the store and as the pubsub topic id. */
  readonly projectId: string;
  readonly store: MembershipStore;
}

export interface CohortWebhooksOptions {
  /**
   * Path, credentials, body limit, staged-session TTL and failure throttling. Basic auth is required when a
   * username or password is set (the configuration requires both outside demo mode).
   */
  readonly config: WebhookConfig;
  /** Maps `mixpanel_project_id` to a served project; undefined answers 404 (pauses the sync). */
  readonly resolveProject: (mixpanelProjectId: string) => ResolvedWebhookProject | undefined;
  readonly pubsub: GatewayPubSub;
  /** Clock (epoch ms); default Date.now. */
  readonly now?: () => number;
  /** Told about store failures and timeouts (the answer is 503); never given a credential. Default: ignore. */
  readonly onError?: (error: unknown) => void;
  /** How long a page may take to store before the answer is 503 (the write still completes and publishes); default 10000 ms. */
  readonly applyTimeoutMs?: number;
  /** Least time between two sweeps of abandoned sessions, run after a page is answered; default 60000 ms. */
  readonly expiryIntervalMs?: number;
  /**
   * The source address failed authentications are counted against. Default: the TCP peer address
   * (`serverContext.req.socket.remoteAddress`), or "unknown" without one (`yoga.fetch`).
   */
  readonly clientAddress?: (request: Request, serverContext: unknown) => string;
}

/** The store did not finish a page in time; it may still commit, and a retry of the page is then a no-op. */
export class WebhookTimeoutError extends Error {
  readonly code = 'WEBHOOK_STORE_TIMEOUT';
  constructor(timeoutMs: number) {
    super(`Storing a cohort-sync page took longer than ${timeoutMs} ms`);
    this.name = 'WebhookTimeoutError';
  }
}

class BodyTooLargeError extends Error {}

const MAX_PROBLEMS_IN_MESSAGE = 10;

export function useCohortWebhooks(options: CohortWebhooksOptions): Plugin {
  const { config, pubsub } = options;
  const now = options.now ?? Date.now;
  const onError = options.onError ?? (() => undefined);
  const applyTimeoutMs = options.applyTimeoutMs ?? 10_000;
  const expiryIntervalMs = options.expiryIntervalMs ?? 60_000;
  const checkCredentials = createCredentialCheck(config);
  const throttle = createAuthThrottle({ maxFailures: config.maxAuthFailures, windowMs: config.authFailureWindowMs, now });
  const clientAddress = options.clientAddress ?? peerAddress;
  const lastExpiry = new WeakMap<MembershipStore, number>();
  /** Per cohort, the end of its last page's publication: the next page is applied after it. */
  const cohortTails = new Map<string, Promise<void>>();

  const reply = (status: number, action: string | undefined, message?: string, headers: Record<string, string> = {}) => {
    const body =
      message === undefined ? { action: action ?? null, status: 'success' } : { action: action ?? null, status: 'failure', error: { message, code: status } };
    return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json; charset=utf-8', ...headers } });
  };

  const publishChanges = (projectId: string, result: ApplyResult, at: number) => {
    for (const change of result.changes) pubsub.publish('cohortMembershipChanged', projectId, { ...change, at });
  };

  /** The completion stream (if any), then the session's completion; a failure ends the stream, the store stays as committed. */
  const publishRest = async (projectId: string, page: SyncPage, result: ApplyResult, at: number) => {
    if (result.completion) {
      try {
        for await (const change of result.completion) {
          await pubsub.flow?.whenBelow(PUBLISH_HIGH_WATER_MARK);
          pubsub.publish('cohortMembershipChanged', projectId, { ...change, at });
        }
      } catch (error) {
        onError(error);
      }
    }
    if (result.sessionCompleted) {
      pubsub.publish('cohortSyncCompleted', projectId, {
        projectId,
        cohortId: page.cohortId,
        sessionId: page.sessionId,
        totalPages: page.totalPages,
        memberCount: result.state?.memberCount ?? 0,
        at,
      });
    }
  };

  const sweepSessions = (store: MembershipStore, at: number) => {
    if (at - (lastExpiry.get(store) ?? -Infinity) < expiryIntervalMs) return;
    lastExpiry.set(store, at);
    store.expireSessions(at - config.sessionTtlMs).catch(onError);
  };

  const handle = async (request: Request, serverContext: unknown): Promise<Response> => {
    if (request.method !== 'POST') return reply(WebhookStatus.MethodNotAllowed, undefined, 'Only POST is accepted here', { allow: 'POST' });
    const address = clientAddress(request, serverContext);
    const waitMs = throttle.retryAfterMs(address);
    if (waitMs > 0) {
      const seconds = Math.max(1, Math.ceil(waitMs / 1000));
      return reply(WebhookStatus.TooManyFailures, undefined, `Too many failed authentications from this address; retry in ${seconds} s`, {
        'retry-after': String(seconds),
      });
    }
    if (!checkCredentials(request.headers.get('authorization'))) {
      throttle.recordFailure(address);
      return reply(WebhookStatus.Unauthorized, undefined, 'Missing or wrong Basic credentials', { 'www-authenticate': 'Basic realm="cohort-sync"' });
    }
    const contentType = request.headers.get('content-type');
    // The docs do not name the content type Mixpanel sends; a missing one is read as JSON, a non-JSON one is refused.
    if (contentType !== null && !/^application\/([\w.+-]+\+)?json\s*(;|$)/i.test(contentType)) {
      return reply(WebhookStatus.UnsupportedMediaType, undefined, 'Content-Type must be application/json');
    }

    let text: string;
    try {
      text = await readBody(request, config.maxBodyBytes);
    } catch (error) {
      if (error instanceof BodyTooLargeError) return reply(WebhookStatus.BodyTooLarge, undefined, `Body exceeds ${config.maxBodyBytes} bytes`);
      throw error;
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return reply(WebhookStatus.InvalidBody, undefined, 'Body is not valid JSON');
    }
    const parsed = parseCohortSyncBody(json);
    if (!parsed.ok) return reply(WebhookStatus.InvalidBody, parsed.action, problemsMessage(parsed.problems));
    const { page } = parsed;

    const project = options.resolveProject(page.projectId);
    if (!project) return reply(WebhookStatus.UnknownProject, page.action, `Mixpanel project ${page.projectId} is not served by this gateway`);

    const at = now();
    const cohort = JSON.stringify([project.projectId, page.cohortId]);
    const previous = cohortTails.get(cohort) ?? Promise.resolve();
    const applied = previous.then(() => project.store.applyPage(page, at));
    const handled = applied.then((result) => publishChanges(project.projectId, result, at));
    const published = applied.then((result) => publishRest(project.projectId, page, result, at)).catch(() => undefined);
    cohortTails.set(cohort, published);
    void published.then(() => {
      if (cohortTails.get(cohort) === published) cohortTails.delete(cohort);
    });
    try {
      await withTimeout(handled, applyTimeoutMs);
    } catch (error) {
      onError(error);
      if (error instanceof WebhookTimeoutError) handled.catch(onError);
      return reply(WebhookStatus.Unavailable, page.action, 'Cohort membership could not be stored right now; retry later', { 'retry-after': '5' });
    }
    sweepSessions(project.store, at);
    return reply(WebhookStatus.Success, page.action);
  };

  return {
    onRequest({ request, url, endResponse, serverContext }) {
      if (url.pathname !== config.path) return;
      return handle(request, serverContext).then(endResponse);
    },
  };
}

/**
 * Basic-auth check comparing SHA-256 digests in constant time, so neither the
 * credentials nor their length leak through timing. Open when no credentials are configured.
 */
function createCredentialCheck(config: WebhookConfig): (authorization: string | null) => boolean {
  if (config.username === undefined && (config.password === undefined || config.password.isEmpty)) return () => true;
  const expected = digest(`${config.username ?? ''}:${config.password?.reveal() ?? ''}`);
  return (authorization) => {
    const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(authorization ?? '');
    const given = match ? Buffer.from(match[1]!, 'base64').toString('utf8') : '';
    return timingSafeEqual(digest(given), expected) && match !== null;
  };
}

function peerAddress(_request: Request, serverContext: unknown): string {
  const req = (serverContext as { req?: { socket?: { remoteAddress?: string } } } | undefined)?.req;
  return req?.socket?.remoteAddress ?? 'unknown';
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** Reads the body as text, refusing it as soon as it passes `limit` bytes (declared or actual). */
async function readBody(request: Request, limit: number): Promise<string> {
  const declared = Number(request.headers.get('content-length') ?? Number.NaN);
  if (declared > limit) throw new BodyTooLargeError();
  if (!request.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      throw new BodyTooLargeError();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function problemsMessage(problems: readonly string[]): string {
  const listed = problems.slice(0, MAX_PROBLEMS_IN_MESSAGE).join('; ');
  const more = problems.length - MAX_PROBLEMS_IN_MESSAGE;
  return `Invalid cohort-sync body: ${listed}${more > 0 ? `; and ${more} more` : ''}`;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new WebhookTimeoutError(ms)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
