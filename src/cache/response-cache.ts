/**
 * The gateway's one response cache (shared by every project: keys carry the
 * project), bounded in bytes of serialised JSON.
 *
 * - Fresh entries are served as they are.
 * - Stale entries (past their TTL, within `staleMs`) are served at once while
 *   one background refresh runs (stale-while-revalidate); when that refresh
 *   fails or the budget refuses it, the stale value keeps being served until
 *   `staleMs` runs out (stale-if-error), with one refresh attempt per TTL.
 * - Past `staleMs`, an entry is kept for `lastResortMs` more: a request loads
 *   afresh, and only when the budget refuses that load (RateLimitedError) is
 *   the old value served, counted as stale, instead of the refusal.
 * - Identical calls in flight share one load; a waiter that aborts leaves
 *   without cancelling the load for the others.
 *
 * Freshness and in-flight sharing are tracked here rather than through
 * lru-cache's fetch(): a shared load must outlive the request that started it,
 * and only this layer knows which requests still wait for it.
 */
import { LRUCache } from 'lru-cache';
import type { RequestStats } from '../limits/types.js';
import type { Metrics } from '../observability/metrics.js';
import { RateLimitedError } from '../mixpanel/errors.js';
import type { CacheKind } from './kinds.js';
import type { SharedResponseLevel } from './redis-response-level.js';

export interface ResponseCacheOptions {
  /** Upper bound, in bytes of serialised JSON (keys included). Entries larger than this are not stored; 0 stores nothing. */
  readonly maxBytes: number;
  /** Time source (epoch ms). Default Date.now. */
  readonly clock?: { now(): number };
  readonly metrics?: Metrics;
  /**
   * A level shared with other instances (src/cache/redis-response-level.ts): a load first looks there and waits
   * for another instance loading the same key. Background refreshes skip it. Default: none.
   */
  readonly shared?: SharedResponseLevel | undefined;
}

/** When a refresh of a stale entry runs, the time until which the stale value stays servable. */
export interface BackgroundRefresh {
  readonly staleUntil: number;
}

export interface CachedCall<T> {
  /** How long a loaded value is fresh, in ms; 0 never stores it (in-flight sharing only). */
  readonly ttlMs: number;
  /** How long past its TTL a value may still be served while it refreshes or while refreshing fails. */
  readonly staleMs: number;
  /** How long past `staleMs` a value is kept to stand in for a load the budget refuses. Default 0. */
  readonly lastResortMs?: number | undefined;
  /** The waiting request's signal: aborting it abandons only this waiter. */
  readonly signal: AbortSignal;
  readonly stats?: RequestStats | undefined;
  readonly labels: { readonly project: string; readonly kind: CacheKind };
  /** Loads the value; `refresh` is set for a background refresh of a stale entry (no request waits for it). */
  readonly load: (signal: AbortSignal, refresh: BackgroundRefresh | undefined) => Promise<T>;
  /** Called when a stale value is served (for metrics). */
  readonly onStale?: ((kind: CacheKind) => void) | undefined;
  /**
   * When the value `load` resolved with was read from Mixpanel, when it was read earlier than it resolved
   * (it came from a cache below this one): it is then fresh only until that time plus `ttlMs`. Default: now.
   */
  readonly loadedAt?: (() => number | undefined) | undefined;
}

export interface ResponseCache {
  /** Serves the call from the cache, from a load already in flight, or by loading it. */
  get<T>(key: string, call: CachedCall<T>): Promise<T>;
  /** Joins a load in flight or starts one, past the cache. */
  load<T>(key: string, call: CachedCall<T>): Promise<T>;
  /** Drops every entry whose key starts with `prefix`; loads in flight for them are not stored. Returns how many entries. */
  invalidate(prefix: string): number;
  /** Bytes currently held. */
  readonly bytes: number;
}

/**
 * TTL kind of an analytics result: a range ending before today cannot change any more. "Today" is the
 * project's (`timeZone`, an IANA name; default UTC), as Mixpanel reads Query API dates in it.
 */
