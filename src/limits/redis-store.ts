/**
 * A budget store in Redis, so several gateway instances share one budget per
 * project (Mixpanel counts per project, not per client). Each operation is one
 * Lua script, hence atomic. Rolling windows are sorted sets of send times;
 * concurrency slots are leases (a sorted set of expiries), so a crashed
 * instance cannot hold a slot for longer than one lease.
 *
 * Times come from each instance's clock (NTP-synced hosts assumed); the
 * budget's safety margin absorbs the remaining skew.
 */
import type { Redis } from 'ioredis';
import type { ApiFamily } from '../mixpanel/types.js';
import type { WindowName } from './defaults.js';
import type { BudgetStore, WindowLimit } from './store.js';

export interface RedisBudgetStoreOptions {
  /** Prefix of every key this store writes. Default "mpgw:budget:". */
  readonly keyPrefix?: string;
}

// KEYS: leases, backoff, window sets...  ARGV: now, leaseId, leaseUntil, concurrent (-1 = none), then limit, span
// per window (so KEYS[i]'s limit is ARGV[2i-1] and its span ARGV[2i]).
const ACQUIRE = `
local now = tonumber(ARGV[1])
local blockedUntil = 0
local backoff = tonumber(redis.call('GET', KEYS[2]) or '0')
if backoff > now then blockedUntil = backoff end
for i = 3, #KEYS do
  local limit = tonumber(ARGV[2 * i - 1])
  local span = tonumber(ARGV[2 * i])
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - span)
  local count = redis.call('ZCARD', KEYS[i])
  if count >= limit then
    local leaving = redis.call('ZRANGE', KEYS[i], count - limit, count - limit, 'WITHSCORES')
    local freeAt = tonumber(leaving[2]) + span
    if freeAt > blockedUntil then blockedUntil = freeAt end
  end
end
local concurrent = tonumber(ARGV[4])
local full = 0
local leaseExpiresAt = -1
if concurrent >= 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
  if redis.call('ZCARD', KEYS[1]) >= concurrent then
    full = 1
    local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
    if #first > 0 then leaseExpiresAt = tonumber(first[2]) end
  end
end
if blockedUntil > now or full == 1 then
  return {0, blockedUntil, full, leaseExpiresAt}
end
for i = 3, #KEYS do
  local span = tonumber(ARGV[2 * i])
  redis.call('ZADD', KEYS[i], now, ARGV[2])
  redis.call('PEXPIRE', KEYS[i], math.ceil(span))
end
local leaseUntil = tonumber(ARGV[3])
redis.call('ZADD', KEYS[1], leaseUntil, ARGV[2])
if redis.call('PTTL', KEYS[1]) < leaseUntil - now then redis.call('PEXPIRE', KEYS[1], math.ceil(leaseUntil - now)) end
return {1, 0, 0, -1}
`;

// KEYS: leases. ARGV: leaseId, leaseUntil, now.
const RENEW = `
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
local ttl = tonumber(ARGV[2]) - tonumber(ARGV[3])
if ttl > 0 and redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], math.ceil(ttl)) end
return 1
`;

// KEYS: backoff. ARGV: until, now.
const BACKOFF = `
local untilAt = tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local ttl = untilAt - tonumber(ARGV[2])
if untilAt > current and ttl > 0 then redis.call('SET', KEYS[1], ARGV[1], 'PX', math.ceil(ttl)) end
return 1
`;

// KEYS: leases, backoff, window sets...  ARGV: now, span per window.
const USAGE = `
local now = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local result = {redis.call('ZCARD', KEYS[1]), tonumber(redis.call('GET', KEYS[2]) or '0')}
for i = 3, #KEYS do
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - tonumber(ARGV[i - 1]))
  local first = redis.call('ZRANGE', KEYS[i], 0, 0, 'WITHSCORES')
  table.insert(result, redis.call('ZCARD', KEYS[i]))
  table.insert(result, #first > 0 and tonumber(first[2]) or -1)
end
return result
`;

