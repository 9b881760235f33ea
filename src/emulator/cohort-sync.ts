/**
 * The sending side of Mixpanel's cohort sync to a custom webhook
 * (https://docs.mixpanel.com/docs/cohort-sync/webhooks): a full `members` export on the
 * first sync, then `add_members` / `remove_members` diffs against the last
 * successful snapshot, 1000 members a page, 5 retries per sync on 429/5xx,
 * pause on 400/401/403/404, and a page counts as delivered only when the
 * receiver answers the documented `{"action", "status": "success"}`. It only needs a URL, so it drives any receiver, not just
 * the gateway's.
 */
import { randomUUID } from 'node:crypto';
import type { SyncAction } from '../membership/types.js';
import type { Secret } from '../core/secret.js';
import type { EmulatorProfile } from './types.js';

/** A cohort member as the sender knows it; `properties` are the extra "Properties to Export". */
export interface SenderMember {
  readonly distinctId: string;
  readonly email?: string | undefined;
  readonly firstName?: string | undefined;
  readonly lastName?: string | undefined;
  readonly phoneNumber?: string | undefined;
  readonly properties?: Readonly<Record<string, unknown>> | undefined;
}

/** One member as it goes on the wire. */
export interface WebhookMember {
  readonly email?: string;
  readonly mixpanel_distinct_id: string;
  readonly first_name?: string;
  readonly last_name?: string;
  readonly phone_number?: string;
  readonly [property: string]: unknown;
}

/** The exact JSON body of one webhook call. */
export interface CohortSyncPayload {
  readonly action: SyncAction;
  readonly parameters: {
    readonly mixpanel_project_id: string;
    readonly mixpanel_cohort_id: string;
    readonly mixpanel_cohort_name: string;
    readonly mixpanel_cohort_description: string;
    readonly mixpanel_session_id: string;
    readonly page_info: { readonly total_pages: number; readonly page_count: number };
    readonly members: readonly WebhookMember[];
  };
}

/** Order in which the pages of one session go out: a test hook for receivers that must cope with reordering. */
export type PageOrder = 'in-order' | 'reversed' | 'shuffled';

export interface CohortSyncInput {
  readonly projectId: string | number;
  readonly cohortId: string | number;
  readonly cohortName: string;
  readonly cohortDescription?: string | undefined;
  /** The cohort's current membership. Duplicated distinct ids keep the last entry. */
  readonly members: readonly SenderMember[];
  /** Send a full `members` export even when a valid snapshot exists. Default false. */
  readonly full?: boolean | undefined;
  /** Default 'in-order'. */
  readonly order?: PageOrder | undefined;
}

/** One HTTP attempt and what the receiver answered. */
export interface DeliveryRecord {
  readonly action: SyncAction;
  readonly pageCount: number;
  readonly totalPages: number;
  readonly attempt: number;
  /** HTTP status; undefined when the request never got a response. */
  readonly status: number | undefined;
  /** Parsed JSON body when it was JSON, otherwise the text. */
  readonly body: unknown;
  readonly error?: string;
}

export type CohortSyncStatus = 'ok' | 'failed' | 'paused';

export interface CohortSyncResult {
  readonly status: CohortSyncStatus;
  /** Session id shared by the pages of this export; undefined when nothing was attempted. */
  readonly sessionId: string | undefined;
  /** Pages the receiver accepted. */
  readonly pagesSent: number;
  /** HTTP requests made, retries included. */
  readonly attempts: number;
  readonly responses: readonly DeliveryRecord[];
  /** Why the sync failed or is paused. */
  readonly error?: string;
}

export interface CohortSyncState {
  /** Set while syncs of this cohort are paused by a non-transient receiver error. */
  readonly paused?: { readonly status: number; readonly message: string };
  /** Members in the last successful snapshot; undefined when there is none (or it expired). */
  readonly snapshotSize?: number;
  readonly lastSessionId?: string;
}

export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

export interface CohortSyncSenderOptions {
  /** The receiver's webhook URL. */
  readonly url: string;
  /** Basic credentials sent on every call when set (the "Basic Authentication" toggle). Default: none. */
  readonly basicAuth?: { readonly username: string; readonly password: Secret } | undefined;
  /** Members per page. Default 1000, Mixpanel's batch size. */
  readonly pageSize?: number | undefined;
  /**
   * Waits before each retry of a page answered with 429/5xx or a network error; its length is the
   * number of retries of one sync, all pages together. Default [2000, 4000, 8000, 16000, 30000]: 5 retries
   * with exponential backoff over 60 s. After the last one the sync fails and the snapshot does not advance.
   */
  readonly retryDelaysMs?: readonly number[] | undefined;
  /** Sleeps between retries. Default: a timer. */
  readonly sleep?: ((ms: number) => Promise<void>) | undefined;
  /** HTTP transport. Default: the global fetch (undici). */
  readonly fetch?: FetchLike | undefined;
  /** Per-request timeout; a timeout counts as a network error (retried). Default 30000. */
  readonly requestTimeoutMs?: number | undefined;
  /** How long the last successful snapshot serves as the diff base. Default 3 days, as Mixpanel keeps it. */
  readonly snapshotTtlMs?: number | undefined;
  /** Clock for the snapshot TTL. Default Date.now. */
  readonly now?: (() => number) | undefined;
  /** Random source for the 'shuffled' order. Default Math.random. */
  readonly random?: (() => number) | undefined;
}

