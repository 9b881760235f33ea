/**
 * The response cache's second level, in Redis, with a single flight per key
 * across instances: charts, lists and pages one instance loaded are served
 * to the others, and a key being loaded by one is waited for (bounded) by
 * the rest instead of being sent again.
 *
 * Before loading a key, an instance looks in Redis; finding nothing, it
 * takes the key's lease (SET NX PX). The holder loads and writes the entry
 * (PX: the entry's fresh and stale time, as in process); the others poll
 * for it at most `waitMs`, then load themselves. Redis unreachable or a
 * command failing: the instance loads alone, as without Redis (fail-fast
 * connection: no offline queue, about a second of command timeout at most).
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { withinMs } from '../redis/connections.js';

/** A value some instance loaded, and when (epoch ms). */
export interface SharedResponse {
  readonly value: unknown;
  readonly storedAt: number;
}

export interface SharedResponseLevel {
  /**
   * The entry of `key` from Redis, or another instance's load of it (waited for), or `load()` run here and
   * written for the others. An entry older than `freshMs` is not taken; `keepMs` is how long one is kept in Redis
   * (fresh plus stale, as in process).
   */
  through(key: string, freshMs: number, keepMs: number, signal: AbortSignal, load: () => Promise<unknown>): Promise<SharedResponse>;
}

export interface RedisResponseLevelOptions {
  /** The shared level's connection (src/redis/connections.ts): fails at once while Redis is unreachable. */
  readonly redis: Redis;
  /** Longest wait for one command, in ms (a busy event loop gets one more round of I/O). Default 1000. */
  readonly timeoutMs?: number;
  /** Prefix of every key written, e.g. `${REDIS_KEY_PREFIX}responses:`. */
  readonly keyPrefix: string;
  /** Whether Redis is reachable now; while false every load runs here. Default: always true. */
  readonly available?: () => boolean;
  /** Largest serialised value written, in bytes (larger ones stay in process). Default 512 KiB. */
  readonly maxValueBytes?: number;
  /** Longest wait for another instance's load, in ms. Default 2000. */
  readonly waitMs?: number;
  /** Lifetime of a load's lease, in ms. Default 5000. */
  readonly leaseMs?: number;
  /** Interval between two looks while waiting, in ms. Default 50. */
  readonly pollMs?: number;
  readonly onError?: (error: unknown) => void;
  readonly now?: () => number;
}

export function createRedisResponseLevel(options: RedisResponseLevelOptions): SharedResponseLevel {
  const { redis, keyPrefix } = options;
  const available = options.available ?? (() => true);
  const maxValueBytes = options.maxValueBytes ?? 512 * 1024;
  const waitMs = options.waitMs ?? 2000;
  const leaseMs = options.leaseMs ?? 5000;
  const pollMs = options.pollMs ?? 50;
  const onError = options.onError ?? (() => undefined);
  const now = options.now ?? Date.now;
  const token = randomUUID();
  const timeoutMs = options.timeoutMs ?? 1000;

  /** The stored entry if any and still fresh, undefined if none, or 'failed' when Redis did not answer. */
  const read = async (key: string, freshMs: number): Promise<SharedResponse | undefined | 'failed'> => {
    try {
      const json = await withinMs(redis.get(keyPrefix + key), timeoutMs);
      const entry = json === null ? undefined : (JSON.parse(json) as SharedResponse);
      return entry && typeof entry.storedAt === 'number' && now() < entry.storedAt + freshMs ? entry : undefined;
    } catch (error) {
      onError(error);
      return 'failed';
    }
  };

  const loadHere = async (key: string, keepMs: number, load: () => Promise<unknown>, leased: boolean): Promise<SharedResponse> => {
    try {
      const value = await load();
      const entry: SharedResponse = { value, storedAt: now() };
      let json: string | undefined;
      try {
        json = JSON.stringify(entry);
      } catch {
        json = undefined;
      }
      if (json !== undefined && Buffer.byteLength(json) <= maxValueBytes && available()) {
        redis.set(keyPrefix + key, json, 'PX', Math.max(1, Math.ceil(keepMs))).catch(onError);
      }
      return entry;
    } finally {
      // Done or failed: the others need not wait for this load any longer.
      if (leased) redis.eval(RELEASE, 1, `${keyPrefix}${key}:lease`, token).catch(onError);
    }
  };

  return {
    async through(key, freshMs, keepMs, signal, load) {
      if (!available()) return loadHere(key, keepMs, load, false);
      const found = await read(key, freshMs);
      // One failed command and this load runs alone: a hung Redis costs it one command timeout, not several.
      if (found === 'failed' || !available()) return loadHere(key, keepMs, load, false);
      if (found) return found;
      let leased: boolean;
      try {
        leased = (await withinMs(redis.set(`${keyPrefix}${key}:lease`, token, 'PX', leaseMs, 'NX'), timeoutMs)) === 'OK';
      } catch (error) {
        onError(error);
        return loadHere(key, keepMs, load, false);
      }
      if (leased) return loadHere(key, keepMs, load, true);
      const until = now() + waitMs;
      while (now() < until && !signal.aborted && available()) {
        await new Promise((resolve) => setTimeout(resolve, pollMs));
        const entry = await read(key, freshMs);
        if (entry === 'failed') break;
        if (entry) return entry;
        // The holder finished without an entry (it failed, or its value is too large to share): load here.
        const holder = await withinMs(redis.get(`${keyPrefix}${key}:lease`), timeoutMs).catch(() => null);
        if (holder === null) {
          const last = await read(key, freshMs);
          return last && last !== 'failed' ? last : loadHere(key, keepMs, load, false);
        }
      }
      return loadHere(key, keepMs, load, false);
    },
  };
}

/** Deletes the lease only if this instance still holds it. */
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;
