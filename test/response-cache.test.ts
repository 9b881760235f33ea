import { describe, expect, it, vi } from 'vitest';
import { cacheKey, cacheKeyPrefix, canonicalJson, credentialsIdentity } from '../src/cache/keys.js';
import { analyticsKind, createResponseCache, type CachedCall } from '../src/cache/response-cache.js';
import { createMetrics } from '../src/observability/metrics.js';
import type { RequestStats } from '../src/limits/types.js';
import { Secret } from '../src/core/secret.js';

const TTL = 60_000;
const STALE = 300_000;

const newStats = (): RequestStats => ({ upstreamCalls: 0, cacheHits: 0, cacheMisses: 0, deduplicated: 0 });
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function setup(maxBytes = 1_000_000) {
  const clock = { time: Date.UTC(2024, 5, 1, 12), now: () => clock.time };
  const metrics = createMetrics({ defaultMetrics: false });
  const cache = createResponseCache({ maxBytes, clock, metrics });
  const call = <T>(load: CachedCall<T>['load'], extra: Partial<CachedCall<T>> = {}): CachedCall<T> => ({
    ttlMs: TTL,
    staleMs: STALE,
    signal: new AbortController().signal,
    stats: newStats(),
    labels: { project: 'default', kind: 'cohorts' },
    load,
    ...extra,
  });
  const lookups = async (result: string): Promise<number> => {
    const metric = await metrics.cacheLookups.get();
    return metric.values.find((value) => value.labels.result === result)?.value ?? 0;
  };
  return { clock, cache, call, lookups };
}

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('response cache', () => {
  it('serves fresh entries until the TTL, then loads again once the stale window is over too', async () => {
    const { clock, cache, call, lookups } = setup();
    const load = vi.fn(async () => ({ cohorts: [1, 2] }));
    const first = call(load);
    expect(await cache.get('k', first)).toEqual({ cohorts: [1, 2] });
    expect(first.stats).toMatchObject({ cacheMisses: 1, cacheHits: 0, maxAgeSeconds: 60 });

    clock.time += 20_000;
    const second = call(load);
    expect(await cache.get('k', second)).toEqual({ cohorts: [1, 2] });
    expect(load).toHaveBeenCalledTimes(1);
    expect(second.stats).toMatchObject({ cacheHits: 1, cacheMisses: 0, maxAgeSeconds: 40 });

    clock.time += TTL + STALE;
    await cache.get('k', call(load));
    expect(load).toHaveBeenCalledTimes(2);
    expect(await lookups('hit')).toBe(1);
    expect(await lookups('miss')).toBe(2);
  });

  it('serves a stale entry at once and refreshes it in the background', async () => {
    const { clock, cache, call, lookups } = setup();
    let version = 0;
    const refreshes: (number | undefined)[] = [];
    const load = vi.fn(async (_signal: AbortSignal, refresh?: { staleUntil: number }) => {
      refreshes.push(refresh?.staleUntil);
      return ++version;
    });
    await cache.get('k', call(load));
    const storedAt = clock.time;
    clock.time += TTL + 1_000;
    const stale = call(load);
    expect(await cache.get('k', stale)).toBe(1);
    expect(stale.stats).toMatchObject({ cacheHits: 1, maxAgeSeconds: 0 });
    expect(await lookups('stale')).toBe(1);
    await settle();
    expect(refreshes).toEqual([undefined, storedAt + TTL + STALE]);
    expect(await cache.get('k', call(load))).toBe(2);
    expect(load).toHaveBeenCalledTimes(2);
  });

  it('keeps serving the stale value while refreshing fails, until the stale window ends', async () => {
    const { clock, cache, call } = setup();
    await cache.get(
      'k',
      call(async () => 'old'),
    );
    clock.time += TTL + 1_000;
    const failing = vi.fn(async () => {
      throw new Error('Mixpanel is down');
    });
    expect(await cache.get('k', call(failing))).toBe('old');
    await settle();
    expect(failing).toHaveBeenCalledTimes(1);
    clock.time += 10_000;
    expect(await cache.get('k', call(failing))).toBe('old');
    await settle();
    expect(failing).toHaveBeenCalledTimes(1); // one refresh attempt per TTL, not one per request
    clock.time += TTL;
    expect(await cache.get('k', call(failing))).toBe('old');
    await settle();
    expect(failing).toHaveBeenCalledTimes(2);
    clock.time += STALE;
    await expect(cache.get('k', call(failing))).rejects.toThrow('Mixpanel is down');
  });

  it('shares one load among identical concurrent calls', async () => {
    const { cache, call, lookups } = setup();
    const gate = deferred<string>();
    const load = vi.fn(() => gate.promise);
    const calls = Array.from({ length: 10 }, () => call(load));
    const results = calls.map((c) => cache.get('k', c));
    gate.resolve('value');
    expect(await Promise.all(results)).toEqual(Array(10).fill('value'));
    expect(load).toHaveBeenCalledTimes(1);
    expect(calls.reduce((sum, c) => sum + (c.stats?.deduplicated ?? 0), 0)).toBe(9);
    expect(await lookups('shared')).toBe(9);
  });

  it('abandons only the waiter that aborts; the last one leaving cancels the load', async () => {
    const { cache, call } = setup();
    const gate = deferred<string>();
    let loadSignal: AbortSignal | undefined;
    const load = vi.fn((signal: AbortSignal) => {
      loadSignal = signal;
      return gate.promise;
    });
    const leaving = new AbortController();
    const first = cache.get('k', call(load, { signal: leaving.signal }));
    const second = cache.get('k', call(load));
    leaving.abort(new Error('client went away'));
    await expect(first).rejects.toThrow('client went away');
    expect(loadSignal?.aborted).toBe(false);
    gate.resolve('value');
    expect(await second).toBe('value');

    const only = new AbortController();
    const never = deferred<string>();
    const single = cache.get(
      'other',
      call(
        (signal) => {
          loadSignal = signal;
          return never.promise;
        },
        { signal: only.signal },
      ),
    );
    only.abort(new Error('gone'));
    await expect(single).rejects.toThrow('gone');
    expect(loadSignal?.aborted).toBe(true);
  });

  it('shares uncached calls (TTL 0) while in flight without storing them', async () => {
    const { cache, call } = setup();
    const gate = deferred<number>();
    const load = vi.fn(() => gate.promise);
    const a = call(load, { ttlMs: 0 });
    const b = call(load, { ttlMs: 0 });
    const results = Promise.all([cache.get('k', a), cache.get('k', b)]);
    gate.resolve(7);
    expect(await results).toEqual([7, 7]);
    expect(load).toHaveBeenCalledTimes(1);
    expect(a.stats).toMatchObject({ cacheMisses: 0, cacheHits: 0 });
    expect(a.stats?.maxAgeSeconds).toBeUndefined();
    expect(b.stats?.deduplicated).toBe(1);
    await cache.get(
      'k',
      call(async () => 8, { ttlMs: 0 }),
    );
    expect(cache.bytes).toBe(0);
  });

  it('stays within its byte bound, evicting the least recently used entries', async () => {
    const { cache, call } = setup(300);
    const value = 'x'.repeat(90); // 92 bytes of JSON + a 2-byte key
    for (const key of ['k1', 'k2', 'k3'])
      await cache.get(
        key,
        call(async () => value),
      );
    expect(cache.bytes).toBe(282);
    await cache.get(
      'k1',
      call(async () => 'reloaded'),
    ); // a hit: k1 becomes the most recent
    await cache.get(
      'k4',
      call(async () => value),
    );
    expect(cache.bytes).toBeLessThanOrEqual(300);
    const load = vi.fn(async () => 'reloaded');
    expect(await cache.get('k1', call(load))).toBe(value);
    expect(await cache.get('k2', call(load))).toBe('reloaded');
    expect(load).toHaveBeenCalledTimes(1);

    const huge = 'y'.repeat(400);
    await cache.get(
      'big',
      call(async () => huge),
    );
    const again = vi.fn(async () => huge);
    await cache.get('big', call(again));
    expect(again).toHaveBeenCalledTimes(1); // larger than the whole cache: never stored
  });

  it('with a zero byte bound stores nothing but still shares loads in flight', async () => {
    const { cache, call } = setup(0);
    const gate = deferred<string>();
    const load = vi.fn(() => gate.promise);
    const both = Promise.all([cache.get('k', call(load)), cache.get('k', call(load))]);
    gate.resolve('v');
    expect(await both).toEqual(['v', 'v']);
    expect(load).toHaveBeenCalledTimes(1);
    expect(cache.bytes).toBe(0);
    await cache.get('k', call(load));
    expect(load).toHaveBeenCalledTimes(2);
  });

  it('counts keys in bytes, not characters (event names may be non-ASCII)', async () => {
    const { cache, call } = setup();
    await cache.get(
      'é€',
      call(async () => 1),
    );
    expect(cache.bytes).toBe(5 + 1); // 2 + 3 bytes of UTF-8 key, 1 byte of JSON
  });

  it('invalidates by key prefix, and does not store a load that an invalidation overtook', async () => {
    const { cache, call } = setup();
    const cohorts = cacheKeyPrefix('default', 'cohorts');
    const keyA = `${cohorts}"a"]`;
    const keyB = `${cacheKeyPrefix('default', 'lexicon')}"b"]`;
    await cache.get(
      keyA,
      call(async () => 'a'),
    );
    await cache.get(
      keyB,
      call(async () => 'b'),
    );
    const gate = deferred<string>();
    const pending = cache.get(
      `${cohorts}"c"]`,
      call(() => gate.promise),
    );
    expect(cache.invalidate(cohorts)).toBe(1);
    gate.resolve('c');
    expect(await pending).toBe('c');
    const load = vi.fn(async () => 'reloaded');
    expect(await cache.get(keyA, call(load))).toBe('reloaded');
    expect(await cache.get(`${cohorts}"c"]`, call(load))).toBe('reloaded');
    expect(await cache.get(keyB, call(load))).toBe('b');
    expect(load).toHaveBeenCalledTimes(2);
  });
});

