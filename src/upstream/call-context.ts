/**
 * What every upstream call carries: until when it may start, what aborts it,
 * and the request's accounting it adds to. The sources here take it, the
 * runtime passes it through, and whoever starts a request builds it.
 */
import type { RequestStats } from '../limits/types.js';

export interface CallContext {
  /** Epoch ms by which the call must have started, or it fails fast (RateLimitedError). */
  readonly deadline: number;
  readonly signal: AbortSignal;
  readonly stats: RequestStats;
  readonly priority?: number;
  /** Epoch ms from which the call, if still queued, waits as background work (ScheduleOptions.backgroundAfter). Default: never. */
  readonly backgroundAfter?: number;
  /** The API-key id of the caller, for the per-client fair share; undefined = anonymous (one shared id). */
  readonly clientId?: string;
}

/** The accounting of a request that has made no call yet. */
export function newRequestStats(): RequestStats {
  return { upstreamCalls: 0, cacheHits: 0, cacheMisses: 0, deduplicated: 0, maxAgeSeconds: undefined };
}
