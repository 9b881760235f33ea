/**
 * Data by entity, for the whole project: profiles by distinct id, activity
 * streams by distinct id, and the members of a cohort. Each source reads the
 * entity cache first, sends only what nobody fetched recently, merges its
 * reads with those of every other request (src/upstream/batcher.ts), and
 * serves stale entries, saying so, when a fresh read does not fit the budget.
 */
import type { EntityCache, EntityEntry, EntityKind } from '../cache/entity-cache.js';
import type { SharedReads } from '../cache/shared-reads.js';
import type { RequestStats } from '../limits/types.js';
import { MixpanelError, RateLimitedError } from '../mixpanel/errors.js';
import type { ApiFamily, EngagePage, EngageProfile, StreamEvent } from '../mixpanel/types.js';
import type { CallContext } from './call-context.js';
import { createBatcher, type BatchRun, type BatchWaiter, type Batcher } from './batcher.js';
import type { ProfileReadAhead } from './profile-read-ahead.js';
import { ENDPOINTS, ENGAGE_MERGE, STREAM_MERGE, type EndpointName, type ParamsOf, type ResultOf } from './endpoints.js';

/** How a source sends one call: through the budget, counted against `opener`. */
export type Send = <E extends EndpointName>(
  endpoint: E,
  /** Called when the budget grants the slot: a merged call's ids are final only then. */
  params: () => ParamsOf<E>,
  options: { readonly deadline: number; readonly priority: number; readonly signal: AbortSignal; readonly opener: BatchWaiter },
) => Promise<ResultOf<E>>;

export interface SourceOptions {
  readonly project: string;
  readonly entities: EntityCache;
  readonly send: Send;
  /** Whether reads of different requests merge. */
  readonly coalesce: boolean;
  /** The merge window of a family now, in ms (0 when its budget is plentiful). */
  readonly windowMs: (family: ApiFamily) => number;
  readonly maxWaitMs: number;
  /** How long a found entity is fresh, and how long it stays servable as stale after. */
  readonly ttlMs: number;
  readonly staleMs: number;
  /** How long "Mixpanel does not know this id" is remembered. */
  readonly absentTtlMs: number;
  /** Whether the family's budget is down to its interactive reserve: stale data is then served before spending it. */
  readonly scarce: (family: ApiFamily) => boolean;
  readonly onBatch?: (endpoint: EndpointName, size: number, waitMs: number, requests: number) => void;
  readonly onStale?: (kind: string) => void;
  /** Reads shared with other instances (with REDIS_URL): asked before this instance reads ids itself. Default: none. */
  readonly shared?: SharedReads | undefined;
  readonly now?: () => number;
  /** Timers on the same clock as `now`. Default: the system's. */
  readonly timers?: { setTimeout(callback: () => void, ms: number): unknown; clearTimeout(handle: unknown): void };
}

/** One entity as read: its value, when Mixpanel answered it, and whether it is past its TTL. */
export interface Read<T> {
  readonly value: T;
  readonly fetchedAt: number;
  readonly stale: boolean;
}

/** Per id: the entity, `undefined` when Mixpanel does not know it, or the error that kept it from being read. */
export type ReadResult<T> = Read<T> | undefined | Error;

const waiterOf = (context: CallContext): BatchWaiter => ({
  deadline: context.deadline,
  signal: context.signal,
  stats: context.stats,
  priority: context.priority ?? 0,
  clientId: context.clientId,
});

function noteStale(stats: RequestStats, fetchedAt: number, now: number): void {
  stats.staleAnswers = (stats.staleAnswers ?? 0) + 1;
  const age = Math.max(0, Math.floor((now - fetchedAt) / 1000));
  stats.staleSeconds = Math.max(stats.staleSeconds ?? 0, age);
  stats.maxAgeSeconds = 0;
}

/** A failure that stale data may stand in for: the budget or Mixpanel could not answer now. */
const staleMayServe = (error: unknown): boolean => error instanceof RateLimitedError || (error instanceof MixpanelError && error.retryable);

/**
 * Entities keyed by id within a merge key (e.g. profiles of one group key):
 * cache first, one merged read for the rest, stale as the fallback.
 */
