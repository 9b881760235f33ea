/**
 * Mixpanel's documented rate limits, used as each project's defaults
 * (https://developer.mixpanel.com/reference/rate-limits). Mixpanel counts them per project.
 */
import type { ProjectLimits } from '../mixpanel/rate-limits.js';

export const DOCUMENTED_LIMITS: ProjectLimits = Object.freeze({
  query: Object.freeze({ perHour: 60, concurrent: 5 }),
  export: Object.freeze({ perHour: 60, perSecond: 3, concurrent: 100 }),
  // The limits reference page scopes these per organization; a project is the narrowest safe scope we know.
  lexicon: Object.freeze({ perMinute: 5 }),
  // Annotations and the other App APIs: no published limit; upstream 429s are still honoured.
  app: Object.freeze({}),
  // 2 GB of JSON per rolling minute is a byte budget, not a call count: batching keeps ingestion far below it.
  ingestion: Object.freeze({}),
});

export type WindowName = 'hour' | 'minute' | 'second';

export const WINDOW_MS: Readonly<Record<WindowName, number>> = Object.freeze({
  hour: 3_600_000,
  minute: 60_000,
  second: 1_000,
});

/**
 * How long after a rolling window has passed a counted call is still treated as
 * counted. Mixpanel timestamps a call when it arrives, a little after we send it,
 * and instances sharing a Redis budget compare their own clocks: the margin
 * covers that latency and clock skew, so the gateway never causes a 429 itself.
 */
export const DEFAULT_SAFETY_MARGIN_MS: Readonly<Record<WindowName, number>> = Object.freeze({
  hour: 5_000,
  minute: 1_000,
  second: 250,
});

/** Retries per call on 429, 5xx and timeouts (each retry is a call sent, and is counted). */
export const DEFAULT_MAX_RETRIES = 2;

/** A concurrency lease not renewed for this long is dropped (its instance is presumed dead). */
export const DEFAULT_LEASE_MS = 60_000;

/** How often a call waiting only for a concurrency slot re-checks a shared store (other instances release there). */
export const DEFAULT_POLL_MS = 1_000;

/** Priority of background cache refreshes: after every interactive call (priority 0). */
export const BACKGROUND_PRIORITY = 10;

/** Part of each hourly window kept for interactive calls: background refreshes never spend it. */
export const DEFAULT_INTERACTIVE_RESERVE = 0.2;