export type RedeliveryScope = 'last-page' | 'session';

export interface CohortSyncSender {
  /** Runs one scheduled sync of a cohort. Syncs run one at a time, as on one Mixpanel connection. */
  sync(input: CohortSyncInput): Promise<CohortSyncResult>;
  /**
   * Test hook: sends the bodies of the cohort's last session again, unchanged (same session id and
   * page_info), as Mixpanel does when it restarts a sync. 'last-page' resends the last page that was
   * accepted; 'session' every page of the session. Snapshots are not touched.
   */
  redeliver(cohortId: string | number, scope: RedeliveryScope): Promise<CohortSyncResult>;
  /** Lifts a pause; the next sync is a full `members` export. */
  resume(cohortId: string | number): void;
  state(cohortId: string | number): CohortSyncState;
}

const NON_TRANSIENT_STATUSES = new Set([400, 401, 403, 404]);
const DEFAULT_RETRY_DELAYS_MS = [2000, 4000, 8000, 16000, 30000] as const;
const THREE_DAYS_MS = 3 * 24 * 60 * 60 * 1000;

interface Snapshot {
  readonly members: ReadonlyMap<string, SenderMember>;
  readonly at: number;
}

interface CohortState {
  snapshot: Snapshot | undefined;
  paused: { status: number; message: string } | undefined;
  /** The last session's bodies in sending order, and how many were accepted. */
  lastSession: { payloads: CohortSyncPayload[]; accepted: CohortSyncPayload[] } | undefined;
}

type Outcome = { kind: 'ok' } | { kind: 'retry' | 'fail'; message: string } | { kind: 'pause'; status: number; message: string };