function createEntitySource<T>(
  options: SourceOptions,
  kind: EntityKind,
  family: ApiFamily,
  batcher: Batcher<string, T>,
  /**
   * Called before a merged read of ids that are neither fresh nor stale: a wider read (read-ahead) may
   * bring them. Resolves to a test of "a listing of every entity just now did not have this id"
   * (Mixpanel does not know it), or undefined when there is no such listing.
   */
  beforeRead?: (mergeKey: string, context: CallContext) => Promise<((id: string) => boolean) | undefined> | undefined,
): (mergeKey: string, ids: readonly string[], context: CallContext) => Promise<Map<string, ReadResult<T>>> {
  const now = options.now ?? Date.now;
  return async (mergeKey, ids, context) => {
    const results = new Map<string, ReadResult<T>>();
    const stale = new Map<string, EntityEntry<T>>();
    let missing: string[] = [];
    const lookup = (id: string): boolean => {
      const found = options.entities.lookup<T>(kind, options.project, `${mergeKey}\u0000${id}`);
      if (found.state !== 'fresh') return false;
      context.stats.cacheHits++;
      results.set(id, found.entry.absent ? undefined : { value: found.entry.value as T, fetchedAt: found.entry.fetchedAt, stale: false });
      return true;
    };
    for (const id of new Set(ids)) {
      const found = options.entities.lookup<T>(kind, options.project, `${mergeKey}\u0000${id}`);
      if (found.state === 'fresh') {
        context.stats.cacheHits++;
        results.set(id, found.entry.absent ? undefined : { value: found.entry.value as T, fetchedAt: found.entry.fetchedAt, stale: false });
        continue;
      }
      context.stats.cacheMisses++;
      if (found.state === 'stale') stale.set(id, found.entry);
      missing.push(id);
    }
    if (missing.length === 0) return results;
    const wider = missing.length > stale.size ? beforeRead?.(mergeKey, context) : undefined;
    if (wider) {
      const unlisted = await wider;
      missing = missing.filter((id) => {
        if (lookup(id)) return false;
        if (!unlisted?.(id)) return true;
        // Not in a listing of every entity read a moment ago: Mixpanel does not know it, no call needed.
        options.entities.storeAbsent(kind, options.project, `${mergeKey}\u0000${id}`, options.absentTtlMs);
        results.set(id, undefined);
        return false;
      });
      if (missing.length === 0) return results;
    }
    if (options.shared) {
      // Another instance may have read these ids, or be reading them: their answers land in the entity cache.
      const left = new Set(
        await options.shared.settle({
          kind,
          project: options.project,
          mergeKey,
          ids: missing,
          deadline: context.deadline,
          signal: context.signal,
          // This instance leads the batch: its ids are read on behalf of every instance waiting for them.
          load: (ids) => batcher.load(mergeKey, ids, { ...waiterOf(context), signal: new AbortController().signal }),
        }),
      );
      for (const id of missing.splice(0)) {
        const found = left.has(id) ? undefined : options.entities.lookup<T>(kind, options.project, `${mergeKey}\u0000${id}`);
        if (found?.state === 'fresh') {
          stale.delete(id);
          results.set(id, found.entry.absent ? undefined : { value: found.entry.value as T, fetchedAt: found.entry.fetchedAt, stale: false });
        } else missing.push(id);
      }
      if (missing.length === 0) return results;
    }
    const serveStale = (id: string, error: unknown): void => {
      const entry = stale.get(id);
      if (!entry) {
        results.set(id, error instanceof Error ? error : new Error(String(error)));
        return;
      }
      noteStale(context.stats, entry.fetchedAt, now());
      options.onStale?.(kind);
      results.set(id, entry.absent ? undefined : { value: entry.value as T, fetchedAt: entry.fetchedAt, stale: true });
    };
    // Near exhaustion, what was read a little while ago beats spending the reserve.
    if (stale.size === missing.length && options.scarce(family)) {
      for (const id of missing) serveStale(id, undefined);
      return results;
    }
    try {
      const loaded = await batcher.load(mergeKey, missing, waiterOf(context));
      for (const [id, outcome] of loaded) {
        results.set(id, outcome.found ? { value: outcome.value, fetchedAt: now(), stale: false } : undefined);
      }
    } catch (error) {
      if (context.signal.aborted || !staleMayServe(error)) throw error;
      for (const id of missing) serveStale(id, error);
    }
    return results;
  };
}

/** Stores a merged call's answer per id; an id it did not answer is cached as absent. */
function storeAll<T>(options: SourceOptions, kind: EntityKind, mergeKey: string, ids: readonly string[], found: ReadonlyMap<string, T>): void {
  for (const id of ids) {
    const key = `${mergeKey}\u0000${id}`;
    const value = found.get(id);
    if (value !== undefined) options.entities.store(kind, options.project, key, value, options.ttlMs, options.staleMs);
    else options.entities.storeAbsent(kind, options.project, key, options.absentTtlMs);
  }
}

