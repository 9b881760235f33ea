/**
 * The entity cache: Mixpanel data kept per entity rather than per call, so a
 * request for a set of profiles sends only the ids nobody fetched recently.
 *
 * Kinds: a profile per (group key, distinct id), an activity stream per
 * (date range, distinct id), a cohort's member set per cohort, an event's
 * counts per (type, unit, date range, event). An id Mixpanel does not know is
 * cached as absent, for a shorter time than a found one, so a typo is not
 * asked for again on every request but a profile created a moment later
 * still shows up soon.
 *
 * Entries outlive their TTL by `staleMs`: the runtime serves them, saying how
 * old they are, when the budget cannot fit a fresh read.
 *
 * Storage sits behind EntityStorage so a shared second level (Redis) can be
 * added later without touching the callers; the default is in-process,
 * bounded in bytes like the response cache.
 */
import { LRUCache } from 'lru-cache';
import type { Metrics } from '../observability/metrics.js';

/** The kinds of entity cached; each is a label of the hit/miss metric. */
export type EntityKind = 'profile' | 'activity' | 'cohortMembers' | 'eventCounts';

/** One cached entity: its value, or `absent` when Mixpanel said it does not exist. */
export interface EntityEntry<T> {
  readonly value: T | undefined;
  readonly absent: boolean;
  /** When the value was read from Mixpanel (epoch ms). */
  readonly fetchedAt: number;
  readonly freshUntil: number;
  readonly staleUntil: number;
}

/** Where entries live. Keys are opaque strings; a shared store must namespace them itself. */
export interface EntityStorage {
  get(key: string): EntityEntry<unknown> | undefined;
  /** `sizeBytes` is the entry's serialised size, for byte-bounded stores; `ttlMs` how long it may be kept. */
  set(key: string, entry: EntityEntry<unknown>, sizeBytes: number, ttlMs: number): void;
  /** Drops every key starting with `prefix`. */
  deletePrefix(prefix: string): void;
  readonly bytes: number;
  /**
   * A second level shared with other instances (src/cache/redis-entity-storage.ts): brings the entries of
   * `keys` it holds into this storage, so `get` finds them. Never throws; resolves false when the shared level
   * could not be read (unreachable, failed, timed out), true otherwise.
   */
  fill?(keys: readonly string[]): Promise<boolean>;
}

export interface EntityCacheOptions {
  /** Upper bound of the default storage, in bytes of serialised JSON (keys included). 0 stores nothing. */
  readonly maxBytes: number;
  /** Default: a byte-bounded in-process LRU of `maxBytes`. */
  readonly storage?: EntityStorage;
  /** Time source (epoch ms). Default Date.now. */
  readonly clock?: { now(): number };
  readonly metrics?: Metrics;
}

export type EntityLookup<T> =
  | { readonly state: 'fresh'; readonly entry: EntityEntry<T> }
  | { readonly state: 'stale'; readonly entry: EntityEntry<T> }
  | { readonly state: 'missing' };

export interface EntityCache {
  lookup<T>(kind: EntityKind, project: string, key: string): EntityLookup<T>;
  /** Whether an entry (fresh or stale) is held, without counting a lookup. */
  has(kind: EntityKind, project: string, key: string): boolean;
  /** Whether a fresh entry is held, without counting a lookup. */
  isFresh(kind: EntityKind, project: string, key: string): boolean;
  /** Stores a found entity for `ttlMs` (then servable as stale for `staleMs`). */
  store<T>(kind: EntityKind, project: string, key: string, value: T, ttlMs: number, staleMs: number): void;
  /** Stores "Mixpanel does not know this id" for `ttlMs`. */
  storeAbsent(kind: EntityKind, project: string, key: string, ttlMs: number): void;
  /** Drops one kind of one project. */
  invalidate(kind: EntityKind, project: string): void;
  /** Brings entries other instances stored for these keys (when the storage has a shared level) into reach of `lookup`. */
  fill(kind: EntityKind, project: string, keys: readonly string[]): Promise<boolean>;
  readonly bytes: number;
}

/** The default storage: in-process, bounded in bytes. */
export function createMemoryEntityStorage(maxBytes: number): EntityStorage {
  const entries = new LRUCache<string, { entry: EntityEntry<unknown>; size: number }>({
    // lru-cache refuses a zero bound; a 1-byte one stores nothing either (every entry is larger).
    maxSize: Math.max(1, maxBytes),
    sizeCalculation: (item) => item.size,
  });
  return {
    get: (key) => entries.get(key)?.entry,
    set(key, entry, sizeBytes, ttlMs) {
      if (ttlMs <= 0) return;
      entries.set(key, { entry, size: sizeBytes }, { ttl: ttlMs });
    },
    deletePrefix(prefix) {
      for (const key of [...entries.keys()]) if (key.startsWith(prefix)) entries.delete(key);
    },
    get bytes() {
      return entries.calculatedSize;
    },
  };
}

/** The storage key of one entity: what a shared level names its entries by. */
export const entityKey = (kind: EntityKind, project: string, key: string): string => `${JSON.stringify([project, kind]).slice(0, -1)},${JSON.stringify(key)}]`;
const prefixOf = (kind: EntityKind, project: string): string => `${JSON.stringify([project, kind]).slice(0, -1)},`;

function sizeOf(key: string, value: unknown): number {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch {
    json = undefined;
  }
  return Buffer.byteLength(key) + Buffer.byteLength(json ?? 'null') + 64;
}

export function createEntityCache(options: EntityCacheOptions): EntityCache {
  const clock = options.clock ?? { now: () => Date.now() };
  const storage = options.storage ?? createMemoryEntityStorage(options.maxBytes);
  const { metrics } = options;
  return {
    lookup<T>(kind: EntityKind, project: string, key: string): EntityLookup<T> {
      const entry = storage.get(entityKey(kind, project, key)) as EntityEntry<T> | undefined;
      const now = clock.now();
      const state = !entry || now >= entry.staleUntil ? 'missing' : now < entry.freshUntil ? 'fresh' : 'stale';
      metrics?.entityCacheLookups.inc({ project, kind, result: state === 'fresh' ? 'hit' : state });
      return state === 'missing' || !entry ? { state: 'missing' } : { state, entry };
    },
    has(kind, project, key) {
      const entry = storage.get(entityKey(kind, project, key));
      return entry !== undefined && clock.now() < entry.staleUntil;
    },
    isFresh(kind, project, key) {
      const entry = storage.get(entityKey(kind, project, key));
      return entry !== undefined && clock.now() < entry.freshUntil;
    },
    store(kind, project, key, value, ttlMs, staleMs) {
      const now = clock.now();
      const full = entityKey(kind, project, key);
      storage.set(
        full,
        { value, absent: false, fetchedAt: now, freshUntil: now + ttlMs, staleUntil: now + ttlMs + staleMs },
        sizeOf(full, value),
        ttlMs + staleMs,
      );
    },
    storeAbsent(kind, project, key, ttlMs) {
      const now = clock.now();
      const full = entityKey(kind, project, key);
      storage.set(full, { value: undefined, absent: true, fetchedAt: now, freshUntil: now + ttlMs, staleUntil: now + ttlMs }, sizeOf(full, null), ttlMs);
    },
    invalidate(kind, project) {
      storage.deletePrefix(prefixOf(kind, project));
    },
    async fill(kind, project, keys) {
      return storage.fill && keys.length > 0 ? storage.fill(keys.map((key) => entityKey(kind, project, key))) : true;
    },
    get bytes() {
      return storage.bytes;
    },
  };
}
