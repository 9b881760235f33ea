/**
 * The response cache seen through the gateway over HTTP: in-flight sharing
 * across requests, TTL, stale-if-error, and what `extensions` and the
 * Cache-Control header tell clients.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './helpers/app.js';

const COHORTS = `{ cohorts { __typename ... on CohortConnection { nodes { id name } } ... on Error { code } } }`;

async function postQuery(gw: TestApp, query: string): Promise<Response> {
  return gw.fetch(gw.graphqlPath, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) });
}

async function until(condition: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(10);
  }
}

describe('in-flight sharing', () => {
  it('answers 20 concurrent identical cohort queries with exactly one upstream call', async () => {
    // Latency keeps the first call in flight while the others arrive.
    const gw = await createTestApp({ emulatorOptions: { size: 'small', latencyMs: 200 } });
    const results = await Promise.all(Array.from({ length: 20 }, () => gw.query(COHORTS)));
    expect(gw.emulator.calls('/api/query/cohorts/list')).toBe(1);
    const lists = results.map((result) => result.data!['cohorts']);
    expect(lists[0].__typename).toBe('CohortConnection');
    expect(lists[0].nodes.length).toBeGreaterThan(0);
    for (const list of lists) expect(list).toEqual(lists[0]);
    const totals = results.map((result) => result.extensions!['mixpanel']);
    expect(totals.reduce((sum, m) => sum + m.upstreamCalls, 0)).toBe(1);
    expect(totals.reduce((sum, m) => sum + m.deduplicated + m.cacheHits, 0)).toBe(19);
  });
});

describe('cache TTL and staleness', () => {
  it('serves a repeat within the TTL from cache, with cacheHits, cacheControl.maxAge and a Cache-Control header', async () => {
    const gw = await createTestApp();
    const first = await gw.query(COHORTS);
    expect(first.extensions!['mixpanel']).toMatchObject({ upstreamCalls: 1, cacheHits: 0, cacheMisses: 1 });
    // Default cohorts TTL: five minutes.
    expect(first.extensions!['cacheControl'].maxAge).toBe(300);

    const response = await postQuery(gw, COHORTS);
    const second = (await response.json()) as { data: Record<string, any>; extensions: Record<string, any> };
    expect(gw.emulator.calls('/api/query/cohorts/list')).toBe(1);
    expect(second.data['cohorts']).toEqual(first.data!['cohorts']);
    expect(second.extensions['mixpanel']).toMatchObject({ upstreamCalls: 0, cacheMisses: 0 });
    expect(second.extensions['mixpanel'].cacheHits).toBeGreaterThan(0);
    const maxAge = second.extensions['cacheControl'].maxAge as number;
    expect(maxAge).toBeGreaterThan(290);
    expect(maxAge).toBeLessThanOrEqual(300);
    expect(response.headers.get('cache-control')).toBe(`private, max-age=${maxAge}`);
  });

  it('sends no Cache-Control header when part of the response was not served from fresh cache', async () => {
    const gw = await createTestApp();
    const missed = await postQuery(gw, COHORTS);
    expect(missed.headers.get('cache-control')).toBeNull();
    await missed.arrayBuffer();
    // Cached cohorts plus the uncached funnels list.
    const mixed = await postQuery(gw, `{ cohorts { __typename } funnels { __typename } }`);
    const body = (await mixed.json()) as { extensions: Record<string, any> };
    expect(body.extensions['mixpanel']).toMatchObject({ cacheHits: 1, cacheMisses: 1, upstreamCalls: 1 });
    expect(mixed.headers.get('cache-control')).toBeNull();
  });

  it('keeps answering from the stale entry after the TTL while Mixpanel fails (stale-if-error)', async () => {
    const gw = await createTestApp({ env: { CACHE_TTL_COHORTS_MS: '100', CACHE_STALE_MS: '60000' } });
    const fresh = await gw.query(COHORTS);
    expect(fresh.data!['cohorts'].__typename).toBe('CohortConnection');
    expect(gw.emulator.calls('/api/query/cohorts/list')).toBe(1);

    await sleep(150);
    gw.emulator.faults.inject({ path: '/api/query/cohorts/list', kind: 'status', status: 503 });
    const stale = await gw.query(COHORTS);
    expect(stale.data!['cohorts']).toEqual(fresh.data!['cohorts']);
    expect(stale.extensions!['mixpanel']).toMatchObject({ upstreamCalls: 0, cacheHits: 1 });
    // Served stale: nothing of it is fresh any more.
    expect(stale.extensions!['cacheControl']).toEqual({ maxAge: 0 });

    // The background refresh reached Mixpanel and failed...
    await until(() => gw.emulator.callLog.some((entry) => entry.path === '/api/query/cohorts/list' && entry.status === 503));
    // ...and the stale answer keeps being served.
    const after = await gw.query(COHORTS);
    expect(after.data!['cohorts']).toEqual(fresh.data!['cohorts']);
    expect(after.errors).toBeUndefined();
  });
});
