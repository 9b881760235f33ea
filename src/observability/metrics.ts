/**
 * Prometheus metrics of upstream use, the budget and the response cache, in
 * their own registry (the server exposes it at /metrics).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { MixpanelError, RateLimitedError, UpstreamTimeoutError } from '../mixpanel/errors.js';

export interface MetricsOptions {
  /** Also collect Node.js process metrics (CPU, memory, event loop). Default true. */
  readonly defaultMetrics?: boolean;
}

export interface Metrics {
  readonly registry: Registry;
  /** Every call sent to Mixpanel (each retry too), by outcome. */
  readonly upstreamCalls: Counter<'project' | 'family' | 'endpoint' | 'outcome'>;
  /** 429s Mixpanel answered despite the budget (another client shares the project). */
  readonly upstreamRateLimited: Counter<'project' | 'family'>;
  /** Calls the budget refused before sending (deadline could not be met). */
  readonly budgetRejected: Counter<'project' | 'family'>;
  /** Time from a call being scheduled to it being sent. */
  readonly budgetQueueWait: Histogram<'project' | 'family'>;
  readonly budgetInFlight: Gauge<'project' | 'family'>;
  readonly budgetQueued: Gauge<'project' | 'family'>;
  /** Cache lookups: hit (fresh), stale (served while refreshing or failing), miss, shared (joined an in-flight call). */
  readonly cacheLookups: Counter<'project' | 'kind' | 'result'>;
  /** Entity cache lookups (profiles, activity, cohort members): hit, stale or missing. */
  readonly entityCacheLookups: Counter<'project' | 'kind' | 'result'>;
  /** Ids per merged upstream call. */
  readonly mergedBatchSize: Histogram<'project' | 'endpoint'>;
  /** Requests served by one merged upstream call. */
  readonly mergedBatchRequests: Histogram<'project' | 'endpoint'>;
  /** Time from a merged batch's first id to the call taking its ids. */
  readonly mergedBatchWait: Histogram<'project' | 'endpoint'>;
  /** Data served stale because a fresh read did not fit the budget or failed. */
  readonly staleAnswers: Counter<'project' | 'kind'>;
  /** Engage pages read ahead of requests (the whole user-profile listing), by whether the listing was read whole. */
  readonly profileReadAheadPages: Counter<'project' | 'outcome'>;
}

export type UpstreamOutcome = 'ok' | 'rate_limited' | 'timeout' | 'client_error' | 'server_error' | 'aborted' | 'error';

/** The `outcome` label of a failed upstream call. */
export function upstreamOutcome(error: unknown): UpstreamOutcome {
  if (error instanceof RateLimitedError) return 'rate_limited';
  if (error instanceof UpstreamTimeoutError) return 'timeout';
  if (error instanceof MixpanelError) {
    return error.status !== undefined && error.status < 500 ? 'client_error' : 'server_error';
  }
  if (error instanceof Error && error.name === 'AbortError') return 'aborted';
  return 'error';
}

export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    upstreamCalls: new Counter({
      name: 'mixpanel_upstream_calls_total',
      help: 'Calls sent to Mixpanel, retries included, by outcome',
      labelNames: ['project', 'family', 'endpoint', 'outcome'],
      registers,
    }),
    upstreamRateLimited: new Counter({
      name: 'mixpanel_upstream_rate_limited_total',
      help: 'HTTP 429 responses from Mixpanel',
      labelNames: ['project', 'family'],
      registers,
    }),
    budgetRejected: new Counter({
      name: 'mixpanel_budget_rejected_total',
      help: 'Calls refused by the gateway budget without being sent',
      labelNames: ['project', 'family'],
      registers,
    }),
    budgetQueueWait: new Histogram({
      name: 'mixpanel_budget_queue_wait_seconds',
      help: 'Time calls waited in the budget queue before being sent',
      labelNames: ['project', 'family'],
      buckets: [0.001, 0.01, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600],
      registers,
    }),
    budgetInFlight: new Gauge({
      name: 'mixpanel_budget_in_flight',
      help: 'Calls to Mixpanel in flight from this instance',
      labelNames: ['project', 'family'],
      registers,
    }),
    budgetQueued: new Gauge({
      name: 'mixpanel_budget_queued',
      help: 'Calls waiting in this instance for budget',
      labelNames: ['project', 'family'],
      registers,
    }),
    cacheLookups: new Counter({
      name: 'gateway_cache_lookups_total',
      help: 'Response cache lookups by result (hit, stale, miss, shared)',
      labelNames: ['project', 'kind', 'result'],
      registers,
    }),
    entityCacheLookups: new Counter({
      name: 'gateway_entity_cache_lookups_total',
      help: 'Entity cache lookups (profile, activity, cohortMembers) by result (hit, stale, missing)',
      labelNames: ['project', 'kind', 'result'],
      registers,
    }),
    mergedBatchSize: new Histogram({
      name: 'gateway_merged_batch_ids',
      help: 'Ids per merged upstream call',
      labelNames: ['project', 'endpoint'],
      buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000],
      registers,
    }),
    mergedBatchRequests: new Histogram({
      name: 'gateway_merged_batch_requests',
      help: 'Requests served by one merged upstream call',
      labelNames: ['project', 'endpoint'],
      buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500],
      registers,
    }),
    mergedBatchWait: new Histogram({
      name: 'gateway_merged_batch_wait_seconds',
      help: "Time from a merged batch's first id to its call being sent",
      labelNames: ['project', 'endpoint'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30],
      registers,
    }),
    staleAnswers: new Counter({
      name: 'gateway_stale_answers_total',
      help: 'Data served past its TTL because a fresh read did not fit the budget or failed',
      labelNames: ['project', 'kind'],
      registers,
    }),
    profileReadAheadPages: new Counter({
      name: 'gateway_profile_read_ahead_pages_total',
      help:
        'Engage pages of the whole user-profile listing read ahead of requests, by whether the listing was read whole ' +
        '(complete) or stopped after page 0 or an error (partial)',
      labelNames: ['project', 'outcome'],
      registers,
    }),
  };
}
