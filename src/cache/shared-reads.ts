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
import { withinMs } from '../redis/connections.js';
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
  /** The shared level's connection (src/redis/connections.ts): fails at once while Redis is unreachable. */
  readonly redis: Redis;
  /** Longest wait for one command, in ms (a busy event loop gets one more round of I/O). Default 1000. */
  readonly timeoutMs?: number;
  /** Prefix of every key written, e.g. `${REDIS_KEY_PREFIX}reads:`. */
  readonly keyPrefix: string;
  /** The entity storage with the shared level (its `fill` reads Redis). */
  readonly storage: EntityStorage;
  /** The key prefix that storage writes entries under in Redis: an id already there is not read again. */
  readonly entityKeyPrefix: string;
  /** Whether Redis is reachable now; while false nobody waits. Default: always true. */
  readonly available?: () => boolean;
  /** How long a leader keeps its batch open after the latest id joined, now, in ms. Default 50. */
  readonly windowMs?: () => number;
  /** The most a leader keeps its batch open after it opened, in ms. Default 500. */
  readonly maxWaitMs?: number;
  /** The most ids one call takes: a batch that holds as many closes at once. Default 1000. */
  readonly maxIds?: number;
  /** Longest wait for another instance's answer before reading alone, in ms of this process running (a stalled event loop does not count). Default 2000. */
  readonly waitMs?: number;
  /** Lifetime of a batch lease and of an id's in-flight mark, in ms. Default 5000. */
  readonly leaseMs?: number;
  /** Interval between two looks into Redis while waiting, in ms. Default 50. */
  readonly pollMs?: number;
  readonly onError?: (error: unknown) => void;
  readonly now?: () => number;
}

/** Redis's own clock in ms, so instances with skewed clocks agree on a batch's window. */
const REDIS_NOW = `local t = redis.call('TIME') local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

// KEYS: pending ids, lease, last-joined time, then the cache key of each id. ARGV: token, leaseMs, in-flight prefix,
// then the ids. Returns 1 (this caller now leads the batch), 2 (its instance already does) or 0 (another instance does).
const JOIN = `
${REDIS_NOW}
for i = 4, #ARGV do
  if redis.call('EXISTS', KEYS[i]) == 0 and redis.call('EXISTS', ARGV[3] .. ARGV[i]) == 0 then
    redis.call('SADD', KEYS[1], ARGV[i])
  end
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('SET', KEYS[3], now, 'PX', ARGV[2])
local owner = redis.call('GET', KEYS[2])
if not owner then
  redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
  return 1
end
if owner == ARGV[1] then return 2 end
return 0
`;

// KEYS: pending ids, lease, last-joined time. ARGV: token, leaseMs, in-flight prefix, window ms, close-by (ms since
// the batch opened, on Redis's clock), opened at (Redis ms, 0 = unknown), most ids per call.
// While ids keep joining (the last within the window), the batch is not full and its close-by time has not come,
// returns {-1, openedAt}: look again later. Otherwise closes the batch: returns {0, openedAt, ids}, each id marked in flight.
const TAKE = `
${REDIS_NOW}
local opened = tonumber(ARGV[6])
if opened == 0 then opened = now end
local last = tonumber(redis.call('GET', KEYS[3]) or '0')
local size = redis.call('SCARD', KEYS[1])
if size > 0 and size < tonumber(ARGV[7]) and now - last < tonumber(ARGV[4]) and now - opened < tonumber(ARGV[5]) then
  return {-1, opened}
