/**
 * The schema's upstream calls. Each builds an UpstreamRequest whose
 * `endpoint` is the client function's name and whose `params` are exactly
 * what the client receives, and sends it through `project.call` (cache ->
 * in-flight sharing -> budget -> client). The batch functions here back the
 * per-request loaders the domain files declare.
 */
import { analyticsKind } from '../cache/response-cache.js';
import type { Context } from '../context.js';
import type {
  ApiFamily,
  CohortRecord,
  EngagePage,
  EngageParams,
  EngageProfile,
  ExportParams,
  ExportedEvent,
  Annotation,
  LexiconSchemaEntry,
} from '../mixpanel/types.js';
import type { CacheKind, ProjectRuntime, UpstreamRequest } from '../runtime-types.js';

/**
 * Profiles per engage page. Mixpanel's default, and the most a page returns
 * for a `distinct_ids` batch (DIGEST.md §3a: `page_size` is undocumented in
 * the spec; 1000 is what Mixpanel answers by default).
 */
export const ENGAGE_PAGE_SIZE = 1000;
/** Mixpanel refuses an export `limit` above this (DIGEST.md §3b). */
export const EXPORT_MAX_LIMIT = 100_000;
/**
 * Export reads are rounded up to whole blocks so that the next few pages of
 * an `events` connection hit the cache instead of spending the 60/hour
 * export budget again; the body is streamed and reading stops at the limit.
 */
export const EXPORT_BLOCK = 1_000;

