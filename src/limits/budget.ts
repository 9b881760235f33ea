/**
 * The per-project budget: decides when each upstream call may be sent so the
 * gateway itself never causes a 429, and retries (the only place that does).
 *
 * Calls wait in a priority queue per family (lower priority first, FIFO
 * within). A call that provably cannot start before its deadline is refused at
 * once and never sent. Counts live in a BudgetStore (memory or Redis).
 *
 * This file holds the options and puts the rooms together: the windows a call
 * counts against (budget-windows.ts), the queue and its admission
 * (budget-queue.ts), the retry loop (budget-retries.ts) and the read-only
 * views (budget-snapshots.ts).
 */
import type { ProjectLimits } from '../mixpanel/rate-limits.js';
import type { Metrics } from '../observability/metrics.js';
import { RateLimitedError } from '../mixpanel/errors.js';
import type { ApiFamily } from '../mixpanel/types.js';
import type { BackoffOptions } from './backoff.js';
import { createBudgetQueue } from './budget-queue.js';
import { createRetryLoop } from './budget-retries.js';
import { createBudgetSnapshots } from './budget-snapshots.js';
import { createBudgetWindows } from './budget-windows.js';
import { systemClock, type Clock } from './clock.js';
import { DEFAULT_INTERACTIVE_RESERVE, DEFAULT_LEASE_MS, DEFAULT_MAX_RETRIES, DEFAULT_POLL_MS, DEFAULT_SAFETY_MARGIN_MS, type WindowName } from './defaults.js';
import { createMemoryBudgetStore, type BudgetStore } from './store.js';
import type { Budget } from './types.js';

/** Defined in clock.ts; exported from here too, where the budget's callers have always found them. */
export { systemClock, type Clock } from './clock.js';

export interface BudgetOptions {
  /** Counting scope shared by every instance: the Mixpanel project id (Mixpanel counts per project). */
  readonly scope: string;
  readonly limits: ProjectLimits;
  /** Label of the project in metrics. Default: `scope`. */
  readonly projectLabel?: string;
  /** Where counts live. Default: a new memory store, closed with the budget. A store passed in is left open. */
  readonly store?: BudgetStore;
  /** Default: the system clock and timers. */
  readonly clock?: Clock;
  /** Retries per call on 429, 5xx and timeouts. Default 2. */
  readonly maxRetries?: number;
  /** Retry delays when Mixpanel sends no Retry-After. Default: 2 s doubling to 60 s, plus 1-5 s jitter. */
  readonly backoff?: BackoffOptions;
  /** Extra time a call stays counted after its window passed, per window. Default: hour 5 s, minute 1 s, second 250 ms. */
  readonly safetyMarginMs?: Partial<Record<WindowName, number>>;
  /** Concurrency lease length, renewed while a call runs. Default 60000. */
  readonly leaseMs?: number;
  /** How often a call waiting for a concurrency slot re-checks the store. Default 1000. */
  readonly pollMs?: number;
  /** Source of jitter. Default Math.random. */
  readonly random?: () => number;
  /**
   * Part of each hourly window kept for interactive calls (0..1): background
   * refreshes (priority >= BACKGROUND_PRIORITY) never spend it, so a busy
   * cache cannot use up what users asking now need. Default 0.2.
   */
  readonly interactiveReserve?: number;
  /**
   * Whether hourly calls are paced (src/limits/pacing.ts: a burst, then the
   * rest of the hour's limit spread evenly) rather than sent as fast as the
   * rolling window allows. Default false; the gateway turns it on (BUDGET_PACING).
   */
  readonly pacing?: boolean;
  readonly metrics?: Metrics;
}

export function createBudget(options: BudgetOptions): Budget {
  const { scope, limits, metrics } = options;
  const store = options.store ?? createMemoryBudgetStore();
  const clock = options.clock ?? systemClock;
  const defaultMaxRetries = options.maxRetries ?? DEFAULT_MAX_RETRIES;
  const leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
  const pollMs = options.pollMs ?? DEFAULT_POLL_MS;
  const random = options.random ?? Math.random;
  const margins = { ...DEFAULT_SAFETY_MARGIN_MS, ...options.safetyMarginMs };
  const labels = (family: ApiFamily) => ({ project: options.projectLabel ?? scope, family });
  const reserveFraction = Math.min(1, Math.max(0, options.interactiveReserve ?? DEFAULT_INTERACTIVE_RESERVE));
  let closed = false;
  const isClosed = (): boolean => closed;

  const refusal = (family: ApiFamily, retryAfterMs: number | undefined): RateLimitedError => {
    metrics?.budgetRejected.inc(labels(family));
    const message = `Mixpanel ${family} budget for this project cannot fit this call before its deadline; retry later`;
    return new RateLimitedError(family, retryAfterMs === undefined ? undefined : Math.ceil(retryAfterMs), message);
  };

  const closedError = (): Error => new DOMException('The budget was closed', 'AbortError');

  const windows = createBudgetWindows({ limits, margins, reserveFraction, pacing: options.pacing, clock });
  const queue = createBudgetQueue({ scope, store, clock, windows, reserveFraction, leaseMs, pollMs, refusal, closedError, isClosed, metrics, labels });
  const retries = createRetryLoop({
    scope,
    store,
    clock,
    queue,
    isDisabled: windows.isDisabled,
    refusal,
    closedError,
    isClosed,
    defaultMaxRetries,
    backoff: options.backoff,
    random,
    leaseMs,
    metrics,
    labels,
  });
  const snapshots = createBudgetSnapshots({ scope, store, clock, windows, queued: queue.queued });

  return {
    schedule: retries.schedule,
    ...snapshots,

    async close() {
      if (closed) return;
      closed = true;
      queue.close();
      retries.close();
      if (!options.store) await store.close();
    },
  };
}