describe('cache keys', () => {
  const parts = {
    project: 'default',
    kind: 'profiles' as const,
    family: 'query' as const,
    endpoint: 'engage',
    credentials: credentialsIdentity('reader.6d4ee7.mp-service-account'),
  };

  it('normalises params: key order does not matter, undefined is dropped, arrays keep order', () => {
    const a = cacheKey({ ...parts, params: { where: 'x', page: 0, outputProperties: ['b', 'a'], sessionId: undefined } });
    const b = cacheKey({ ...parts, params: { outputProperties: ['b', 'a'], page: 0, where: 'x' } });
    expect(a).toBe(b);
    expect(cacheKey({ ...parts, params: { outputProperties: ['a', 'b'], page: 0, where: 'x' } })).not.toBe(a);
    expect(canonicalJson({ b: { d: 1, c: [undefined, 2] }, a: undefined })).toBe('{"b":{"c":[null,2],"d":1}}');
  });

  it('separates projects, kinds, endpoints and service accounts, and matches its invalidation prefix', () => {
    const key = cacheKey({ ...parts, params: {} });
    expect(key.startsWith(cacheKeyPrefix('default', 'profiles'))).toBe(true);
    expect(key.startsWith(cacheKeyPrefix('default', 'cohorts'))).toBe(false);
    expect(key.startsWith(cacheKeyPrefix('default"', 'profiles'))).toBe(false);
    expect(cacheKey({ ...parts, project: 'other', params: {} })).not.toBe(key);
    expect(cacheKey({ ...parts, endpoint: 'cohorts', params: {} })).not.toBe(key);
    expect(cacheKey({ ...parts, credentials: credentialsIdentity('admin.6d4ee7.mp-service-account'), params: {} })).not.toBe(key);
  });

  it('never carries a secret or the username itself', () => {
    const secret = new Secret('super-secret-value');
    const username = 'reader.6d4ee7.mp-service-account';
    const key = cacheKey({ ...parts, credentials: credentialsIdentity(username), params: { auth: secret } });
    expect(key).not.toContain('super-secret-value');
    expect(key).not.toContain(username);
  });

  it('picks the analytics TTL kind from the end of the date range (UTC)', () => {
    const now = Date.UTC(2024, 5, 10, 0, 30);
    expect(analyticsKind('2024-06-09', now)).toBe('analyticsClosed');
    expect(analyticsKind('2024-06-10', now)).toBe('analyticsToday');
    expect(analyticsKind('2024-06-11', now)).toBe('analyticsToday');
    // In a project behind UTC, the UTC yesterday can still be today.
    expect(analyticsKind('2024-06-09', Date.parse('2024-06-10T03:00:00Z'), 'America/Los_Angeles')).toBe('analyticsToday');
  });
});
