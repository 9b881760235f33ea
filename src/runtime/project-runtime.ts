/**
 * A project's runtime: the one path every upstream call takes
 * (entity cache / response cache -> in-flight sharing and cross-request
 * merging -> per-client fair share -> budget -> client). The raw client stays
 * in here: the schema asks for data by endpoint (src/upstream/endpoints.ts).
 * What rides on that path lives beside it: whole-cohort reads (cohort-members.ts),
 * answers from per-event counts (event-count-answers.ts), the profile and activity
 * sources with their read-ahead (profile-sources.ts), and how scarce each family's
 * window is (scarcity.ts).
 */
import { createEntityCache, type EntityCache } from '../cache/entity-cache.js';
import { cacheKey, cacheKeyPrefix, credentialsIdentity } from '../cache/keys.js';
import type { SharedReads } from '../cache/shared-reads.js';
import { createResponseCache, type BackgroundRefresh, type ResponseCache } from '../cache/response-cache.js';
import type { CacheConfig, EconomyConfig, ProjectConfig } from '../config/types.js';
import { createBudget, systemClock, type BudgetOptions, type Clock } from '../limits/budget.js';
import { BACKGROUND_PRIORITY } from '../limits/defaults.js';
import { createFairShare } from '../limits/fair-share.js';
import type { BudgetStore } from '../limits/store.js';
import type { MembershipStore } from '../membership/types.js';
import { upstreamOutcome, type Metrics } from '../observability/metrics.js';
import { RateLimitedError } from '../mixpanel/errors.js';
import type { ApiFamily, EngagePage, EngageParams, LexiconSchemaEntry, MixpanelClient } from '../mixpanel/types.js';
import type { CacheKind } from '../cache/kinds.js';
import type { CallContext, FetchOptions, ProjectRuntime, UpstreamRequest } from './types.js';
import { ENDPOINTS, type EndpointDescription, type EndpointName, type ParamsOf, type ResultOf } from '../upstream/endpoints.js';
import type { Send } from '../upstream/sources.js';
import { createCohortMembers } from './cohort-members.js';
import { createEventCountAnswers } from './event-count-answers.js';
import { createProfileSources } from './profile-sources.js';
import { createScarcity } from './scarcity.js';

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
  const scarcity = createScarcity({ limits: config.limits, economy, budget });

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
        scarcity.noteSpent(family);
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

  const fetch = <E extends EndpointName>(endpoint: E, params: ParamsOf<E>, context: CallContext, options: FetchOptions = {}): Promise<ResultOf<E>> => {
    const counts = eventCountAnswers.countsOf(endpoint, params);
    if (counts) return eventCountAnswers.answer(endpoint, params, counts.range, counts.events, context) as Promise<ResultOf<E>>;
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
          if (endpoint === 'engage') sources.primeProfiles(params as EngageParams, result as EngagePage);
          if (endpoint === 'lexiconList') eventCountAnswers.noteDocumentedEvents(result as LexiconSchemaEntry[]);
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

  const sources = createProfileSources({
    config,
    cacheConfig,
    economy,
    entities,
    send,
    fetch,
    windowMs: scarcity.windowMs,
    scarce: scarcity.scarce,
    spareCalls: scarcity.spareCalls,
    clock,
    sharedReads: options.sharedReads,
    metrics,
  });

  const cohortMembers = createCohortMembers({
    project: config.key,
    readPage: (params, context) => fetch('engage', params, context),
    entities,
    cacheConfig,
    economy,
    clock,
    scarce: scarcity.scarce,
    metrics,
  });

  const eventCountAnswers = createEventCountAnswers({
    config,
    cacheConfig,
    economy,
    cache,
    entities,
    send,
    windowMs: () => scarcity.windowMs(ENDPOINTS.events.family),
    scarce: () => scarcity.scarce(ENDPOINTS.events.family),
    clock,
    credentials,
    metrics,
  });

  const runtime: ProjectRuntime = {
    config,
    budget,
    membership,
    call,
    fetch,
    profiles: (distinctIds, groupKey, context) => sources.profiles.byIds(distinctIds, groupKey, context),
    activity: (distinctIds, fromDate, toDate, context) => sources.activity.byIds(distinctIds, fromDate, toDate, context),
    cohortMembers: cohortMembers.read,
    spareCalls: scarcity.spareCalls,
    isCohortReadInBackground: cohortMembers.isReadInBackground,
    isCohortCached: (cohortId) => entities.has('cohortMembers', config.key, cohortId),
    economy,
    fairShare: (family) => fairShare.snapshot(family),

    invalidate(kind) {
      cache.invalidate(cacheKeyPrefix(config.key, kind));
      if (kind === 'profiles') {
        entities.invalidate('profile', config.key);
        sources.readAhead.forgetListing();
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
