/**
 * Throttles failed webhook authentications per source address: after
 * `maxFailures` failures within `windowMs`, every request from that address
 * is answered 429 until the oldest failure leaves the window. Correct
 * credentials are refused too while throttled, so a guess that happens to be
 * right cannot be told apart from a wrong one. Mixpanel retries a 429 (and
 * never pauses a sync on it), so a throttled Mixpanel only syncs later.
 */
import { LRUCache } from 'lru-cache';

export interface AuthThrottleOptions {
  /** Failures an address may make per window before it is throttled. */
  readonly maxFailures: number;
  /** How long a failure counts, in ms. */
  readonly windowMs: number;
  /** Addresses remembered at once; the least recently failing are forgotten first. Default 10000. */
  readonly maxAddresses?: number;
  /** Clock (epoch ms); default Date.now. */
  readonly now?: () => number;
}

export interface AuthThrottle {
  /** Ms until `address` may try again; 0 when it may now. */
  retryAfterMs(address: string): number;
  recordFailure(address: string): void;
}

export function createAuthThrottle(options: AuthThrottleOptions): AuthThrottle {
  const now = options.now ?? Date.now;
  // Failure times per address, oldest first, at most maxFailures of them: memory stays bounded under a flood.
  const failures = new LRUCache<string, number[]>({ max: options.maxAddresses ?? 10_000 });
  const live = (address: string, at: number): number[] => {
    const times = (failures.get(address) ?? []).filter((time) => time + options.windowMs > at);
    if (times.length === 0) failures.delete(address);
    return times;
  };
  return {
    retryAfterMs(address) {
      const at = now();
      const times = live(address, at);
      if (times.length < options.maxFailures) return 0;
      return times[times.length - options.maxFailures]! + options.windowMs - at;
    },
    recordFailure(address) {
      const at = now();
      failures.set(address, [...live(address, at), at].slice(-options.maxFailures));
    },
  };
}
