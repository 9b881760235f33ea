/**
 * The fallback budget store: while the shared store answers, it decides and
 * every grant is also counted locally; while it does not (its connection is
 * down, or an operation fails), the local store decides against a
 * conservative share of each limit, counting what this instance sent before.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createFallbackBudgetStore } from '../src/limits/fallback-store.js';
import { createRedisBudgetStore } from '../src/limits/redis-store.js';
import { createMemoryBudgetStore, type AcquireRequest, type WindowLimit } from '../src/limits/store.js';

const HOUR: WindowLimit = { window: 'hour', limit: 60, spanMs: 3_600_000 };
const T0 = Date.UTC(2026, 0, 5, 10);
const request = (now: number, concurrent?: number): AcquireRequest => ({
  scope: 'p1',
  family: 'query',
  now,
  windows: [HOUR],
  concurrent,
  leaseId: randomUUID(),
  leaseUntil: now + 60_000,
});

const unreachable: Redis[] = [];
afterAll(() => {
  for (const redis of unreachable) redis.disconnect();
});

describe('fallback budget store', () => {
  it('decides with the shared store while it is available, then with a local share counting what was sent', async () => {
    const shared = createMemoryBudgetStore();
    let available = true;
    const store = createFallbackBudgetStore({ shared, available: () => available, localShare: 0.2 });
    for (let i = 0; i < 5; i++) expect(await store.tryAcquire(request(T0 + i))).toEqual({ granted: true });
    expect((await shared.usage('p1', 'query', [HOUR], T0 + 10)).windows[0]?.used).toBe(5);
    expect(store.degraded).toBe(false);

    available = false;
    expect(store.degraded).toBe(true);
    const granted: boolean[] = [];
    for (let i = 0; i < 10; i++) granted.push((await store.tryAcquire(request(T0 + 100 + i))).granted);
    // 20% of 60 is 12 an hour, 5 of which this instance already sent.
    expect(granted).toEqual([...Array<boolean>(7).fill(true), false, false, false]);
    expect((await store.usage('p1', 'query', [HOUR], T0 + 200)).windows[0]?.used).toBe(12);
    // Nothing reached the shared store meanwhile.
    expect((await shared.usage('p1', 'query', [HOUR], T0 + 200)).windows[0]?.used).toBe(5);

    available = true;
    expect(await store.tryAcquire(request(T0 + 300))).toEqual({ granted: true });
    expect(store.degraded).toBe(false);
  });

  it('takes a local share of concurrency too, at least one call', async () => {
    const store = createFallbackBudgetStore({ shared: createMemoryBudgetStore(), available: () => false, localShare: 0.2 });
    expect((await store.tryAcquire(request(T0, 5))).granted).toBe(true);
    expect(await store.tryAcquire(request(T0 + 1, 5))).toMatchObject({ granted: false, concurrencyFull: true });
  });

  it('answers at once from the local share when Redis cannot be reached', async () => {
    // Nothing listens on port 9 of loopback: a real connection that fails, with commands failing fast.
    const redis = new Redis({ host: '127.0.0.1', port: 9, enableOfflineQueue: false, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    redis.on('error', () => undefined);
    unreachable.push(redis);
    await redis.connect().catch(() => undefined);
    const failures: unknown[] = [];
    const store = createFallbackBudgetStore({
      shared: createRedisBudgetStore(redis, { keyPrefix: `mpgw-test:${randomUUID()}:` }),
      available: () => true, // as if the connection looked ready: the failing command itself must fall back
      localShare: 0.5,
      onFallback: (error) => failures.push(error),
    });
    const started = performance.now();
    expect(await store.tryAcquire(request(T0))).toEqual({ granted: true });
    const usage = await store.usage('p1', 'query', [HOUR], T0 + 1);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(usage.windows[0]?.used).toBe(1);
    expect(failures.length).toBeGreaterThanOrEqual(2);
    expect(store.degraded).toBe(true);
  });
});
