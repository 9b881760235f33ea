/**
 * A project's runtime: the one path every upstream call takes
 * (entity cache / response cache -> in-flight sharing and cross-request
 * merging -> per-client fair share -> budget -> client). The raw client stays
 * in here: the schema asks for data by endpoint (src/upstream/endpoints.ts).
 */
import { createEntityCache, type EntityCache } from '../cache/entity-cache.js';
import { cacheKey, cacheKeyPrefix, credentialsIdentity } from '../cache/keys.js';
import type { SharedReads } from '../cache/shared-reads.js';
import { analyticsKind, createResponseCache, type BackgroundRefresh, type ResponseCache } from '../cache/response-cache.js';
import type { CacheConfig, EconomyConfig, ProjectConfig } from '../config/types.js';
import { createBudget, systemClock, type BudgetOptions, type Clock } from '../limits/budget.js';
import { BACKGROUND_PRIORITY } from '../limits/defaults.js';
import { burstOf, firstViewReserve } from '../limits/pacing.js';
import { createFairShare } from '../limits/fair-share.js';
import type { BudgetStore } from '../limits/store.js';
import type { MembershipStore } from '../membership/types.js';
import { upstreamOutcome, type Metrics } from '../observability/metrics.js';
import { MixpanelError, RateLimitedError } from '../mixpanel/errors.js';
import type {
  ApiFamily,
  EngagePage,
  EngageParams,
  EventsParams,
  LexiconSchemaEntry,
  MixpanelClient,
  SegmentationParams,
  SeriesResponse,
} from '../mixpanel/types.js';
import type { CacheKind } from '../cache/kinds.js';
import type { CallContext, CohortMembersRead, FetchOptions, ProjectRuntime, UpstreamRequest } from './types.js';
import {
  ENDPOINTS,
  EVENTS_MAX_PER_CALL,
  isPlainSegmentation,
  type EndpointDescription,
  type EndpointName,
  type ParamsOf,
  type ResultOf,
} from '../upstream/endpoints.js';
import { createEventCountSource, type EventCountsRange } from '../upstream/event-counts.js';
import { createProfileReadAhead } from '../upstream/profile-read-ahead.js';
import { createActivitySource, createProfileSource, type Send, type SourceOptions } from '../upstream/sources.js';

/** Economy defaults, as documented on EconomyConfig. */
export const DEFAULT_ECONOMY: EconomyConfig = Object.freeze({
  coalesce: true,
  coalesceWindowMs: 50,
  coalesceMaxWaitMs: 500,
  entityCacheMaxBytes: 32 * 1024 * 1024,
  absentTtlMs: 10_000,
  lastResortMs: 3_600_000,
  pacing: true,
  interactiveReservePercent: 20,
  newcomerReservePercent: 25,
  profileCohortsMaxCalls: 4,
  profileReadAheadMaxPages: 20,
});

/**
 * How long the first read of a cohort's members stays queued for a budget slot after the request that
 * asked gave up (its own deadline): a cohort someone just opened is about to be opened again, and a slot
 * spent on it then answers every later view, where a refused request alone would leave nothing queued.
 */
const FIRST_READ_PATIENCE_MS = 10 * 60_000;

/** How much the merge window grows when the family's window is nearly spent. */
const WINDOW_GROWTH = 4;

