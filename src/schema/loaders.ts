/**
 * The schema's upstream reads. Each asks the project runtime for data by
 * endpoint name (src/upstream/endpoints.ts describes every endpoint once)
 * or by entity (profiles, activity, cohort members, shared by every request
 * of the project); none reaches the raw client. The batch functions here
 * back the per-request loaders the domain files declare.
 */
import type { Context } from './context.js';
import { NotFoundError } from '../core/errors.js';
import { BACKGROUND_PRIORITY } from '../limits/defaults.js';
import { RateLimitedError } from '../mixpanel/errors.js';
import type { CohortRecord, EngagePage, EngageParams, EngageProfile, ExportParams, Annotation, LexiconSchemaEntry } from '../mixpanel/types.js';
import type { CallContext } from '../runtime/types.js';
import { ENGAGE_PAGE_SIZE as PAGE_SIZE, type EndpointName, type ParamsOf, type ResultOf } from '../upstream/endpoints.js';

/** Profiles per engage page (https://developer.mixpanel.com/reference/engage-query). */
export const ENGAGE_PAGE_SIZE = PAGE_SIZE;

export interface ProfileShape {
  readonly distinctId: string;
  readonly properties: Readonly<Record<string, unknown>>;
  /** False when only some properties are known (a webhook member); the rest load by distinct id. */
  readonly complete: boolean;
  /** Set on group profiles: the group key they were loaded under. */
  readonly groupKey?: string;
  /** When the gateway read it from Mixpanel (epoch ms); undefined when not known (a webhook member, a page of a list). */
  readonly fetchedAt?: number;
  /** True when served past its cache TTL because a fresh read did not fit the budget. */
  readonly stale?: boolean;
}

export interface EventShape {
  readonly name: string;
  /** Epoch ms. */
  readonly time: number;
  readonly distinctId: string | null;
  readonly insertId: string | null;
  readonly properties: Readonly<Record<string, unknown>>;
}

export interface CohortShape {
  readonly id: string;
  readonly name: string;
  readonly description: string | null;
  readonly count: number | null;
  /** Mixpanel's `created`, "yyyy-mm-dd hh:mm:ss" UTC. */
  readonly created: string | null;
  readonly isVisible: boolean | null;
  readonly projectId: string;
}

/** One call of a described endpoint, within this request's deadline and signal. */
export function read<E extends EndpointName>(ctx: Context, endpoint: E, params: ParamsOf<E>): Promise<ResultOf<E>> {
  return ctx.project.fetch(endpoint, params, ctx.upstream);
}

/** One analytics call of the Query family; the endpoint's description picks the TTL from the range. */
export function analytics<E extends EndpointName>(ctx: Context, endpoint: E, params: ParamsOf<E>): Promise<ResultOf<E>> {
  return read(ctx, endpoint, params);
}

// ---------- profiles (engage) ----------

export function engagePage(ctx: Context, params: EngageParams): Promise<EngagePage> {
  return read(ctx, 'engage', params);
}

/** Every page of one engage query (a session), in order. */
export async function engageAll(ctx: Context, params: EngageParams): Promise<EngageProfile[]> {
  const profiles: EngageProfile[] = [];
  let page = await engagePage(ctx, params);
  for (;;) {
    profiles.push(...page.results);
    const done = page.results.length < page.page_size || (page.total !== undefined && page.total <= page.page_size * (page.page + 1));
    if (done || page.results.length === 0) return profiles;
    page = await engagePage(ctx, { ...params, sessionId: page.session_id, page: page.page + 1 });
  }
}

export function toProfile(profile: EngageProfile, groupKey?: string): ProfileShape {
  return {
    distinctId: String(profile.$distinct_id),
    properties: profile.$properties,
    complete: true,
    ...(groupKey === undefined ? {} : { groupKey }),
  };
}

/**
 * Profiles by distinct id, in the order asked: each the profile, null when
 * Mixpanel does not know the id (the field says NotFoundError for it alone),
 * or the error that kept it from being read. The runtime merges these reads
 * with those of every other request and sends only ids nobody fetched recently.
 */
export async function loadProfiles(ctx: Context, distinctIds: readonly string[], groupKey?: string): Promise<(ProfileShape | null | Error)[]> {
  const found = await ctx.project.profiles(distinctIds, groupKey, ctx.upstream);
  return distinctIds.map((id) => {
    const result = found.get(id);
    if (result === undefined) return null;
    if (result instanceof Error) return result;
    return { ...toProfile(result.value, groupKey), fetchedAt: result.fetchedAt, ...(result.stale ? { stale: true } : {}) };
  });
}

