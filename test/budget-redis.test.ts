/**
 * The BudgetStore contract, run against both stores: memory, and Redis at
 * 127.0.0.1:6379 (several gateway instances sharing one budget).
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { REDIS, redisSkip } from './helpers/redis.js';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { createBudget } from '../src/limits/budget.js';
import { DOCUMENTED_LIMITS } from '../src/limits/defaults.js';
import { createRedisBudgetStore } from '../src/limits/redis-store.js';
import { createMemoryBudgetStore, type BudgetStore, type WindowLimit } from '../src/limits/store.js';
import { RateLimitedError } from '../src/mixpanel/errors.js';

const keyPrefix = `mpgw-test:${randomUUID()}:`;
const connections: Redis[] = [];

const skipRedis = await redisSkip('the Redis budget store contract');

const connect = (): Redis => {
  const redis = new Redis({ ...REDIS, maxRetriesPerRequest: 1 });
  connections.push(redis);
  return redis;
};

afterAll(async () => {
  const [first] = connections;
  if (first) {
    const keys = await first.keys(`${keyPrefix}*`);
    if (keys.length > 0) await first.del(...keys);
  }
  await Promise.all(connections.map((redis) => redis.quit()));
});

interface StoreFactory {
  readonly name: string;
  readonly skip: boolean;
  /** Two handles on one shared store, as two gateway instances would hold. */
  pair(): [BudgetStore, BudgetStore];
}

const factories: StoreFactory[] = [
  {
    name: 'memory',
    skip: false,
    pair: () => {
      const store = createMemoryBudgetStore();
      return [store, store];
    },
  },
  {
    name: 'redis',
    skip: skipRedis,
    pair: () => [createRedisBudgetStore(connect(), { keyPrefix }), createRedisBudgetStore(connect(), { keyPrefix })],
  },
];

const HOUR_WINDOW: WindowLimit = { window: 'hour', limit: 3, spanMs: 3_600_000 };
const SECOND_WINDOW: WindowLimit = { window: 'second', limit: 2, spanMs: 1_000 };
const T0 = Date.UTC(2024, 0, 1, 12);

for (const factory of factories) {
  describe.skipIf(factory.skip)(`BudgetStore contract: ${factory.name}`, () => {
    // A fresh scope per test keeps the tests independent on one shared Redis.
    const scope = (): string => `project-${randomUUID()}`;
    const acquire = (store: BudgetStore, project: string, now: number, extra: { concurrent?: number; leaseUntil?: number } = {}) =>
      store.tryAcquire({
        scope: project,
        family: 'query',
        now,
        windows: [HOUR_WINDOW, SECOND_WINDOW],
        concurrent: extra.concurrent,
        leaseId: randomUUID(),
        leaseUntil: extra.leaseUntil ?? now + 60_000,
      });

    it('counts calls in rolling windows and says when the next slot frees', async () => {
      const [store] = factory.pair();
      const project = scope();
      expect(await acquire(store, project, T0)).toEqual({ granted: true });
      expect(await acquire(store, project, T0 + 10)).toEqual({ granted: true });
      // The second window (2/s) is full until the first call is 1 s old.
      expect(await acquire(store, project, T0 + 20)).toEqual({
        granted: false,
        notBefore: T0 + 1_000,
        concurrencyFull: false,
        leaseExpiresAt: null,
      });
      expect(await acquire(store, project, T0 + 1_000)).toEqual({ granted: true });
      // Now the hour (3/h) is full until the first call is an hour old.
      const refused = await acquire(store, project, T0 + 5_000);
      expect(refused).toMatchObject({ granted: false, notBefore: T0 + 3_600_000 });
      const usage = await store.usage(project, 'query', [HOUR_WINDOW, SECOND_WINDOW], T0 + 5_000);
      expect(usage).toEqual({
        inFlight: 3,
        backoffUntil: null,
        windows: [
          { window: 'hour', used: 3, oldestAt: T0 },
          { window: 'second', used: 0, oldestAt: null },
        ],
      });
      expect(await acquire(store, project, T0 + 3_600_000)).toEqual({ granted: true });
    });

    it('holds concurrency slots by lease until released or expired', async () => {
      const [store] = factory.pair();
      const project = scope();
      const lease = randomUUID();
      const first = await store.tryAcquire({
        scope: project,
        family: 'query',
        now: T0,
        windows: [],
        concurrent: 1,
        leaseId: lease,
        leaseUntil: T0 + 10_000,
      });
      expect(first).toEqual({ granted: true });
      expect(await acquire(store, project, T0 + 1, { concurrent: 1 })).toEqual({
        granted: false,
        notBefore: null,
        concurrencyFull: true,
        leaseExpiresAt: T0 + 10_000,
      });
      await store.renew(project, 'query', lease, T0 + 20_000, T0 + 5_000);
      expect(await acquire(store, project, T0 + 15_000, { concurrent: 1 })).toMatchObject({ granted: false, leaseExpiresAt: T0 + 20_000 });
      await store.release(project, 'query', lease);
      expect(await acquire(store, project, T0 + 15_001, { concurrent: 1, leaseUntil: T0 + 16_000 })).toEqual({ granted: true });
      // An instance that dies holding a slot loses it when its lease expires.
      expect(await acquire(store, project, T0 + 16_001, { concurrent: 1 })).toEqual({ granted: true });
    });

    it('holds the family during a backoff and never shortens one', async () => {
      const [store] = factory.pair();
      const project = scope();
      await store.backoff(project, 'query', T0 + 30_000, T0);
      await store.backoff(project, 'query', T0 + 10_000, T0);
      expect(await acquire(store, project, T0 + 20_000)).toMatchObject({ granted: false, notBefore: T0 + 30_000 });
      expect((await store.usage(project, 'query', [], T0 + 20_000)).backoffUntil).toBe(T0 + 30_000);
      expect(await acquire(store, project, T0 + 30_000)).toEqual({ granted: true });
    });

    it('two budgets on one store share the count: 60 query calls across both, the 61st refused', async () => {
      const [storeA, storeB] = factory.pair();
      const project = scope();
      let now = T0;
      const clock = { now: () => now, setTimeout: () => undefined, clearTimeout: () => undefined };
      const budgets = [storeA, storeB].map((store) => createBudget({ scope: project, limits: DOCUMENTED_LIMITS, store, clock }));
      const task = vi.fn(async () => 'ok');
      for (let call = 0; call < 60; call++) {
        await budgets[call % 2]?.schedule('query', task, { deadline: now });
        now += 1_000;
      }
      expect(task).toHaveBeenCalledTimes(60);
      const refused = vi.fn(async () => 'refused');
      for (const budget of budgets) {
        const error = await budget.schedule('query', refused, { deadline: now + 60_000 }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(RateLimitedError);
      }
      expect(refused).not.toHaveBeenCalled();
      expect(await budgets[1]?.snapshot('query')).toMatchObject({ used: 60, limit: 60, inFlight: 0 });
      await Promise.all(budgets.map((budget) => budget.close()));
    });
  });
}