export interface ProfileShape {
  readonly distinctId: string;
  readonly properties: Readonly<Record<string, unknown>>;
  /** False when only some properties are known (a webhook member); the rest load by distinct id. */
  readonly complete: boolean;
  /** Set on group profiles: the group key they were loaded under. */
  readonly groupKey?: string;
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

function send<T>(
  ctx: Context,
  family: ApiFamily,
  kind: CacheKind,
  endpoint: string,
  params: unknown,
  run: (signal: AbortSignal) => Promise<T>,
  countsAgainstHourly?: boolean,
): Promise<T> {
  return ctx.project.call({ family, kind, endpoint, params, send: run, ...(countsAgainstHourly === false ? { countsAgainstHourly } : {}) }, ctx.upstream);
}

/** One analytics call of the Query family. */
export function analytics<T>(ctx: Context, endpoint: string, params: object, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const toDate = (params as { readonly toDate?: unknown }).toDate;
  const kind: CacheKind = typeof toDate === 'string' ? analyticsKind(toDate, ctx.now(), ctx.project.config.timezone) : 'analyticsToday';
  return send(ctx, 'query', kind, endpoint, params, run);
}

// ---------- profiles (engage) ----------

export function engagePage(ctx: Context, params: EngageParams): Promise<EngagePage> {
  const followOn = (params.page ?? 0) > 0;
  return send(
    ctx,
    'query',
    'profiles',
    'engage',
    params,
    (signal) => ctx.project.client.engage(params, { signal }),
    followOn ? ctx.project.config.countEngageFollowOnPages : true,
  );
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

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Profiles by distinct id: one engage call per 1000 ids. The ids are sorted
 * so the same set of profiles hits the same cache entry whatever the order.
 */
export async function loadProfiles(ctx: Context, distinctIds: readonly string[], groupKey?: string): Promise<ProfileShape[]> {
  const ids = [...new Set(distinctIds)].sort();
  const pages = await Promise.all(
    chunks(ids, ENGAGE_PAGE_SIZE).map((batch) =>
      engageAll(ctx, { distinctIds: batch, ...(groupKey === undefined ? {} : { dataGroupId: groupKey }) }),
    ),
  );
  return pages.flat().map((profile) => toProfile(profile, groupKey));
}

// ---------- cohorts ----------

export function cohortList(ctx: Context): Promise<CohortRecord[]> {
  return send(ctx, 'query', 'cohorts', 'cohortsList', {}, (signal) => ctx.project.client.cohortsList({ signal }));
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
 * Which of `distinctIds` belong to `cohort`, in the fewest engage calls:
 * reading the whole cohort costs ceil(count/1000) calls and is cached for
 * every later request whatever profiles it asks about; asking with
 * `distinct_ids` costs ceil(profiles/1000) calls per cohort. The cheaper wins.
 */
async function membersAmong(ctx: Context, cohort: CohortRecord, distinctIds: readonly string[]): Promise<Set<string>> {
  // One small property keeps the pages light: only the distinct ids matter here.
  const base: EngageParams = { filterByCohort: cohort.id, outputProperties: ['$email'] };
  const wholeCohortCalls = Math.ceil(cohort.count / ENGAGE_PAGE_SIZE);
  const batchedCalls = Math.ceil(distinctIds.length / ENGAGE_PAGE_SIZE);
  const pages =
    wholeCohortCalls <= batchedCalls
      ? [await engageAll(ctx, base)]
      : await Promise.all(chunks([...distinctIds].sort(), ENGAGE_PAGE_SIZE).map((batch) => engageAll(ctx, { ...base, distinctIds: batch })));
  return new Set(pages.flat().map((profile) => String(profile.$distinct_id)));
}

/**
 * Cohort ids each profile belongs to. Webhook-synced cohorts come from the
 * membership store (no REST call); every other non-empty cohort costs the
 * calls `membersAmong` chooses, shared by all profiles of the batch:
 * 1 (cohorts list) + sum over unsynced cohorts of min(ceil(count/1000), ceil(N/1000)).
 */
export async function loadCohortIdsOfProfiles(ctx: Context, distinctIds: readonly string[], among?: readonly string[]): Promise<string[][]> {
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
  const unsynced = records.filter(
    (record) => record.count > 0 && !syncedIds.has(String(record.id)) && (!wanted || wanted.has(String(record.id))),
  );
  await Promise.all(
    unsynced.map(async (record) => {
      for (const distinctId of await membersAmong(ctx, record, distinctIds)) add(distinctId, String(record.id));
    }),
  );
  return distinctIds.map((id) => [...(memberships.get(id) ?? [])]);
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
export function exportEvents(ctx: Context, params: ExportParams & { readonly limit: number }): Promise<EventShape[]> {
  return send(ctx, 'export', 'events', 'exportEvents', params, async (signal) => {
    const events: EventShape[] = [];
    for await (const event of ctx.project.client.exportEvents(params, { signal }) as AsyncIterable<ExportedEvent>) {
      events.push(toEvent(event));
      if (events.length >= params.limit) break;
    }
    return events;
  });
}

/** Activity of many profiles in one /stream/query call, grouped by distinct id. */
export async function loadActivity(ctx: Context, distinctIds: readonly string[], fromDate: string, toDate: string): Promise<EventShape[][]> {
  const params = { distinctIds: [...new Set(distinctIds)].sort(), fromDate, toDate };
  const events = await send(ctx, 'query', 'events', 'streamQuery', params, (signal) => ctx.project.client.streamQuery(params, { signal }));
  const byId = new Map<string, EventShape[]>();
  for (const event of events.map(toEvent)) {
    if (event.distinctId === null) continue;
    const list = byId.get(event.distinctId) ?? [];
    list.push(event);
    byId.set(event.distinctId, list);
  }
  return distinctIds.map((id) => (byId.get(id) ?? []).sort((a, b) => a.time - b.time));
}

// ---------- lexicon ----------

/**
 * The one request that reads the Lexicon list, for the schema's fields and
 * the typed-schema registry alike: they share its cache entry and in-flight call.
 */
export function lexiconListRequest(project: Pick<ProjectRuntime, 'client'>): UpstreamRequest<LexiconSchemaEntry[]> {
  return { family: 'lexicon', kind: 'lexicon', endpoint: 'lexiconList', params: {}, send: (signal) => project.client.lexiconList(undefined, { signal }) };
}

/** Every Lexicon schema of the project: one cached call serves all definitions of a request. */
export function lexiconEntries(ctx: Context): Promise<LexiconSchemaEntry[]> {
  return ctx.project.call(lexiconListRequest(ctx.project), ctx.upstream);
}

/** A Lexicon write: budgeted like every call, never cached. */
export function uploadLexiconSchema(ctx: Context, entry: LexiconSchemaEntry): Promise<void> {
  return send(ctx, 'lexicon', 'none', 'lexiconUploadOne', entry, (signal) =>
    ctx.project.client.lexiconUploadOne(entry.entityType, entry.name, entry.schemaJson, { signal }),
  );
}

// ---------- annotations ----------

export function annotationsList(ctx: Context, params: { readonly fromDate?: string; readonly toDate?: string }): Promise<Annotation[]> {
  return send(ctx, 'app', 'annotations', 'annotationsList', params, (signal) => ctx.project.client.annotationsList(params, { signal }));
}

export function annotationGet(ctx: Context, id: number): Promise<Annotation> {
  return send(ctx, 'app', 'annotations', 'annotationGet', { id }, (signal) => ctx.project.client.annotationGet(id, { signal }));
}

export function annotationCreate(ctx: Context, params: { readonly date: string; readonly description: string; readonly tags?: readonly number[] }): Promise<Annotation> {
  // No params: two identical creates are two annotations, never one shared call.
  return send(ctx, 'app', 'none', 'annotationCreate', undefined, (signal) => ctx.project.client.annotationCreate(params, { signal }));
}
