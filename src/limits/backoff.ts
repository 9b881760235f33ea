/**
 * Retry delays. Mixpanel's policy (https://developer.mixpanel.com/reference/import-events, https://developer.mixpanel.com/reference/rate-limits):
 * exponential backoff starting at 2 s, doubling up to 60 s, plus 1-5 s of jitter;
 * a Retry-After header, when present, wins.
 */
import { RateLimitedError } from '../mixpanel/errors.js';

export interface BackoffOptions {
  /** First delay, in ms. Default 2000. */
  readonly initialMs?: number;
  /** Cap of the exponential part, in ms. Default 60000. */
  readonly maxMs?: number;
  /** Smallest random jitter added, in ms. Default 1000. */
  readonly jitterMinMs?: number;
  /** Largest random jitter added, in ms. Default 5000. */
  readonly jitterMaxMs?: number;
}

/** Delay before retry number `attempt` (0 for the first retry): exponential, capped, plus jitter. */
export function backoffDelay(attempt: number, options: BackoffOptions = {}, random: () => number = Math.random): number {
  const { initialMs = 2_000, maxMs = 60_000, jitterMinMs = 1_000, jitterMaxMs = 5_000 } = options;
  const exponential = Math.min(maxMs, initialMs * 2 ** attempt);
  return Math.round(exponential + jitterMinMs + random() * (jitterMaxMs - jitterMinMs));
}

/** Delay before retrying after `error`: its Retry-After when Mixpanel sent one, the backoff otherwise. */
export function retryDelay(error: unknown, attempt: number, options: BackoffOptions = {}, random: () => number = Math.random): number {
  if (error instanceof RateLimitedError && error.retryAfterMs !== undefined && error.retryAfterMs >= 0) {
    return error.retryAfterMs;
  }
  return backoffDelay(attempt, options, random);
}