export interface ProjectRuntimeOptions {
  readonly config: ProjectConfig;
  /** The project's client; `close()` closes it. */
  readonly client: MixpanelClient;
  /** Cohort membership fed by webhooks; usually shared by projects, so the caller closes it. */
  readonly membership: MembershipStore;
  readonly cacheConfig: CacheConfig;
  /** Merging, entity cache, reserve and fair-share settings. Default DEFAULT_ECONOMY. */
  readonly economy?: EconomyConfig;
  /** The gateway's shared response cache. Default: a cache of this project's own, of `cacheConfig.maxBytes`. */
  readonly cache?: ResponseCache;
  /** The gateway's shared entity cache. Default: one of this project's own, of `economy.entityCacheMaxBytes`. */
  readonly entities?: EntityCache;
  /** Where budget counts live; Redis to share them among instances. Default: memory (this instance only). */
  readonly budgetStore?: BudgetStore;
  /** Time and timers; whatever is left out comes from the system clock. */
  readonly clock?: Partial<Clock>;
  readonly metrics?: Metrics;
  /** Retry, backoff, margin and lease settings of the budget; defaults as documented on BudgetOptions. */
  readonly budget?: Pick<BudgetOptions, 'maxRetries' | 'backoff' | 'safetyMarginMs' | 'leaseMs' | 'pollMs' | 'random'>;
  /** Entity reads shared with other instances on the same Redis (src/cache/shared-reads.ts). Default: none. */
  readonly sharedReads?: SharedReads;
  /** Called after `invalidate(kind)`, e.g. to rebuild what was derived from the dropped data. Default: nothing. */
  readonly onInvalidate?: (kind: CacheKind) => void;
}