end
local ids = redis.call('SMEMBERS', KEYS[1])
redis.call('DEL', KEYS[1])
if redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end
for _, id in ipairs(ids) do redis.call('SET', ARGV[3] .. id, ARGV[1], 'PX', ARGV[2]) end
return {0, opened, ids}
`;

export function createSharedReads(options: SharedReadsOptions): SharedReads {
  const { redis, keyPrefix, storage } = options;
  const available = options.available ?? (() => true);
  const windowMs = options.windowMs ?? (() => 50);
  const maxWaitMs = options.maxWaitMs ?? 500;
  const maxIds = options.maxIds ?? 1000;
  const waitMs = options.waitMs ?? 2000;
  const leaseMs = options.leaseMs ?? 5000;
  const pollMs = options.pollMs ?? 50;
  const onError = options.onError ?? (() => undefined);
  const now = options.now ?? Date.now;
  const timeoutMs = options.timeoutMs ?? 1000;
  /** Tells this instance's waiters apart from other instances' in the lease. */
  const token = randomUUID();

  /** Keys waited for, by waiter; one poller reads them all per tick. */
  const waiters = new Map<(read: boolean) => void, readonly string[]>();
  // biome-ignore lint/correctness/noUnusedVariables: read by `poller ??=` in nextLook, which Biome counts as a write only.
  let poller: NodeJS.Timeout | undefined;
  /** Wakes every waiter; `read` false when Redis could not be read (each then gives up waiting). */
  const wakeAll = (read = true): void => {
    for (const wake of [...waiters.keys()]) wake(read);
  };
  const poll = async (): Promise<void> => {
    const keys = [...new Set([...waiters.values()].flat())];
    const read = storage.fill && keys.length > 0 ? await storage.fill(keys) : true;
    wakeAll(read);
    poller = waiters.size > 0 ? setTimeout(() => void poll(), pollMs) : undefined;
  };
  /** Resolves at the next look into Redis: false when it failed. */
  const nextLook = (keys: readonly string[]): Promise<boolean> =>
    new Promise((resolve) => {
      const wake = (read: boolean): void => {
        waiters.delete(wake);
        resolve(read);
      };
      waiters.set(wake, keys);
      poller ??= setTimeout(() => void poll(), pollMs);
    });

  const fresh = (key: string): boolean => {
    const entry = storage.get(key);
    return entry !== undefined && now() < entry.freshUntil;
  };

  /** Closes the batch once no id joined for a window (or it is full, or old), then reads its ids here. */
  const lead = (request: SharedReadRequest, keys: { pending: string; lease: string; joined: string; flight: string }, openedAt = 0): void => {
    const window = Math.max(0, windowMs());
    setTimeout(() => {
      (
        withinMs(
          redis.eval(TAKE, 3, keys.pending, keys.lease, keys.joined, token, leaseMs, keys.flight, window, maxWaitMs, openedAt, maxIds),
          timeoutMs,
        ) as Promise<[number, number, string[]?]>
      )
        .then(([state, opened, ids = []]) => {
          if (state === -1) return lead(request, keys, Number(opened));
          return ids.length > 0 ? request.load(ids).then(() => undefined) : undefined;
        })
        .catch(onError)
        // This instance's waiters look again now: found, or read alone.
        .finally(() => wakeAll());
    }, window);
  };

  return {
    async settle(request) {
      const { kind, project, mergeKey, ids } = request;
      const keyOf = (id: string): string => entityKey(kind, project, `${mergeKey}\u0000${id}`);
      if (ids.length === 0 || !available() || !storage.fill) return ids;
      const read = await storage.fill(ids.map(keyOf));
      let missing = ids.filter((id) => !fresh(keyOf(id)));
      // One failed command and this request reads alone: a hung Redis costs it one command timeout, not several.
      if (missing.length === 0 || !read || !available()) return missing;

      const batch = keyPrefix + entityKey(kind, project, mergeKey);
      const keys = { pending: `${batch}:ids`, lease: `${batch}:lease`, joined: `${batch}:joined`, flight: `${batch}:flight:` };
      let role: number;
      try {
        role = (await withinMs(
          redis.eval(
            JOIN,
            3 + missing.length,
            keys.pending,
            keys.lease,
            keys.joined,
            ...missing.map((id) => options.entityKeyPrefix + keyOf(id)),
            token,
            leaseMs,
            keys.flight,
            ...missing,
          ),
          timeoutMs,
        )) as number;
      } catch (error) {
        onError(error);
        return missing;
      }
      if (role === 1) lead(request, keys);

      // The wait counts only time this process could run: while its event loop is stalled (a burst being
      // parsed), a call of its own would not have left either, so the stall must not end the wait.
      let waited = 0;
      let lookedAt = now();
      for (;;) {
        missing = missing.filter((id) => !fresh(keyOf(id)));
        if (missing.length === 0 || waited >= waitMs || now() >= request.deadline || request.signal.aborted || !available()) return missing;
        if (!(await nextLook(missing.map(keyOf)))) return missing.filter((id) => !fresh(keyOf(id)));
        const at = now();
        waited += Math.min(at - lookedAt, 2 * pollMs);
        lookedAt = at;
      }
    },
  };
}