/** Profiles by distinct id (user profiles, or group profiles of one group key). */
export interface ProfileSource {
  byIds(distinctIds: readonly string[], groupKey: string | undefined, context: CallContext): Promise<Map<string, ReadResult<EngageProfile>>>;
}

/** The merge key of user profiles (no group key). */
export const USER_PROFILES = JSON.stringify({});

export function createProfileSource(options: SourceOptions, readAhead?: ProfileReadAhead): ProfileSource {
  const now = options.now ?? Date.now;
  const batcher = createBatcher<string, EngageProfile>({
    family: ENDPOINTS.engage.family,
    merge: ENGAGE_MERGE,
    enabled: options.coalesce,
    windowMs: () => options.windowMs(ENDPOINTS.engage.family),
    maxWaitMs: options.maxWaitMs,
    now,
    ...(options.timers ? { timers: options.timers } : {}),
    onBatch: (size, waitMs, requests) => options.onBatch?.('engage', size, waitMs, requests),
    async run(batch: BatchRun<string>) {
      const { groupKey } = JSON.parse(batch.mergeKey) as { groupKey?: string };
      let ids: readonly string[] = [];
      // The ids are read when the budget grants the slot: every id that joined while waiting goes along.
      // At most ENGAGE_PAGE_SIZE ids (the batcher's limit): one page answers them all.
      const page: EngagePage = await options.send(
        'engage',
        () => {
          ids = [...batch.take()].sort();
          return { distinctIds: ids, ...(groupKey === undefined ? {} : { dataGroupId: groupKey }) };
        },
        { deadline: batch.deadline, priority: batch.priority, signal: batch.signal, opener: batch.opener },
      );
      const found = new Map<string, EngageProfile>();
      for (const profile of page.results) found.set(String(profile.$distinct_id), profile);
      storeAll(options, 'profile', batch.mergeKey, ids, found);
      return found;
    },
  });
  // User profiles only: group profiles are listed per group key and seldom many.
  const read = createEntitySource(options, 'profile', ENDPOINTS.engage.family, batcher, (mergeKey, context) =>
    mergeKey === USER_PROFILES && readAhead
      ? readAhead.cover(context).then(() => (id: string) => readAhead.listed(id, options.absentTtlMs) === false)
      : undefined,
  );
  return {
    byIds: (distinctIds, groupKey, context) => read(groupKey === undefined ? USER_PROFILES : JSON.stringify({ groupKey }), distinctIds, context),
  };
}

/** Activity streams by distinct id over one date range: one /stream/query call per merged batch. */
export interface ActivitySource {
  byIds(distinctIds: readonly string[], fromDate: string, toDate: string, context: CallContext): Promise<Map<string, StreamEvent[]>>;
}

export function createActivitySource(options: SourceOptions): ActivitySource {
  const now = options.now ?? Date.now;
  const batcher = createBatcher<string, StreamEvent[]>({
    family: ENDPOINTS.streamQuery.family,
    merge: STREAM_MERGE,
    enabled: options.coalesce,
    windowMs: () => options.windowMs(ENDPOINTS.streamQuery.family),
    maxWaitMs: options.maxWaitMs,
    now,
    ...(options.timers ? { timers: options.timers } : {}),
    onBatch: (size, waitMs, requests) => options.onBatch?.('streamQuery', size, waitMs, requests),
    async run(batch) {
      const { fromDate, toDate } = JSON.parse(batch.mergeKey) as { fromDate: string; toDate: string };
      let ids: readonly string[] = [];
      const params = () => {
        ids = [...batch.take()].sort();
        return { fromDate, toDate, distinctIds: ids };
      };
      const events = await options.send('streamQuery', params, {
        deadline: batch.deadline,
        priority: batch.priority,
        signal: batch.signal,
        opener: batch.opener,
      });
      const byId = new Map<string, StreamEvent[]>(ids.map((id) => [id, []]));
      for (const event of events) {
        const id = event.properties['distinct_id'] ?? event.properties['$distinct_id'];
        if (typeof id === 'string' || typeof id === 'number') byId.get(String(id))?.push(event);
      }
      // A profile without events in the range is an answer too: an empty list.
      storeAll(options, 'activity', batch.mergeKey, ids, byId);
      return byId;
    },
  });
  const read = createEntitySource(options, 'activity', ENDPOINTS.streamQuery.family, batcher);
  return {
    async byIds(distinctIds, fromDate, toDate, context) {
      const loaded = await read(JSON.stringify({ fromDate, toDate }), distinctIds, context);
      const out = new Map<string, StreamEvent[]>();
      for (const [id, result] of loaded) {
        if (result instanceof Error) throw result;
        out.set(id, result?.value ?? []);
      }
      return out;
    },
  };
}