export function createProjectRuntime(options: ProjectRuntimeOptions): ProjectRuntime {
  const { config, client, membership, cacheConfig, metrics } = options;
  const economy = options.economy ?? DEFAULT_ECONOMY;
  const clock: Clock = { ...systemClock, ...options.clock };
  const budget = createBudget({
    ...options.budget,
    scope: config.projectId,
    projectLabel: config.key,
    limits: config.limits,
    store: options.budgetStore,
    clock,
    metrics,
    interactiveReserve: economy.interactiveReservePercent / 100,
    pacing: economy.pacing,
  });
  const fairShare = createFairShare({
    limitsOf: (family) => config.limits[family] ?? {},
    newcomerReserve: economy.newcomerReservePercent / 100,
    now: () => clock.now(),
  });
  const cache = options.cache ?? createResponseCache({ maxBytes: cacheConfig.maxBytes, clock, metrics });
  const entities = options.entities ?? createEntityCache({ maxBytes: economy.entityCacheMaxBytes, clock, metrics });
  const credentials = credentialsIdentity(config.serviceAccount.username);

  /** Share of each family's hourly window spent, as last seen (refreshed after every call): drives the merge window. */
  const spent = new Map<ApiFamily, number>();
  const noteSpent = (family: ApiFamily): void => {
    budget.snapshot(family).then(
      (snapshot) => spent.set(family, snapshot.limit ? Math.min(1, snapshot.used / snapshot.limit) : 0),
      () => undefined,
    );
  };
  const isScarceFamily = (family: ApiFamily): boolean => {
    const limits = config.limits[family] ?? {};
    return limits.perHour !== undefined || limits.perMinute !== undefined;
  };
  const windowMs = (family: ApiFamily): number =>
    isScarceFamily(family) ? economy.coalesceWindowMs * (1 + (WINDOW_GROWTH - 1) * (spent.get(family) ?? 0)) : 0;
  /** Paced calls kept for first views (src/limits/pacing.ts), 0 when the family is not paced. */
  const firstViewCalls = (family: ApiFamily): number => {
    const perHour = config.limits[family]?.perHour;
    if (!economy.pacing || perHour === undefined) return 0;
    const burst = burstOf(perHour);
    return burst >= perHour ? 0 : firstViewReserve(burst, economy.interactiveReservePercent / 100);
  };
  /**
   * True once the family's window is spent down to the interactive reserve, or its pacing down to what it
   * keeps for first views: a read with stale data standing in then serves that data instead of spending
   * what a first view (with nothing to stand in) needs, as background refreshes do.
   */
  const scarce = (family: ApiFamily): boolean => {
    const perHour = config.limits[family]?.perHour;
    if (perHour === undefined) return false;
    if ((1 - (spent.get(family) ?? 0)) * perHour <= Math.max(1, Math.floor((perHour * economy.interactiveReservePercent) / 100))) return true;
    const paced = budget.pacing(family).pacedCalls;
    return paced !== null && paced <= firstViewCalls(family);
  };

  /** `send`, counted in metrics once per attempt (the budget may retry it). */
  const instrumented =
    <T>(family: ApiFamily, endpoint: string, send: (signal: AbortSignal) => Promise<T>) =>
    async (signal: AbortSignal): Promise<T> => {
      const labels = { project: config.key, family, endpoint };
      try {
        const value = await send(signal);
        metrics?.upstreamCalls.inc({ ...labels, outcome: 'ok' });
        return value;
      } catch (error) {
        metrics?.upstreamCalls.inc({ ...labels, outcome: upstreamOutcome(error) });
        if (error instanceof RateLimitedError) metrics?.upstreamRateLimited.inc({ project: config.key, family });
        throw error;
      } finally {
        noteSpent(family);
      }
    };

  /** Through the fair share and the budget: the one place a call is sent. */
  const schedule = <T>(
    family: ApiFamily,
    endpoint: string,
    send: (signal: AbortSignal) => Promise<T>,
    context: {
      deadline: number;
      priority: number;
      backgroundAfter?: number | undefined;
      signal: AbortSignal;
      stats: CallContext['stats'] | undefined;
      clientId: string | undefined;
      countsAgainstHourly?: boolean | undefined;
      maxRetries?: number | undefined;
    },
  ): Promise<T> => {
    const background = context.priority >= BACKGROUND_PRIORITY;
    // Background refreshes belong to no client; interactive calls spend their caller's share.
    try {
      if (!background && context.countsAgainstHourly !== false) fairShare.check(family, context.clientId);
    } catch (error) {
      return Promise.reject(error);
    }
    let recorded = false;
    return budget.schedule(
      family,
      instrumented(family, endpoint, (signal) => {
        if (!recorded && !background && context.countsAgainstHourly !== false) {
          recorded = true;
          fairShare.record(family, context.clientId);
        }
        return send(signal);
      }),
      {
        deadline: context.deadline,
        priority: context.priority,
        backgroundAfter: context.backgroundAfter,
        signal: context.signal,
        countsAgainstHourly: context.countsAgainstHourly,
        maxRetries: context.maxRetries,
        stats: context.stats,
      },
    );
  };

  const call = <T>(request: UpstreamRequest<T>, context: CallContext): Promise<T> => {
    const run = (signal: AbortSignal, refresh: BackgroundRefresh | undefined): Promise<T> =>
      schedule(request.family, request.endpoint, request.send, {
        // A refresh is worth sending only while the stale value it replaces is still served.
        deadline: refresh ? refresh.staleUntil : context.deadline,
        priority: refresh ? BACKGROUND_PRIORITY : (context.priority ?? 0),
        backgroundAfter: refresh ? undefined : context.backgroundAfter,
        signal,
        countsAgainstHourly: request.countsAgainstHourly,
        maxRetries: request.maxRetries,
        stats: refresh ? undefined : context.stats,
        clientId: context.clientId,
      });
    if (request.kind === 'none' && request.params === undefined) return run(context.signal, undefined);
    const key = cacheKey({
      project: config.key,
      kind: request.kind,
      family: request.family,
      endpoint: request.endpoint,
      params: request.params,
      credentials,
    });
    return cache.get(key, {
      ttlMs: request.kind === 'none' ? 0 : cacheConfig.ttlMs[request.kind],
      staleMs: cacheConfig.staleMs,
      lastResortMs: economy.lastResortMs,
      signal: context.signal,
      stats: context.stats,
      labels: { project: config.key, kind: request.kind },
      load: run,
      onStale: (kind) => metrics?.staleAnswers.inc({ project: config.key, kind }),
    });
  };

  /**
   * Every full-profile engage page read (a profiles list, a cohort's members)
   * feeds the entity cache: a profile page of one of those users then costs nothing.
   */
  const primeProfiles = (params: EngageParams, page: EngagePage): void => {
    if (params.outputProperties !== undefined || params.distinctIds !== undefined || params.distinctId !== undefined) return;
    const mergeKey = JSON.stringify(params.dataGroupId === undefined ? {} : { groupKey: params.dataGroupId });
    for (const profile of page.results) {
      entities.store(
        'profile',
        config.key,
        `${mergeKey}\u0000${String(profile.$distinct_id)}`,
        profile,
        cacheConfig.ttlMs.profiles,
        cacheConfig.staleMs + economy.lastResortMs,
      );
    }
  };

  /** The events the project documents in Lexicon, as last read: charts are drawn of these, so a merged /events call reads them along. */
  let documentedEvents: readonly string[] = [];
  const noteDocumentedEvents = (entries: readonly LexiconSchemaEntry[]): void => {
    documentedEvents = entries
      .filter((entry) => entry.entityType === 'event')
      .map((entry) => entry.name)
      .sort()
      .slice(0, EVENTS_MAX_PER_CALL);
  };

  const fetch = <E extends EndpointName>(endpoint: E, params: ParamsOf<E>, context: CallContext, options: FetchOptions = {}): Promise<ResultOf<E>> => {
    const counts = countsOfEvents(endpoint, params);
    if (counts) return countEvents(endpoint, params, counts.range, counts.events, context) as Promise<ResultOf<E>>;
    const description = ENDPOINTS[endpoint] as unknown as EndpointDescription<ParamsOf<E>, ResultOf<E>>;
    const kind = typeof description.kind === 'function' ? description.kind(params, clock.now(), config.timezone) : description.kind;
    const maxRetries = options.maxRetries ?? description.maxRetries;
    const counted = description.countsAgainstHourly?.(params, config);
    // Through the runtime's own `call`, the one path to Mixpanel an observer of the runtime sees.
    return runtime.call<ResultOf<E>>(
      {
        family: description.family,
        kind,
        endpoint,
        // No params: two identical writes are two calls, never one shared call.
        params: description.shared ? params : undefined,
        ...(counted === false ? { countsAgainstHourly: false } : {}),
        ...(maxRetries === undefined ? {} : { maxRetries }),
        send: async (signal) => {
          const result = await description.send(client, params, signal);
          if (endpoint === 'engage') primeProfiles(params as EngageParams, result as EngagePage);
          if (endpoint === 'lexiconList') noteDocumentedEvents(result as LexiconSchemaEntry[]);
          return result;
        },
      },
      context,
    );
  };

  const send: Send = (endpoint, params, context) => {
    const description = ENDPOINTS[endpoint] as unknown as EndpointDescription<unknown, unknown>;
    return schedule(description.family, endpoint, (signal) => description.send(client, params(), signal), {
      deadline: context.deadline,
      priority: context.priority,
      signal: context.signal,
      stats: context.opener.stats,
      clientId: context.opener.clientId,
    }) as never;
  };

  const sourceOptions = (ttlMs: number): SourceOptions => ({
    project: config.key,
    entities,
    send,
    coalesce: economy.coalesce,
    windowMs,
    maxWaitMs: economy.coalesceMaxWaitMs,
    ttlMs,
    // Entities stand in for a refused read as long as the response cache's last resort does.
    staleMs: cacheConfig.staleMs + economy.lastResortMs,
    absentTtlMs: Math.min(economy.absentTtlMs, ttlMs),
    scarce,
    now: () => clock.now(),
    timers: { setTimeout: (callback, ms) => clock.setTimeout(callback, ms), clearTimeout: (handle) => clock.clearTimeout(handle) },
    onBatch: (endpoint, size, waitMs, requests) => {
      metrics?.mergedBatchSize.observe({ project: config.key, endpoint }, size);
      metrics?.mergedBatchRequests.observe({ project: config.key, endpoint }, requests);
      metrics?.mergedBatchWait.observe({ project: config.key, endpoint }, waitMs / 1000);
    },
    onStale: (kind) => metrics?.staleAnswers.inc({ project: config.key, kind }),
    shared: options.sharedReads,
  });
  const spareCalls = (family: ApiFamily): number => {
    const perHour = config.limits[family]?.perHour;
    if (perHour === undefined) return Number.POSITIVE_INFINITY;
    const left = (1 - (spent.get(family) ?? 0)) * perHour;
    return Math.max(0, Math.floor((left - Math.floor((perHour * economy.interactiveReservePercent) / 100)) / 2));
  };
  const readAhead = createProfileReadAhead({
    maxPages: economy.profileReadAheadMaxPages,
    // Page 0 unfiltered with every property: fetch() feeds each page's profiles to the entity cache.
    readPage: (page, context) => fetch('engage', page.sessionId === undefined ? {} : { sessionId: page.sessionId, page: page.page ?? 0 }, context),
    spareCalls: () => spareCalls(ENDPOINTS.engage.family),
    followOnPagesCount: config.countEngageFollowOnPages,
    // Its profiles stay servable (fresh, then stale) for the last-resort window; listing them again sooner would spend the hour twice.
    everyMs: Math.max(economy.lastResortMs, cacheConfig.ttlMs.profiles),
    now: () => clock.now(),
    timers: { setTimeout: (callback, ms) => clock.setTimeout(callback, ms), clearTimeout: (handle) => clock.clearTimeout(handle) },
    onDone: (pages, complete) => metrics?.profileReadAheadPages.inc({ project: config.key, outcome: complete ? 'complete' : 'partial' }, pages),
  });
  // Read-ahead is cross-request sharing too: off with merging.
  const profiles = createProfileSource(sourceOptions(cacheConfig.ttlMs.profiles), economy.coalesce ? readAhead : undefined);
  const activity = createActivitySource(sourceOptions(cacheConfig.ttlMs.events));

  /** In-flight whole-cohort reads, so concurrent requests share one; `background` when no request waits for it. */
  const memberReads = new Map<string, { readonly promise: Promise<CohortMembersRead>; readonly background: boolean }>();

  /**
   * Every member of a cohort: engage with `filter_by_cohort` alone, the way
   * https://developer.mixpanel.com/reference/cohorts-list documents for
   * listing a cohort's users, paged as
   * https://developer.mixpanel.com/reference/engage-query describes.
   */
  const readMembers = async (cohortId: string, context: CallContext): Promise<CohortMembersRead> => {
    const base: EngageParams = { filterByCohort: cohortId, outputProperties: ['$email'] };
    const members = new Set<string>();
    let page: EngagePage = await fetch('engage', base, context);
    for (;;) {
      for (const profile of page.results) members.add(String(profile.$distinct_id));
      const done =
        page.results.length < page.page_size || page.results.length === 0 || (page.total !== undefined && page.total <= page.page_size * (page.page + 1));
      if (done) break;
      page = await fetch('engage', { ...base, sessionId: page.session_id, page: page.page + 1 }, context);
    }
    const ids = [...members];
    entities.store('cohortMembers', config.key, cohortId, ids, cacheConfig.ttlMs.cohorts, cacheConfig.staleMs + economy.lastResortMs);
    return { members, fetchedAt: clock.now(), stale: false };
  };

  const cohortMembers = async (cohortId: string, context: CallContext): Promise<CohortMembersRead> => {
    // Another instance may have read them (with a shared entity level).
    await entities.fill('cohortMembers', config.key, [cohortId]);
    const found = entities.lookup<string[]>('cohortMembers', config.key, cohortId);
    if (found.state === 'fresh') {
      context.stats.cacheHits++;
      return { members: new Set(found.entry.value), fetchedAt: found.entry.fetchedAt, stale: false };
    }
    const staleRead = (): CohortMembersRead | undefined => {
      if (found.state !== 'stale') return undefined;
      context.stats.staleAnswers = (context.stats.staleAnswers ?? 0) + 1;
      context.stats.staleSeconds = Math.max(context.stats.staleSeconds ?? 0, Math.floor((clock.now() - found.entry.fetchedAt) / 1000));
      context.stats.maxAgeSeconds = 0;
      metrics?.staleAnswers.inc({ project: config.key, kind: 'cohortMembers' });
      return { members: new Set(found.entry.value), fetchedAt: found.entry.fetchedAt, stale: true };
    };
    if (scarce('query')) {
      const stale = staleRead();
      if (stale) return stale;
    }
    let pending = memberReads.get(cohortId)?.promise;
    if (pending) context.stats.deduplicated++;
    else {
      // Shared by every request that asks meanwhile: the first one going away must not cancel it. A cohort
      // never read stays queued past its request's deadline: the next slot brings it for whoever asks next.
      // Once that request has gone it waits as background work, behind every live call and off their reserves.
      const patient = found.state === 'missing' && clock.now() + FIRST_READ_PATIENCE_MS > context.deadline;
      const readContext: CallContext = patient
        ? {
            ...context,
            deadline: clock.now() + FIRST_READ_PATIENCE_MS,
            backgroundAfter: Math.min(context.backgroundAfter ?? Number.POSITIVE_INFINITY, context.deadline),
          }
        : context;
      const read = readMembers(cohortId, { ...readContext, signal: new AbortController().signal }).finally(() => memberReads.delete(cohortId));
      read.catch(() => undefined);
      memberReads.set(cohortId, { promise: read, background: (context.priority ?? 0) >= BACKGROUND_PRIORITY });
      pending = read;
    }
    try {
      // A read started in the background may queue behind interactive calls: a request waits for it only until its own deadline.
      return await untilDeadline(untilAborted(pending, context.signal), context.deadline, clock);
    } catch (error) {
      const stale =
        !context.signal.aborted && (error instanceof RateLimitedError || (error instanceof MixpanelError && error.retryable)) ? staleRead() : undefined;
      if (stale) return stale;
      throw error;
    }
  };

  const eventCounts = createEventCountSource({
    project: config.key,
    entities,
    send,
    coalesce: economy.coalesce,
    windowMs: () => windowMs(ENDPOINTS.events.family),
    maxWaitMs: economy.coalesceMaxWaitMs,
    ttlMs: (range) => cacheConfig.ttlMs[analyticsKind(range.toDate, clock.now(), config.timezone)],
    staleMs: cacheConfig.staleMs + economy.lastResortMs,
    scarce: () => scarce(ENDPOINTS.events.family),
    // Lexicon is read on its own budget (and at start): its event names cost no Query call.
    readAheadNames: () => documentedEvents,
    now: () => clock.now(),
    timers: { setTimeout: (callback, ms) => clock.setTimeout(callback, ms), clearTimeout: (handle) => clock.clearTimeout(handle) },
    onBatch: (size, waitMs, requests) => {
      metrics?.mergedBatchSize.observe({ project: config.key, endpoint: 'events' }, size);
      metrics?.mergedBatchRequests.observe({ project: config.key, endpoint: 'events' }, requests);
      metrics?.mergedBatchWait.observe({ project: config.key, endpoint: 'events' }, waitMs / 1000);
    },
    onStale: () => metrics?.staleAnswers.inc({ project: config.key, kind: 'eventCounts' }),
  });

  /** The range and events of a call /events answers as well as its own endpoint: a plain segmentation, or /events over a date range. */
  const countsOfEvents = (endpoint: EndpointName, params: unknown): { range: EventCountsRange; events: readonly string[] } | undefined => {
    if (endpoint === 'segmentation') {
      const p = params as SegmentationParams;
      if (!isPlainSegmentation(p)) return undefined;
      return { range: { type: p.type ?? 'general', unit: p.unit ?? 'day', fromDate: p.fromDate, toDate: p.toDate }, events: [p.event] };
    }
    if (endpoint === 'events') {
      const p = params as EventsParams;
      if (p.fromDate === undefined || p.toDate === undefined || p.interval !== undefined) return undefined;
      return { range: { type: p.type, unit: p.unit, fromDate: p.fromDate, toDate: p.toDate }, events: p.events };
    }
    return undefined;
  };

  /**
   * A segmentation or /events answer from the per-event counts (src/upstream/event-counts.ts), behind the
   * response cache as any call: fresh answers as they are, stale ones at once while one refresh runs.
   */
  const countEvents = (
    endpoint: EndpointName,
    params: unknown,
    range: EventCountsRange,
    events: readonly string[],
    context: CallContext,
  ): Promise<SeriesResponse> => {
    const kind = analyticsKind(range.toDate, clock.now(), config.timezone);
    const key = cacheKey({ project: config.key, kind, family: ENDPOINTS.events.family, endpoint, params, credentials });
    let readAt: number | undefined;
    return cache.get(key, {
      ttlMs: cacheConfig.ttlMs[kind],
      staleMs: cacheConfig.staleMs,
      lastResortMs: economy.lastResortMs,
      signal: context.signal,
      stats: context.stats,
      labels: { project: config.key, kind },
      onStale: (staleKind) => metrics?.staleAnswers.inc({ project: config.key, kind: staleKind }),
      // Counts read for another chart a while ago are fresh only as long as they would have been then.
      loadedAt: () => readAt,
      load: async (signal, refresh) => {
        const read = await eventCounts.read(range, events, {
          // A refresh is worth sending only while the stale value it replaces is still served.
          deadline: refresh ? refresh.staleUntil : context.deadline,
          priority: refresh ? BACKGROUND_PRIORITY : (context.priority ?? 0),
          signal,
          stats: refresh ? { upstreamCalls: 0, cacheHits: 0, cacheMisses: 0, deduplicated: 0 } : context.stats,
          clientId: context.clientId,
        });
        readAt = read.fetchedAt;
        return read.response;
      },
    });
  };

  const runtime: ProjectRuntime = {
    config,
    budget,
    membership,
    call,
    fetch,
    profiles: (distinctIds, groupKey, context) => profiles.byIds(distinctIds, groupKey, context),
    activity: (distinctIds, fromDate, toDate, context) => activity.byIds(distinctIds, fromDate, toDate, context),
    cohortMembers,
    spareCalls,
    isCohortReadInBackground: (cohortId) => memberReads.get(cohortId)?.background === true,
    isCohortCached: (cohortId) => entities.has('cohortMembers', config.key, cohortId),
    economy,
    fairShare: (family) => fairShare.snapshot(family),

    invalidate(kind) {
      cache.invalidate(cacheKeyPrefix(config.key, kind));
      if (kind === 'profiles') {
        entities.invalidate('profile', config.key);
        readAhead.forgetListing();
      }
      if (kind === 'cohorts') entities.invalidate('cohortMembers', config.key);
      if (kind === 'analyticsClosed' || kind === 'analyticsToday') entities.invalidate('eventCounts', config.key);
      options.onInvalidate?.(kind);
    },

    async close() {
      await budget.close();
      await client.close();
    },
  };
  return runtime;
}

/** `promise`, or the signal's reason as soon as it aborts (the promise itself runs on for others). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** `promise`, or RateLimitedError once `deadline` (epoch ms on `clock`) has passed without it settling. */
function untilDeadline<T>(promise: Promise<T>, deadline: number, clock: Clock): Promise<T> {
  const left = deadline - clock.now();
  if (!Number.isFinite(left)) return promise;
  return new Promise<T>((resolve, reject) => {
    const timer = clock.setTimeout(
      () => reject(new RateLimitedError('query', undefined, 'The members of this cohort are still being read within the Query budget; retry shortly')),
      Math.max(0, left),
    );
    promise.then(resolve, reject).finally(() => clock.clearTimeout(timer));
  });
}
