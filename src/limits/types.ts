/**
 * The budget: the only place that decides when an upstream call may be sent,
 * and the only place that retries.
 */
import type { ApiFamily } from '../mixpanel/types.js';

/** Per-request accounting, surfaced in the GraphQL response `extensions`. */
export interface RequestStats {
  upstreamCalls: number;
  cacheHits: number;
  cacheMisses: number;
  /** Shared in-flight calls this request joined instead of sending its own. */
  deduplicated: number;
  /** Calls this request opened that other requests joined (merged batches). */
  shared?: number;
  /** Pieces of data served stale because a fresh read did not fit the budget (or failed). */
  staleAnswers?: number;
  /** Age in seconds of the oldest stale piece served. */
  staleSeconds?: number;
  /** Upstream calls the cost estimator expected when nothing is cached, per family (set by admission control). */
  estimatedCalls?: Readonly<Partial<Record<ApiFamily, number>>>;
  /** Smallest cache max-age (seconds) among the data this request used; undefined when nothing cached was used. */
  maxAgeSeconds?: number | undefined;
}

export interface ScheduleOptions {
  /** Epoch ms: if the call cannot be sent before this, it fails with RateLimitedError and is never sent. */
  readonly deadline?: number | undefined;
  /** Lower runs first (0 = interactive, 10 = background refresh). Default 0. */
  readonly priority?: number | undefined;
  /**
   * Epoch ms from which a call still waiting runs at background priority (BACKGROUND_PRIORITY): a read
   * kept queued for later once the request that asked has gone, which then waits behind every live
   * call and leaves the interactive reserve and the first views' share of the pacing alone. Default: never.
   */
  readonly backgroundAfter?: number | undefined;
  readonly signal?: AbortSignal | undefined;
  /** False for calls Mixpanel does not count against the hourly limit (engage follow-on pages, when configured). */
  readonly countsAgainstHourly?: boolean | undefined;
  /** Retries on 429/5xx/timeout; 0 disables. Default from the budget's options. */
  readonly maxRetries?: number | undefined;
  readonly stats?: RequestStats | undefined;
}

/** A snapshot of one family's budget, as `project { rateLimits }` shows it. */
export interface BudgetSnapshot {
  readonly family: ApiFamily;
  /** Calls counted in the current rolling hour (or minute, for per-minute families). */
  readonly used: number;
  readonly limit: number | null;
  readonly window: 'hour' | 'minute' | 'second' | null;
  /** When the oldest counted call leaves the window (epoch ms), or null when nothing is counted. */
  readonly windowResetsAt: number | null;
  readonly inFlight: number;
  readonly concurrentLimit: number | null;
  readonly queued: number;
  /** Until when the budget is tightened after an upstream 429 (epoch ms), or null. */
  readonly backoffUntil: number | null;
}

/** How the budget spreads a family's hourly window (src/limits/pacing.ts, the interactive reserve). */
export interface PacingSnapshot {
  /** Calls of the hourly window kept for interactive requests: background refreshes never spend them. */
  readonly reserve: number;
  /** Hourly calls the pacing lets through at once now; null without an hourly limit. */
  readonly pacedCalls: number | null;
}

export interface Budget {
  /**
   * Runs `task` when the family's budget allows, counting it as one call sent.
   * Rejects with RateLimitedError (never sending) when the deadline cannot be met.
   */
  schedule<T>(family: ApiFamily, task: (signal: AbortSignal) => Promise<T>, options?: ScheduleOptions): Promise<T>;
  snapshot(family: ApiFamily): Promise<BudgetSnapshot>;
  /** The reserve and pacing of a family now. */
  pacing(family: ApiFamily): PacingSnapshot;
  close(): Promise<void>;
}