const COMMANDS = {
  mpgwBudgetAcquire: ACQUIRE,
  mpgwBudgetRenew: RENEW,
  mpgwBudgetBackoff: BACKOFF,
  mpgwBudgetUsage: USAGE,
} as const;

type CommandName = keyof typeof COMMANDS;
type ScriptRunner = (numberOfKeys: number, ...keysAndArgs: (string | number)[]) => Promise<unknown>;

/**
 * A store over an ioredis connection the caller owns (and closes): `close()`
 * leaves the connection open. Keys expire on their own once idle.
 */
export function createRedisBudgetStore(redis: Redis, options: RedisBudgetStoreOptions = {}): BudgetStore {
  const keyPrefix = options.keyPrefix ?? 'mpgw:budget:';
  for (const [name, lua] of Object.entries(COMMANDS)) {
    // defineCommand sends EVALSHA and falls back to EVAL once per connection.
    if (!(name in redis)) redis.defineCommand(name, { lua });
  }
  const run = (name: CommandName, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> => {
    const runner = (redis as unknown as Record<CommandName, ScriptRunner>)[name];
    return runner.call(redis, keys.length, ...keys, ...args);
  };

  // The hash tag keeps one family's keys in one Redis Cluster slot, as a script requires.
  const base = (scope: string, family: ApiFamily): string => `${keyPrefix}{${scope}:${family}}`;
  const leasesKey = (scope: string, family: ApiFamily): string => `${base(scope, family)}:leases`;
  const familyKeys = (scope: string, family: ApiFamily, windows: readonly WindowLimit[]): string[] => [
    leasesKey(scope, family),
    `${base(scope, family)}:backoff`,
    ...windows.map((window) => `${base(scope, family)}:${window.window satisfies WindowName}`),
  ];
  const ms = (time: number): number => Math.round(time);

  return {
    async tryAcquire(request) {
      const windowArgs = request.windows.flatMap((window) => [window.limit, ms(window.spanMs)]);
      const reply = (await run('mpgwBudgetAcquire', familyKeys(request.scope, request.family, request.windows), [
        ms(request.now),
        request.leaseId,
        ms(request.leaseUntil),
        request.concurrent ?? -1,
        ...windowArgs,
      ])) as [number, number, number, number];
      const [granted, blockedUntil, full, leaseExpiresAt] = reply;
      if (granted === 1) return { granted: true };
      return {
        granted: false,
        notBefore: blockedUntil > ms(request.now) ? blockedUntil : null,
        concurrencyFull: full === 1,
        leaseExpiresAt: leaseExpiresAt >= 0 ? leaseExpiresAt : null,
      };
    },
    async release(scope, family, leaseId) {
      await redis.zrem(leasesKey(scope, family), leaseId);
    },
    async renew(scope, family, leaseId, leaseUntil, now) {
      await run('mpgwBudgetRenew', [leasesKey(scope, family)], [leaseId, ms(leaseUntil), ms(now)]);
    },
    async backoff(scope, family, until, now) {
      await run('mpgwBudgetBackoff', [`${base(scope, family)}:backoff`], [ms(until), ms(now)]);
    },
    async usage(scope, family, windows, now) {
      const reply = (await run('mpgwBudgetUsage', familyKeys(scope, family, windows), [ms(now), ...windows.map((window) => ms(window.spanMs))])) as number[];
      const [inFlight = 0, backoffUntil = 0, ...perWindow] = reply;
      return {
        inFlight,
        backoffUntil: backoffUntil > ms(now) ? backoffUntil : null,
        windows: windows.map((window, index) => {
          const oldestAt = perWindow[index * 2 + 1] ?? -1;
          return { window: window.window, used: perWindow[index * 2] ?? 0, oldestAt: oldestAt >= 0 ? oldestAt : null };
        }),
      };
    },
    async close() {},
  };
}
