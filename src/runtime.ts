/**
 * A project's runtime: the one path every upstream call takes
 * (cache -> in-flight sharing -> budget -> client).
 */
import { cacheKey, cacheKeyPrefix, credentialsIdentity } from './cache/keys.js';
import { createResponseCache, type BackgroundRefresh, type ResponseCache } from './cache/response-cache.js';
import type { CacheConfig, ProjectConfig } from './config-types.js';
import { createBudget, systemClock, type BudgetOptions, type Clock } from './limits/budget.js';
import { BACKGROUND_PRIORITY } from './limits/defaults.js';
import type { BudgetStore } from './limits/store.js';
import type { MembershipStore } from './membership/types.js';
import { upstreamOutcome, type Metrics } from './metrics.js';
import { RateLimitedError } from './mixpanel/errors.js';
import type { MixpanelClient } from './mixpanel/types.js';
import type { CacheKind, CallContext, ProjectRuntime, UpstreamRequest } from './runtime-types.js';

export interface ProjectRuntimeOptions {
  readonly config: ProjectConfig;
  /** The project's client; `close()` closes it. */
  readonly client: MixpanelClient;
  /** Cohort membership fed by webhooks; usually shared by projects, so the caller closes it. */
  readonly membership: MembershipStore;
  readonly cacheConfig: CacheConfig;
  /** The gateway's shared response cache. Default: a cache of this project's own, of `cacheConfig.maxBytes`. */
  readonly cache?: ResponseCache;
  /** Where budget counts live; Redis to share them among instances. Default: memory (this instance only). */
  readonly budgetStore?: BudgetStore;
  /** Time and timers; whatever is left out comes from the system clock. */
  readonly clock?: Partial<Clock>;
  readonly metrics?: Metrics;
  /** Retry, backoff, margin and lease settings of the budget; defaults as documented on BudgetOptions. */
  readonly budget?: Pick<BudgetOptions, 'maxRetries' | 'backoff' | 'safetyMarginMs' | 'leaseMs' | 'pollMs' | 'random'>;
  /** Called after `invalidate(kind)`, e.g. to rebuild what was derived from the dropped data. Default: nothing. */
  readonly onInvalidate?: (kind: CacheKind) => void;
}

export function createProjectRuntime(options: ProjectRuntimeOptions): ProjectRuntime {
  const { config, client, membership, cacheConfig, metrics } = options;
  const clock: Clock = { ...systemClock, ...options.clock };
  const budget = createBudget({
    ...options.budget,
    scope: config.projectId,
    projectLabel: config.key,
    limits: config.limits,
    store: options.budgetStore,
    clock,
    metrics,
  });
  const cache = options.cache ?? createResponseCache({ maxBytes: cacheConfig.maxBytes, clock, metrics });
  const credentials = credentialsIdentity(config.serviceAccount.username);

  /** `send`, counted in metrics once per attempt (the budget may retry it). */
  const instrumented =
    <T>(request: UpstreamRequest<T>) =>
    async (signal: AbortSignal): Promise<T> => {
      const labels = { project: config.key, family: request.family, endpoint: request.endpoint };
      try {
        const value = await request.send(signal);
        metrics?.upstreamCalls.inc({ ...labels, outcome: 'ok' });
        return value;
      } catch (error) {
        metrics?.upstreamCalls.inc({ ...labels, outcome: upstreamOutcome(error) });
        if (error instanceof RateLimitedError) metrics?.upstreamRateLimited.inc({ project: config.key, family: request.family });
        throw error;
      }
    };

  return {
    config,
    client,
    budget,
    membership,

    call<T>(request: UpstreamRequest<T>, context: CallContext): Promise<T> {
      const send = instrumented(request);
      const schedule = (signal: AbortSignal, refresh: BackgroundRefresh | undefined): Promise<T> =>
        budget.schedule(request.family, send, {
          // A refresh is worth sending only while the stale value it replaces is still served.
          deadline: refresh ? refresh.staleUntil : context.deadline,
          priority: refresh ? BACKGROUND_PRIORITY : (context.priority ?? 0),
          signal,
          countsAgainstHourly: request.countsAgainstHourly,
          maxRetries: request.maxRetries,
          stats: refresh ? undefined : context.stats,
        });
      if (request.kind === 'none' && request.params === undefined) return schedule(context.signal, undefined);
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
        signal: context.signal,
        stats: context.stats,
        labels: { project: config.key, kind: request.kind },
        load: schedule,
      });
    },

    invalidate(kind) {
      cache.invalidate(cacheKeyPrefix(config.key, kind));
      options.onInvalidate?.(kind);
    },

    async close() {
      await budget.close();
      await client.close();
    },
  };
}