export function analyticsKind(toDate: string, now: number, timeZone = 'UTC'): 'analyticsClosed' | 'analyticsToday' {
  // en-CA formats dates as yyyy-mm-dd.
  const today = timeZone === 'UTC' ? new Date(now).toISOString().slice(0, 10) : new Intl.DateTimeFormat('en-CA', { timeZone }).format(now);
  return toDate < today ? 'analyticsClosed' : 'analyticsToday';
}

interface Entry {
  readonly value: unknown;
  readonly size: number;
  /** When it was loaded (epoch ms). */
  readonly storedAt: number;
  readonly freshUntil: number;
  readonly staleUntil: number;
  /** After a failed refresh, the next one waits until then. */
  nextRefreshAt: number;
}

interface Flight {
  readonly promise: Promise<unknown>;
  readonly controller: AbortController;
  readonly background: boolean;
  waiters: number;
  /** Set when an invalidation covered this key while loading: the result is not stored. */
  invalidated: boolean;
}

function sizeOf(key: string, value: unknown): number {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch {
    json = undefined;
  }
  return Buffer.byteLength(key) + Buffer.byteLength(json ?? 'null');
}

function noteMaxAge(stats: RequestStats | undefined, remainingMs: number): void {
  if (!stats) return;
  const seconds = Math.max(0, Math.floor(remainingMs / 1000));
  stats.maxAgeSeconds = stats.maxAgeSeconds === undefined ? seconds : Math.min(stats.maxAgeSeconds, seconds);
}