export function createCohortSyncSender(options: CohortSyncSenderOptions): CohortSyncSender {
  const pageSize = options.pageSize ?? 1000;
  if (!Number.isInteger(pageSize) || pageSize < 1) throw new RangeError('pageSize must be a positive integer');
  const retryDelaysMs = options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const transport: FetchLike = options.fetch ?? ((url, init) => fetch(url, init));
  const requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
  const snapshotTtlMs = options.snapshotTtlMs ?? THREE_DAYS_MS;
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (options.basicAuth) {
    const credentials = `${options.basicAuth.username}:${options.basicAuth.password.reveal()}`;
    headers.authorization = `Basic ${Buffer.from(credentials).toString('base64')}`;
  }

  const cohorts = new Map<string, CohortState>();
  // Syncs on one connection run sequentially (https://docs.mixpanel.com/docs/cohort-sync, "Delay in Sync").
  let queue: Promise<unknown> = Promise.resolve();
  const serialize = <T>(task: () => Promise<T>): Promise<T> => {
    const run = queue.then(task, task);
    queue = run.catch(() => undefined);
    return run;
  };

  const stateOf = (cohortId: string): CohortState => {
    let state = cohorts.get(cohortId);
    if (!state) {
      state = { snapshot: undefined, paused: undefined, lastSession: undefined };
      cohorts.set(cohortId, state);
    }
    return state;
  };

  const validSnapshot = (state: CohortState): Snapshot | undefined =>
    state.snapshot && now() - state.snapshot.at <= snapshotTtlMs ? state.snapshot : undefined;

  const pausedResult = (paused: { status: number; message: string }): CohortSyncResult => ({
    status: 'paused',
    sessionId: undefined,
    pagesSent: 0,
    attempts: 0,
    responses: [],
    error: `sync paused after HTTP ${paused.status}: ${paused.message}; call resume() to sync again`,
  });

  async function post(payload: CohortSyncPayload, attempt: number): Promise<{ record: DeliveryRecord; outcome: Outcome }> {
    const base = {
      action: payload.action,
      pageCount: payload.parameters.page_info.page_count,
      totalPages: payload.parameters.page_info.total_pages,
      attempt,
    };
    let response: Response;
    let text: string;
    try {
      response = await transport(options.url, {
        method: 'POST',
        headers,
        body: JSON.stringify(payload),
        signal: AbortSignal.timeout(requestTimeoutMs),
      });
      text = await response.text();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return { record: { ...base, status: undefined, body: undefined, error: message }, outcome: { kind: 'retry', message } };
    }
    const body = parseBody(text);
    return { record: { ...base, status: response.status, body }, outcome: classify(response.status, body, payload.action) };
  }

  /** Sends pages in order, retrying each; stops at the first page that cannot be delivered. */
  async function deliver(state: CohortState, payloads: readonly CohortSyncPayload[], sessionId: string | undefined) {
    const responses: DeliveryRecord[] = [];
    const accepted: CohortSyncPayload[] = [];
    let attempts = 0;
    const result = (status: CohortSyncStatus, error?: string): CohortSyncResult => ({
      status,
      sessionId,
      pagesSent: accepted.length,
      attempts,
      responses,
      ...(error === undefined ? {} : { error }),
    });
    // "We retry syncs 5 times over 60 secs": the retries are the sync's, shared by all its pages.
    let retries = 0;
    for (const payload of payloads) {
      let delivered = false;
      for (let attempt = 1; !delivered; attempt += 1) {
        attempts += 1;
        const { record, outcome } = await post(payload, attempt);
        responses.push(record);
        if (outcome.kind === 'ok') {
          delivered = true;
          accepted.push(payload);
        } else if (outcome.kind === 'pause') {
          state.paused = { status: outcome.status, message: outcome.message };
          return { result: result('paused', `receiver answered HTTP ${outcome.status}: ${outcome.message}; sync paused`), accepted };
        } else if (outcome.kind === 'fail' || retries >= retryDelaysMs.length) {
          return { result: result('failed', outcome.message), accepted };
        } else {
          await sleep(retryDelaysMs[retries] ?? 0);
          retries += 1;
        }
      }
    }
    return { result: result('ok'), accepted };
  }

  async function runSync(input: CohortSyncInput): Promise<CohortSyncResult> {
    const cohortId = String(input.cohortId);
    const state = stateOf(cohortId);
    if (state.paused) return pausedResult(state.paused);

    const current = new Map<string, SenderMember>();
    for (const member of input.members) current.set(member.distinctId, member);
    const snapshot = input.full ? undefined : validSnapshot(state);
    const sessionId = randomUUID();
    const batches: { action: SyncAction; members: readonly SenderMember[] }[] = snapshot
      ? [
          ...paginate(
            'add_members',
            [...current.values()].filter((m) => !snapshot.members.has(m.distinctId)),
            pageSize,
          ),
          ...paginate(
            'remove_members',
            [...snapshot.members.values()].filter((m) => !current.has(m.distinctId)),
            pageSize,
          ),
        ]
      : paginate('members', [...current.values()], pageSize);
    // page_info counts every message of the session (docs: "the number of total messages for the
    // given session ID"), so a diff's add and remove pages are numbered as one sequence.
    const payloads = batches.map(
      (batch, index): CohortSyncPayload => ({
        action: batch.action,
        parameters: {
          mixpanel_project_id: String(input.projectId),
          mixpanel_cohort_id: cohortId,
          mixpanel_cohort_name: input.cohortName,
          mixpanel_cohort_description: input.cohortDescription ?? '',
          mixpanel_session_id: sessionId,
          page_info: { total_pages: batches.length, page_count: index + 1 },
          members: batch.members.map(toWebhookMember),
        },
      }),
    );
    const ordered = reorder(payloads, input.order ?? 'in-order', random);
    const { result, accepted } = await deliver(state, ordered, sessionId);
    state.lastSession = { payloads: ordered, accepted };
    // A failed sync leaves the snapshot alone: the next one diffs against the last success again.
    if (result.status === 'ok') state.snapshot = { members: current, at: now() };
    return result;
  }

  async function runRedelivery(cohortId: string, scope: RedeliveryScope): Promise<CohortSyncResult> {
    const state = stateOf(cohortId);
    if (state.paused) return pausedResult(state.paused);
    const session = state.lastSession;
    const last = session?.accepted.at(-1);
    const payloads = scope === 'session' ? (session?.payloads ?? []) : last ? [last] : [];
    if (payloads.length === 0) {
      return { status: 'failed', sessionId: undefined, pagesSent: 0, attempts: 0, responses: [], error: 'nothing to redeliver for this cohort' };
    }
    return (await deliver(state, payloads, payloads[0]?.parameters.mixpanel_session_id)).result;
  }

  return {
    sync: (input) => serialize(() => runSync(input)),
    redeliver: (cohortId, scope) => serialize(() => runRedelivery(String(cohortId), scope)),
    resume(cohortId) {
      const state = stateOf(String(cohortId));
      state.paused = undefined;
      // Mixpanel refreshes the receiver with a full export after errors (docs: `members` "to refresh
      // the cohort if there are any intermediate errors").
      state.snapshot = undefined;
    },
    state(cohortId) {
      const state = cohorts.get(String(cohortId));
      if (!state) return {};
      const snapshot = validSnapshot(state);
      const lastSessionId = state.lastSession?.payloads[0]?.parameters.mixpanel_session_id;
      return {
        ...(state.paused ? { paused: { ...state.paused } } : {}),
        ...(snapshot ? { snapshotSize: snapshot.members.size } : {}),
        ...(lastSessionId ? { lastSessionId } : {}),
      };
    },
  };
}