/** One group profile, or NotFoundError. */
export async function loadGroupProfile(ctx: Context, groupKey: string, groupId: string): Promise<ProfileShape> {
  const [profile] = await loadProfiles(ctx, [groupId], groupKey);
  if (profile instanceof Error) throw profile;
  if (!profile) throw new NotFoundError('GroupProfile', `${groupKey}/${groupId}`);
  return profile;
}

// ---------- cohorts ----------

export function cohortList(ctx: Context): Promise<CohortRecord[]> {
  return read(ctx, 'cohortsList', {});
}

export function toCohort(record: CohortRecord): CohortShape {
  return {
    id: String(record.id),
    name: record.name,
    description: record.description,
    count: record.count,
    created: record.created,
    isVisible: record.is_visible === 1,
    projectId: String(record.project_id),
  };
}

/**
 * Cohorts by id: the cohorts list (one cached call), plus cohorts known only
 * from webhook syncs (Mixpanel keeps syncing a cohort the list no longer shows).
 */
export async function loadCohorts(ctx: Context, ids: readonly string[]): Promise<CohortShape[]> {
  const projectId = ctx.project.config.projectId;
  const records = new Map((await cohortList(ctx)).map((record) => [String(record.id), toCohort(record)]));
  const found = await Promise.all(
    ids.map(async (id): Promise<CohortShape[]> => {
      const record = records.get(id);
      if (record) return [record];
      const state = await ctx.project.membership.syncState(projectId, id);
      return state ? [{ id, name: state.cohortName, description: null, count: null, created: null, isVisible: null, projectId }] : [];
    }),
  );
  return found.flat();
}

/**
 * Cohort ids each profile belongs to, using only documented reads:
 * webhook-synced cohorts come from the membership store (no REST call,
 * https://docs.mixpanel.com/docs/cohort-sync/webhooks); every other
 * non-empty cohort is read whole with engage's `filter_by_cohort` alone (the
 * way https://developer.mixpanel.com/reference/cohorts-list documents for
 * listing a cohort's users), and that member set is cached for the project:
 * every later request, whatever profiles it asks about, reads it for free.
 *
 * An operation starts at most max(`economy.profileCohortsMaxCalls`, half of
 * the hour's Query calls left above the interactive reserve) cohort reads,
 * the cohorts list included: plenty while the budget is fresh, a few when it
 * is scarce, never the whole window. When more cohorts are unread, they are
 * read in the background at low priority (never spending the interactive
 * reserve) and the field fails with RateLimitedError saying when to retry,
 * rather than spending the hour's budget on one field.
 */
export async function loadCohortIdsOfProfiles(ctx: Context, distinctIds: readonly string[], among: readonly string[] | undefined): Promise<string[][]> {
  const maxCalls = Math.max(ctx.project.economy.profileCohortsMaxCalls, ctx.project.spareCalls('query'));
  const projectId = ctx.project.config.projectId;
  const wanted = among ? new Set(among) : undefined;
  const [records, synced] = await Promise.all([cohortList(ctx), ctx.project.membership.syncedCohorts(projectId)]);
  const syncedIds = new Set(synced.map((state) => state.cohortId));
  const memberships = new Map(distinctIds.map((id) => [id, new Set<string>()]));
  const add = (distinctId: string, cohortId: string) => {
    if (!wanted || wanted.has(cohortId)) memberships.get(distinctId)?.add(cohortId);
  };

  if (syncedIds.size > 0) {
    const stored = await ctx.project.membership.cohortsOf(projectId, distinctIds);
    for (const [distinctId, cohortIds] of stored) for (const cohortId of cohortIds) add(distinctId, cohortId);
  }
  const unsynced = records.filter((record) => record.count > 0 && !syncedIds.has(String(record.id)) && (!wanted || wanted.has(String(record.id))));
  const reads = await cohortReadPlan(ctx, unsynced, maxCalls);
  const results = await Promise.all(reads.now.map((record) => ctx.project.cohortMembers(String(record.id), ctx.upstream)));
  results.forEach((result, index) => {
    const cohortId = String(reads.now[index]!.id);
    for (const distinctId of distinctIds) if (result.members.has(distinctId)) add(distinctId, cohortId);
  });
  if (reads.later.length > 0) {
    const background: CallContext = {
      ...ctx.upstream,
      signal: new AbortController().signal,
      priority: BACKGROUND_PRIORITY,
      deadline: Date.now() + BACKGROUND_COHORT_DEADLINE_MS,
    };
    for (const record of reads.later) {
      if (ctx.project.isCohortReadInBackground(String(record.id))) continue;
      void ctx.project.cohortMembers(String(record.id), { ...background, stats: { ...ctx.stats } }).catch(() => undefined);
    }
    throw new RateLimitedError(
      'query',
      BACKGROUND_COHORT_RETRY_MS,
      `Membership of ${reads.later.length} more cohorts is being read in the background (each cohort costs a Mixpanel Query call); retry shortly, or pass \`among\` to check fewer cohorts`,
    );
  }
  return distinctIds.map((id) => [...(memberships.get(id) ?? [])]);
}

