/**
 * Cross-instance single flight of entity reads: several gateway instances on
 * one Redis read each entity once between them, in merged calls as one
 * instance would.
 *
 * Per merge key (e.g. the profiles of one group key) Redis holds one open
 * batch: a set of ids and a short lease naming the instance that will send
 * it. An instance about to read ids nobody holds adds them to that set; the
 * first to find no lease takes it (SET NX PX semantics, inside one script)
 * and, after the merge window, takes the set (marking each id in flight for
 * one lease) and reads those ids through its own batcher and budget. The
 * answers land in the shared entity cache (src/cache/redis-entity-storage.ts).
 * Every other instance waits, polling, for its ids to appear there, at most
 * `waitMs`, then reads what is still missing itself: a leader that died or
 * was refused by the budget costs the others one bounded wait, never an
 * answer.
 *
 * Redis unreachable or failing: nothing is waited for, the instance reads
 * alone (as without Redis). The scripts build the in-flight keys from a
 * prefix, so they suit one Redis (or one cluster slot), not a sharded cluster.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { entityKey, type EntityKind, type EntityStorage } from './entity-cache.js';

/** What a source asks before it reads `ids` itself. */
export interface SharedReadRequest {
  readonly kind: EntityKind;
  readonly project: string;
  readonly mergeKey: string;
  readonly ids: readonly string[];
  /** Epoch ms past which the request cannot wait any longer. */
  readonly deadline: number;
  readonly signal: AbortSignal;
  /** Reads ids (this instance leads their batch) into the entity cache. */
  readonly load: (ids: readonly string[]) => Promise<unknown>;
}

export interface SharedReads {
  /** Waits (bounded) for what other instances read; returns the ids this instance must still read itself. */
  settle(request: SharedReadRequest): Promise<readonly string[]>;
}

export interface SharedReadsOptions {
  /** The fail-fast command connection (src/server/redis-connections.ts). */
  readonly redis: Redis;
  /** Prefix of every key written, e.g. `${REDIS_KEY_PREFIX}reads:`. */
  readonly keyPrefix: string;
  /** The entity storage with the shared level (its `fill` reads Redis). */
  readonly storage: EntityStorage;
  /** The key prefix that storage writes entries under in Redis: an id already there is not read again. */
  readonly entityKeyPrefix: string;
  /** Whether Redis is reachable now; while false nobody waits. Default: always true. */
  readonly available?: () => boolean;
  /** How long a leader keeps its batch open for other instances' ids, in ms. Default 50. */
  readonly windowMs?: () => number;
  /** Longest wait for another instance's answer before reading alone, in ms. Default 2000. */
  readonly waitMs?: number;
  /** Lifetime of a batch lease and of an id's in-flight mark, in ms. Default 5000. */
  readonly leaseMs?: number;
  /** Interval between two looks into Redis while waiting, in ms. Default 50. */
  readonly pollMs?: number;
  readonly onError?: (error: unknown) => void;
  readonly now?: () => number;
}

// KEYS: pending ids, lease, then the cache key of each id. ARGV: token, leaseMs, in-flight prefix, then the ids.
// Returns 1 (this caller now leads the batch), 2 (its instance already does) or 0 (another instance does).
const JOIN = `
for i = 4, #ARGV do
  if redis.call('EXISTS', KEYS[i - 1]) == 0 and redis.call('EXISTS', ARGV[3] .. ARGV[i]) == 0 then
    redis.call('SADD', KEYS[1], ARGV[i])
  end
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
local owner = redis.call('GET', KEYS[2])
if not owner then
  redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
  return 1
end
if owner == ARGV[1] then return 2 end
return 0
`;

// KEYS: pending ids, lease. ARGV: token, leaseMs, in-flight prefix. Closes the batch: returns its ids, each marked in flight.
const TAKE = `
local ids = redis.call('SMEMBERS', KEYS[1])
redis.call('DEL', KEYS[1])
if redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end
for _, id in ipairs(ids) do redis.call('SET', ARGV[3] .. id, ARGV[1], 'PX', ARGV[2]) end
return ids
`;

export function createSharedReads(options: SharedReadsOptions): SharedReads {
  const { redis, keyPrefix, storage } = options;
  const available = options.available ?? (() => true);
  const windowMs = options.windowMs ?? (() => 50);
  const waitMs = options.waitMs ?? 2000;
  const leaseMs = options.leaseMs ?? 5000;
  const pollMs = options.pollMs ?? 50;
  const onError = options.onError ?? (() => undefined);
  const now = options.now ?? Date.now;
  /** Tells this instance's waiters apart from other instances' in the lease. */
  const token = randomUUID();

  /** Keys waited for, by waiter; one poller reads them all per tick. */
  const waiters = new Map<() => void, readonly string[]>();
  let poller: NodeJS.Timeout | undefined;
  const wakeAll = (): void => {
    for (const wake of [...waiters.keys()]) wake();
  };
  const poll = async (): Promise<void> => {
    const keys = [...new Set([...waiters.values()].flat())];
    if (storage.fill && keys.length > 0) await storage.fill(keys);
    wakeAll();
    poller = waiters.size > 0 ? setTimeout(() => void poll(), pollMs) : undefined;
  };
  const nextLook = (keys: readonly string[]): Promise<void> =>
    new Promise((resolve) => {
      const wake = (): void => {
        waiters.delete(wake);
        resolve();
      };
      waiters.set(wake, keys);
      poller ??= setTimeout(() => void poll(), pollMs);
    });

  const fresh = (key: string): boolean => {
    const entry = storage.get(key);
    return entry !== undefined && now() < entry.freshUntil;
  };

  const lead = (request: SharedReadRequest, pendingKey: string, leaseKey: string, flightPrefix: string): void => {
    setTimeout(() => {
      (redis.eval(TAKE, 2, pendingKey, leaseKey, token, leaseMs, flightPrefix) as Promise<string[]>)
        .then((ids) => (ids.length > 0 ? request.load(ids) : undefined))
        .catch(onError)
        // Whatever the outcome, this instance's waiters look again now: found, or read alone.
        .finally(wakeAll);
    }, Math.max(0, windowMs()));
  };

  return {
    async settle(request) {
      const { kind, project, mergeKey, ids } = request;
      const keyOf = (id: string): string => entityKey(kind, project, `${mergeKey}\u0000${id}`);
      if (ids.length === 0 || !available() || !storage.fill) return ids;
      await storage.fill(ids.map(keyOf));
      let missing = ids.filter((id) => !fresh(keyOf(id)));
      if (missing.length === 0 || !available()) return missing;

      const batch = keyPrefix + entityKey(kind, project, mergeKey);
      const pendingKey = `${batch}:ids`;
      const leaseKey = `${batch}:lease`;
      const flightPrefix = `${batch}:flight:`;
      let role: number;
      try {
        role = (await redis.eval(JOIN, 2 + missing.length, pendingKey, leaseKey, ...missing.map((id) => options.entityKeyPrefix + keyOf(id)), token, leaseMs, flightPrefix, ...missing)) as number;
      } catch (error) {
        onError(error);
        return missing;
      }
      if (role === 1) lead(request, pendingKey, leaseKey, flightPrefix);

      const until = Math.min(now() + waitMs, request.deadline);
      for (;;) {
        missing = missing.filter((id) => !fresh(keyOf(id)));
        if (missing.length === 0 || now() >= until || request.signal.aborted || !available()) return missing;
        await nextLook(missing.map(keyOf));
      }
    },
  };
}
