/**
 * Pacing of a family's hourly calls, so the hourly window is not spent in
 * the first minute and then closed for the rest of the hour: a token bucket
 * that allows a burst (half the hourly limit, at least 10 calls) and
 * refills at the rest of the limit spread over the hour. Burst plus an hour
 * of refill is the limit itself, so a gateway busy all hour never finds the
 * rolling window full: it sends about one call every
 * `hour / (limit − burst)` and merges what arrives meanwhile
 * (src/upstream/batcher.ts merges while calls wait for a slot).
 *
 * Limits of 10 or less are not paced (createPacer returns undefined): there is nothing to spread.
 * The bucket is per instance; several instances share the rolling window
 * through the budget store, and each paces its own part.
 */
import { WINDOW_MS } from './defaults.js';

export interface Pacer {
  /** Epoch ms when the next call may be sent while leaving `keep` calls in the bucket (default 0): now when it may go at once. */
  nextAt(now: number, keep?: number): number;
  /** Calls a fresh bucket holds. */
  readonly burst: number;
  /** Counts one call sent at `now`. */
  take(now: number): void;
  /** Calls that may be sent at once now. */
  available(now: number): number;
}

/** Calls a fresh bucket allows at once for an hourly limit. */
export function burstOf(perHour: number): number {
  return Math.min(perHour, Math.max(10, Math.ceil(perHour / 2)));
}

/**
 * Paced calls kept for first views: background refreshes (and reads that have stale data standing in)
 * leave the bucket this full. The interactive reserve's share of the burst, and at least half of it.
 */
export function firstViewReserve(burst: number, reserveFraction: number): number {
  return Math.max(Math.ceil(burst * reserveFraction), Math.ceil(burst / 2));
}

export function createPacer(perHour: number, start: number): Pacer | undefined {
  const burst = burstOf(perHour);
  if (burst >= perHour) return undefined;
  const refillPerMs = (perHour - burst) / WINDOW_MS.hour;
  let tokens = burst;
  let at = start;
  const refill = (now: number): void => {
    if (now > at) {
      tokens = Math.min(burst, tokens + (now - at) * refillPerMs);
      at = now;
    }
  };
  return {
    burst,
    nextAt(now, keep = 0) {
      refill(now);
      const needed = 1 + keep;
      return tokens >= needed ? now : now + Math.ceil((needed - tokens) / refillPerMs);
    },
    take(now) {
      refill(now);
      tokens -= 1;
    },
    available(now) {
      refill(now);
      return Math.floor(tokens);
    },
  };
}