/** Deadline of a background cohort read: long enough to queue behind interactive calls. */
const BACKGROUND_COHORT_DEADLINE_MS = 10 * 60_000;
/** What the field suggests as the retry delay while background reads run. */
const BACKGROUND_COHORT_RETRY_MS = 5_000;

/** Which cohort reads this operation may start now (cached ones are free); the rest are read later. */
async function cohortReadPlan(ctx: Context, unsynced: readonly CohortRecord[], maxCalls: number): Promise<{ now: CohortRecord[]; later: CohortRecord[] }> {
  const now: CohortRecord[] = [];
  const later: CohortRecord[] = [];
  // The cohorts list is one of the calls this field may cost.
  let calls = 1;
  for (const record of unsynced) {
    const cohortId = String(record.id);
    if (!ctx.project.isCohortCached(cohortId) && ctx.project.isCohortReadInBackground(cohortId)) {
      later.push(record);
      continue;
    }
    const cost = ctx.project.isCohortCached(cohortId) ? 0 : Math.max(1, Math.ceil(record.count / ENGAGE_PAGE_SIZE));
    if (cost === 0 || calls + cost <= maxCalls) {
      now.push(record);
      calls += cost;
    } else later.push(record);
  }
  return { now, later };
}

// ---------- events ----------

/** Mixpanel sends seconds unless asked for ms; anything this small is seconds. */
function toEpochMs(time: unknown): number {
  const value = typeof time === 'number' ? time : Number(time);
  if (!Number.isFinite(value)) return 0;
  return value < 100_000_000_000 ? value * 1000 : value;
}

function stringOrNull(value: unknown): string | null {
  return typeof value === 'string' || typeof value === 'number' ? String(value) : null;
}

export function toEvent(event: { readonly event: string; readonly properties: Readonly<Record<string, unknown>> }): EventShape {
  const { properties } = event;
  return {
    name: event.event,
    time: toEpochMs(properties['time']),
    distinctId: stringOrNull(properties['distinct_id'] ?? properties['$distinct_id']),
    insertId: stringOrNull(properties['$insert_id']),
    properties,
  };
}

/**
 * The export stream, read only up to `params.limit` events: the body is
 * never read further, so memory and transfer stay bounded.
 */
export async function exportEvents(ctx: Context, params: ExportParams & { readonly limit: number }): Promise<EventShape[]> {
  return (await read(ctx, 'exportEvents', params)).map(toEvent);
}

/** Activity of many profiles over a range, merged with other requests' into /stream/query calls, grouped by distinct id. */
export async function loadActivity(ctx: Context, distinctIds: readonly string[], fromDate: string, toDate: string): Promise<EventShape[][]> {
  const byId = await ctx.project.activity(distinctIds, fromDate, toDate, ctx.upstream);
  return distinctIds.map((id) => (byId.get(id) ?? []).map(toEvent).sort((a, b) => a.time - b.time));
}

// ---------- lexicon ----------

/** Every Lexicon schema of the project: one cached call serves all definitions of a request. */
export function lexiconEntries(ctx: Context): Promise<LexiconSchemaEntry[]> {
  return read(ctx, 'lexiconList', {});
}

// ---------- annotations ----------

export function annotationsList(ctx: Context, params: { readonly fromDate?: string; readonly toDate?: string }): Promise<Annotation[]> {
  return read(ctx, 'annotationsList', params);
}

export function annotationGet(ctx: Context, id: number): Promise<Annotation> {
  return read(ctx, 'annotationGet', { id });
}