/**
 * An emulated profile as a webhook member: email and names from `$email`, `$first_name`,
 * `$last_name` (and `$phone` when exported), plus the named "Properties to Export".
 */
export function toSenderMember(profile: EmulatorProfile, exportedProperties: readonly string[] = []): SenderMember {
  const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
  const { properties } = profile;
  const extra = exportedProperties.filter((name) => name in properties).map((name) => [name, properties[name]] as const);
  return {
    distinctId: profile.distinctId,
    email: text(properties.$email),
    firstName: text(properties.$first_name),
    lastName: text(properties.$last_name),
    phoneNumber: text(properties.$phone),
    ...(extra.length > 0 ? { properties: Object.fromEntries(extra) } : {}),
  };
}

/** Splits members into pages; an empty list still makes one empty page, as Mixpanel sends empty diffs. */
function paginate(action: SyncAction, members: readonly SenderMember[], pageSize: number) {
  const pages: { action: SyncAction; members: readonly SenderMember[] }[] = [];
  for (let start = 0; start < members.length; start += pageSize) pages.push({ action, members: members.slice(start, start + pageSize) });
  return pages.length > 0 ? pages : [{ action, members: [] }];
}

function toWebhookMember(member: SenderMember): WebhookMember {
  // The docs do not say what is sent for a missing email or name; absent fields are left out.
  return {
    ...member.properties,
    ...(member.email === undefined ? {} : { email: member.email }),
    mixpanel_distinct_id: member.distinctId,
    ...(member.firstName === undefined ? {} : { first_name: member.firstName }),
    ...(member.lastName === undefined ? {} : { last_name: member.lastName }),
    ...(member.phoneNumber === undefined ? {} : { phone_number: member.phoneNumber }),
  };
}

function reorder<T>(items: readonly T[], order: PageOrder, random: () => number): T[] {
  if (order === 'reversed') return [...items].reverse();
  const copy = [...items];
  if (order === 'shuffled') {
    for (let i = copy.length - 1; i > 0; i -= 1) {
      const j = Math.floor(random() * (i + 1));
      [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
    }
  }
  return copy;
}

function parseBody(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Maps a receiver answer to Mixpanel's reaction (https://docs.mixpanel.com/docs/cohort-sync/webhooks#failed-syncs). */
function classify(status: number, body: unknown, action: SyncAction): Outcome {
  if (status >= 200 && status < 300) {
    const failure = reportedFailure(body);
    if (!failure) {
      // The documented response: {"action": <the action sent>, "status": "success" | "failure"}. Any other 2xx body
      // is not an acknowledgement; the sync fails (without pausing: the docs name no status for it).
      const answer = typeof body === 'object' && body !== null ? (body as { action?: unknown; status?: unknown }) : undefined;
      if (answer?.status === 'success' && answer.action === action) return { kind: 'ok' };
      return { kind: 'fail', message: `receiver answered HTTP ${status} without the documented {"action":"${action}","status":"success"} body` };
    }
    // A 2xx carrying {"status":"failure"}: the docs say error.code is an HTTP status, so it is
    // classified like one; without a usable code the page simply failed.
    return failure.code !== undefined && (failure.code < 200 || failure.code >= 300)
      ? classifyError(failure.code, failure.message)
      : { kind: 'fail', message: failure.message };
  }
  return classifyError(status, errorMessage(body) ?? `HTTP ${status}`);
}

function classifyError(status: number, message: string): Outcome {
  if (NON_TRANSIENT_STATUSES.has(status)) return { kind: 'pause', status, message };
  if (status === 429 || status >= 500) return { kind: 'retry', message };
  // Other statuses: the docs name only the paused and the retried ones; the sync fails without pausing.
  return { kind: 'fail', message };
}

function reportedFailure(body: unknown): { code: number | undefined; message: string } | undefined {
  if (typeof body !== 'object' || body === null || (body as { status?: unknown }).status !== 'failure') return undefined;
  const error = (body as { error?: { code?: unknown } }).error;
  const code = typeof error?.code === 'number' ? error.code : undefined;
  return { code, message: errorMessage(body) ?? 'receiver reported failure' };
}

function errorMessage(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return typeof body === 'string' && body.length > 0 ? body.slice(0, 200) : undefined;
  const message = (body as { error?: { message?: unknown } }).error?.message;
  return typeof message === 'string' ? message : undefined;
}