export function createResponseCache(options: ResponseCacheOptions): ResponseCache {
  const clock = options.clock ?? { now: () => Date.now() };
  const { metrics } = options;
  const entries = new LRUCache<string, Entry>({
    // lru-cache refuses a zero bound; a 1-byte one stores nothing either (every entry is larger), as 0 means.
    maxSize: Math.max(1, options.maxBytes),
    sizeCalculation: (entry) => entry.size,
    perf: { now: () => clock.now() },
    // Read the clock on every check: an injected clock may jump.
    ttlResolution: 0,
  });
  const flights = new Map<string, Flight>();

  const record = (call: CachedCall<unknown>, result: 'hit' | 'stale' | 'miss' | 'shared'): void => {
    metrics?.cacheLookups.inc({ project: call.labels.project, kind: call.labels.kind, result });
  };

  const store = (key: string, value: unknown, call: CachedCall<unknown>, loadedAt = clock.now()): void => {
    const now = Math.min(loadedAt, clock.now());
    const entry: Entry = {
      value,
      size: sizeOf(key, value),
      storedAt: now,
      freshUntil: now + call.ttlMs,
      staleUntil: now + call.ttlMs + call.staleMs,
      nextRefreshAt: now + call.ttlMs,
    };
    entries.set(key, entry, { ttl: call.ttlMs + call.staleMs + (call.lastResortMs ?? 0) });
  };

  const start = <T>(key: string, call: CachedCall<T>, refresh: BackgroundRefresh | undefined): Flight => {
    const controller = new AbortController();
    const { shared } = options;
    // Another instance's entry keeps the time it was loaded: it is fresh no longer than it would be there.
    const loaded =
      shared && call.ttlMs > 0 && refresh === undefined
        ? shared.through(key, call.ttlMs, call.ttlMs + call.staleMs, controller.signal, () => call.load(controller.signal, refresh))
        : call.load(controller.signal, refresh).then((value) => ({ value, storedAt: clock.now() }));
    const promise = loaded.then(({ value, storedAt }) => {
      if (call.ttlMs > 0 && !flight.invalidated) store(key, value, call, Math.min(storedAt, call.loadedAt?.() ?? storedAt));
      return value;
    });
    const flight: Flight = { promise, controller, background: refresh !== undefined, waiters: 0, invalidated: false };
    flights.set(key, flight);
    const forget = (): void => {
      if (flights.get(key) === flight) flights.delete(key);
    };
    // Waiters observe the outcome; this handler only ends the flight (and keeps a failure nobody awaits from going unhandled).
    promise.then(forget, forget);
    return flight;
  };

  const join = <T>(key: string, flight: Flight, call: CachedCall<T>): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const { signal } = call;
      let done = false;
      const leave = (): boolean => {
        if (done) return false;
        done = true;
        flight.waiters--;
        signal.removeEventListener('abort', onAbort);
        return true;
      };
      const onAbort = (): void => {
        if (!leave()) return;
        // The last waiter gone: stop a load nobody wants any more (it may not even have been sent yet).
        if (flight.waiters === 0 && !flight.background) {
          if (flights.get(key) === flight) flights.delete(key);
          flight.controller.abort(signal.reason);
        }
        reject(signal.reason);
      };
      flight.waiters++;
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      flight.promise.then(
        (value) => {
          if (!leave()) return;
          if (call.ttlMs > 0) noteMaxAge(call.stats, call.ttlMs);
          resolve(value as T);
        },
        (error: unknown) => {
          if (leave()) reject(error);
        },
      );
    });

  /** A load the budget refused: the kept value stands in, said to be stale; any other failure stays a failure. */
  const serveLastResort = <T>(entry: Entry, call: CachedCall<T>, error: unknown, now: number): T => {
    if (!(error instanceof RateLimitedError) || call.signal.aborted) throw error;
    if (call.stats) {
      call.stats.staleAnswers = (call.stats.staleAnswers ?? 0) + 1;
      call.stats.staleSeconds = Math.max(call.stats.staleSeconds ?? 0, Math.floor((now - entry.storedAt) / 1000));
    }
    call.onStale?.(call.labels.kind);
    noteMaxAge(call.stats, 0);
    return entry.value as T;
  };

  const refreshInBackground = (key: string, entry: Entry, call: CachedCall<unknown>, now: number): void => {
    if (flights.has(key) || now < entry.nextRefreshAt) return;
    start(key, call, { staleUntil: entry.staleUntil }).promise.catch(() => {
      // Keep serving the stale value; try again one TTL later rather than on every request.
      entry.nextRefreshAt = clock.now() + call.ttlMs;
    });
  };

  return {
    get<T>(key: string, call: CachedCall<T>): Promise<T> {
      const now = clock.now();
      if (call.ttlMs > 0) {
        const entry = entries.get(key);
        if (entry && now < entry.freshUntil) {
          record(call, 'hit');
          if (call.stats) call.stats.cacheHits++;
          noteMaxAge(call.stats, entry.freshUntil - now);
          return Promise.resolve(entry.value as T);
        }
        if (entry && now < entry.staleUntil) {
          record(call, 'stale');
          if (call.stats) {
            call.stats.cacheHits++;
            call.stats.staleAnswers = (call.stats.staleAnswers ?? 0) + 1;
            call.stats.staleSeconds = Math.max(call.stats.staleSeconds ?? 0, Math.floor((now - entry.storedAt) / 1000));
          }
          call.onStale?.(call.labels.kind);
          noteMaxAge(call.stats, 0);
          refreshInBackground(key, entry, call, now);
          return Promise.resolve(entry.value as T);
        }
        record(call, 'miss');
        if (call.stats) call.stats.cacheMisses++;
        if (entry) return this.load(key, call).catch((error: unknown) => serveLastResort(entry, call, error, now));
      }
      return this.load(key, call);
    },

    load<T>(key: string, call: CachedCall<T>): Promise<T> {
      const pending = flights.get(key);
      // A request must not wait behind a low-priority refresh: it starts a load of its own.
      if (pending && !pending.background) {
        record(call, 'shared');
        if (call.stats) call.stats.deduplicated++;
        return join(key, pending, call);
      }
      return join(key, start(key, call, undefined), call);
    },

    invalidate(prefix) {
      for (const [key, flight] of flights) {
        if (key.startsWith(prefix)) {
          flight.invalidated = true;
          flights.delete(key);
        }
      }
      let dropped = 0;
      for (const key of [...entries.keys()]) {
        if (key.startsWith(prefix) && entries.delete(key)) dropped++;
      }
      return dropped;
    },

    get bytes() {
      return entries.calculatedSize;
    },
  };
}
