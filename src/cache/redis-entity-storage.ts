/**
 * The entity cache's second level, in Redis, shared by every instance on it.
 *
 * Reads stay in process: `get` answers from the local level only, and
 * `fill` copies what Redis holds for some keys into it before the caller
 * looks them up. Writes go to both: the local level at once, Redis in the
 * background with the entry's own remaining lifetime as its PX, so an entry
 * is never served longer in Redis than in process.
 *
 * Redis is a dependency that may go away: every command runs on the
 * gateway's fail-fast connection (no offline queue, a command timeout of
 * about a second), nothing is sent while it is known to be unreachable, and
 * a failure leaves the caller with what the local level knows. Values
 * larger than `maxValueBytes` stay local (one huge cohort must not fill
 * Redis).
 */
import type { Redis } from 'ioredis';
import { withinMs } from '../redis/connections.js';
import type { EntityEntry, EntityStorage } from './entity-cache.js';

export interface RedisEntityStorageOptions {
  /** The shared level's connection (src/redis/connections.ts): fails at once while Redis is unreachable. */
  readonly redis: Redis;
  /** Longest wait for a read, in ms (a busy event loop gets one more round of I/O). Default 1000. */
  readonly timeoutMs?: number;
  /** Prefix of every key written, e.g. `${REDIS_KEY_PREFIX}entities:`. */
  readonly keyPrefix: string;
  /** The in-process level every read is answered from. */
  readonly local: EntityStorage;
  /** Whether Redis is reachable now; while false nothing is sent. Default: always true. */
  readonly available?: () => boolean;
  /** Largest serialised entry written to Redis, in bytes. Default 512 KiB. */
  readonly maxValueBytes?: number;
  /** Called when a Redis command fails (throttled logging is the caller's). Default: nothing. */
  readonly onError?: (error: unknown) => void;
  /** Time source (epoch ms). Default Date.now. */
  readonly now?: () => number;
}

/** Default of `maxValueBytes`. */
export const DEFAULT_SHARED_VALUE_BYTES = 512 * 1024;

/** Redis glob characters in a key prefix, escaped for SCAN MATCH. */
const globEscape = (text: string): string => text.replace(/[*?[\]\\]/g, '\\$&');

export function createRedisEntityStorage(options: RedisEntityStorageOptions): EntityStorage {
  const { redis, keyPrefix, local } = options;
  const available = options.available ?? (() => true);
  const maxValueBytes = options.maxValueBytes ?? DEFAULT_SHARED_VALUE_BYTES;
  const now = options.now ?? Date.now;
  const onError = options.onError ?? (() => undefined);
  const timeoutMs = options.timeoutMs ?? 1000;

  return {
    get: (key) => local.get(key),

    set(key, entry, sizeBytes, ttlMs) {
      local.set(key, entry, sizeBytes, ttlMs);
      if (ttlMs <= 0 || sizeBytes > maxValueBytes || !available()) return;
      let json: string;
      try {
        json = JSON.stringify(entry);
      } catch {
        return;
      }
      if (Buffer.byteLength(json) > maxValueBytes) return;
      redis.set(keyPrefix + key, json, 'PX', Math.max(1, Math.ceil(ttlMs))).catch(onError);
    },

    deletePrefix(prefix) {
      local.deletePrefix(prefix);
      if (!available()) return;
      // Invalidations are rare (a write through the gateway, a webhook sync): a SCAN is affordable then.
      const stream = redis.scanStream({ match: `${globEscape(keyPrefix + prefix)}*`, count: 500 });
      stream.on('data', (keys: string[]) => {
        if (keys.length > 0) redis.unlink(...keys).catch(onError);
      });
      stream.on('error', onError);
    },

    get bytes() {
      return local.bytes;
    },

    async fill(keys) {
      const at = now();
      // A local entry past its TTL may have a fresher copy in Redis.
      const wanted = keys.filter((key) => {
        const entry = local.get(key);
        return entry === undefined || at >= entry.freshUntil;
      });
      if (wanted.length === 0) return true;
      if (!available()) return false;
      let values: (string | null)[];
      try {
        values = await withinMs(redis.mget(...wanted.map((key) => keyPrefix + key)), timeoutMs);
      } catch (error) {
        onError(error);
        return false;
      }
      values.forEach((json, i) => {
        const key = wanted[i];
        if (json === null || key === undefined) return;
        let entry: EntityEntry<unknown>;
        try {
          entry = JSON.parse(json) as EntityEntry<unknown>;
        } catch {
          return;
        }
        if (typeof entry !== 'object' || entry === null || typeof entry.staleUntil !== 'number' || entry.staleUntil <= at) return;
        const held = local.get(key);
        if (held && held.fetchedAt >= entry.fetchedAt) return;
        // The local copy lives as long as the entry has left, not a full TTL again.
        local.set(key, entry, Buffer.byteLength(key) + Buffer.byteLength(json), entry.staleUntil - at);
      });
      return true;
    },
  };
}
