/**
 * Cross-request economy over HTTP against the emulator with Mixpanel's
 * documented limits: concurrent requests of different clients for different
 * profiles share engage calls (counted in the emulator's call log, as
 * dataloader's tests count batches), the entity cache sends only ids nobody
 * fetched recently, a waiter's cancellation and a missing id stay its own,
 * and merged calls keep within the documented per-call limits.
 */
import { describe, expect, it } from 'vitest';
import type { CallLogEntry, Emulator } from '../src/emulator/server.js';
import { ENGAGE_PAGE_SIZE } from '../src/upstream/endpoints.js';
import { createTestApp } from './helpers/app.js';
import { startGateway, type GatewayUnderTest } from './helpers/gateway.js';

/**
 * A merge window wide enough for a loaded test machine to deliver every request of a burst inside
 * it (a batch leaves 2 s after its latest id), and a deadline long enough to hold it that long.
 */
const BURST_ENV = { COALESCE_WINDOW_MS: '2000', COALESCE_MAX_WAIT_MS: '20000', REQUEST_DEADLINE_MS: '60000', PROFILE_READ_AHEAD_MAX_PAGES: '0' };
/**
 * These tests read profiles by `distinct_ids`, as the gateway does for a project too large to list
 * ahead: read-ahead of the whole listing (test/profile-read-ahead.test.ts) is off.
 */
const BY_ID_ENV = { PROFILE_READ_AHEAD_MAX_PAGES: '0' };

const engageCalls = (emulator: Emulator): CallLogEntry[] => emulator.callLog.filter((entry) => entry.path.endsWith('/engage'));
const idsOf = (entry: CallLogEntry): string[] => JSON.parse(entry.params['distinct_ids'] ?? '[]') as string[];

const profilesQuery = (ids: readonly string[]): string =>
  `{ ${ids.map((id, k) => `p${k}: profile(distinctId: ${JSON.stringify(id)}) { __typename ... on Profile { distinctId email } ... on Error { code } }`).join('\n')} }`;

function profileIds(gw: GatewayUnderTest): string[] {
  return [...gw.emulator.data().profiles.keys()].map(String);
}

/** Deterministic shuffle (so a failure reproduces). */
function pick(ids: readonly string[], count: number, seed: number): string[] {
  const pool = [...ids];
  let state = seed;
  const out: string[] = [];
  while (out.length < count && pool.length > 0) {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    out.push(pool.splice(state % pool.length, 1)[0]!);
  }
  return out;
}

describe('cross-request economy', () => {
  it('answers 100 concurrent requests for 100 different profiles with one engage call, then 200 requests of 10 of 300 with at most 2 more', async () => {
    const gw = await createTestApp({ env: BURST_ENV });
    const ids = profileIds(gw);
    const first = ids.slice(0, 100);
    const answers = await Promise.all(first.map((id) => gw.query(profilesQuery([id]))));
    for (const [k, answer] of answers.entries()) {
      expect(answer.errors).toBeUndefined();
      expect(answer.data!['p0']).toMatchObject({ __typename: 'Profile', distinctId: first[k] });
    }
    expect(engageCalls(gw.emulator)).toHaveLength(1);
    expect(new Set(idsOf(engageCalls(gw.emulator)[0]!))).toEqual(new Set(first));
    // Every request but the one that opened the call joined it.
    const joined = answers.filter((answer) => answer.extensions!['mixpanel'].joined === 1).length;
    const spent = answers.filter((answer) => answer.extensions!['mixpanel'].upstreamCalls === 1).length;
    expect(spent).toBe(1);
    expect(joined).toBe(99);

    const pool = ids.slice(0, 300);
    const second = await Promise.all(Array.from({ length: 200 }, (_, k) => gw.query(profilesQuery(pick(pool, 10, k + 1)))));
    for (const answer of second) {
      expect(answer.errors).toBeUndefined();
      for (const field of Object.values(answer.data!)) expect(field.__typename).toBe('Profile');
    }
    const calls = engageCalls(gw.emulator);
    expect(calls.length).toBeLessThanOrEqual(3);
    // The 100 profiles read first were not asked for again.
    const again = calls.slice(1).flatMap(idsOf);
    expect(again.filter((id) => first.includes(id))).toEqual([]);
    expect(gw.emulator.callLog.filter((entry) => entry.status === 429)).toHaveLength(0);
  });

  it('fetches only the new ids for a request overlapping an earlier one', async () => {
    const gw = await createTestApp({ env: BY_ID_ENV });
    const ids = profileIds(gw);
    await gw.query(profilesQuery(ids.slice(0, 10)));
    const overlapping = await gw.query(profilesQuery(ids.slice(5, 15)));
    expect(overlapping.errors).toBeUndefined();
    const calls = engageCalls(gw.emulator);
    expect(calls).toHaveLength(2);
    expect(idsOf(calls[1]!).sort()).toEqual(ids.slice(10, 15).sort());
    expect(overlapping.extensions!['mixpanel']).toMatchObject({ upstreamCalls: 1, cacheHits: 5, cacheMisses: 5 });
  });

  it('keeps a shared call running when the client that opened it goes away', async () => {
    const gw = await startGateway({ env: BURST_ENV, emulatorOptions: { size: 'small', latencyMs: 400 } });
    const ids = profileIds(gw);
    const controller = new AbortController();
    const leaving = fetch(gw.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: profilesQuery(ids.slice(0, 3)) }),
      signal: controller.signal,
    }).catch((error: unknown) => error);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const staying = gw.query(profilesQuery(ids.slice(0, 3)));
    // Leave once the merged call has been sent.
    while (engageCalls(gw.emulator).length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    controller.abort();
    expect(await leaving).toBeInstanceOf(Error);
    const answer = await staying;
    expect(answer.errors).toBeUndefined();
    expect(Object.values(answer.data!).map((p) => p.distinctId)).toEqual(ids.slice(0, 3));
    const calls = engageCalls(gw.emulator);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.status).toBe(200);
  });

  it('reports a missing id as NotFoundError for that field alone, in the same engage call as the others', async () => {
    const gw = await createTestApp({ env: BY_ID_ENV });
    const [known] = profileIds(gw);
    const answer = await gw.query(
      `{ known: profile(distinctId: ${JSON.stringify(known)}) { __typename ... on Profile { distinctId } }
         missing: profile(distinctId: "nobody-has-this-id") { __typename ... on NotFoundError { code } } }`,
    );
    expect(answer.errors).toBeUndefined();
    expect(answer.data!['known']).toEqual({ __typename: 'Profile', distinctId: known });
    expect(answer.data!['missing']).toEqual({ __typename: 'NotFoundError', code: 'NOT_FOUND' });
    expect(engageCalls(gw.emulator)).toHaveLength(1);
    // The absent id is remembered for a while: asking again costs nothing.
    const again = await gw.query(`{ missing: profile(distinctId: "nobody-has-this-id") { __typename } }`);
    expect(again.data!['missing'].__typename).toBe('NotFoundError');
    expect(engageCalls(gw.emulator)).toHaveLength(1);
  });

  it(`keeps merged calls within ${ENGAGE_PAGE_SIZE} distinct ids each (one engage page), whatever the burst`, async () => {
    const gw = await createTestApp({ env: BURST_ENV });
    const known = profileIds(gw);
    // 1,500 distinct ids (most unknown to Mixpanel), 150 requests of 10.
    const ids = [...known, ...Array.from({ length: 1500 - known.length }, (_, k) => `unknown-${k}`)];
    const answers = await Promise.all(Array.from({ length: 150 }, (_, k) => gw.query(profilesQuery(ids.slice(k * 10, k * 10 + 10)))));
    for (const answer of answers) expect(answer.errors).toBeUndefined();
    const calls = engageCalls(gw.emulator);
    expect(calls.length).toBeGreaterThanOrEqual(2);
    expect(calls.length).toBeLessThanOrEqual(4);
    for (const call of calls) {
      expect(idsOf(call).length).toBeLessThanOrEqual(ENGAGE_PAGE_SIZE);
      // No follow-on page: one page answers every id of the call.
      expect(call.params['page']).toBeUndefined();
    }
    expect(new Set(calls.flatMap(idsOf)).size).toBe(1500);
  });

  it('sends every request its own engage calls when cross-request merging is off', async () => {
    const gw = await createTestApp({ env: { COALESCE: 'off' } });
    const ids = profileIds(gw).slice(0, 10);
    await Promise.all(ids.map((id) => gw.query(profilesQuery([id]))));
    expect(engageCalls(gw.emulator)).toHaveLength(10);
  });

  it('bounds what one Profile.cohorts costs and never combines filter_by_cohort with distinct_ids', async () => {
    const gw = await createTestApp({ env: { LIMIT_QUERY_PER_HOUR: '12', PROFILE_COHORTS_MAX_CALLS: '3' } });
    const [id] = profileIds(gw);
    const answer = await gw.query(
      `{ profile(distinctId: ${JSON.stringify(id)}) { ... on Profile { cohorts { __typename ... on RateLimitedError { code message } } } } }`,
    );
    expect(answer.errors).toBeUndefined();
    // 18 cohorts cannot be read within the bound: the field says so instead of spending the hour.
    expect(answer.data!['profile'].cohorts).toMatchObject({ __typename: 'RateLimitedError', code: 'MIXPANEL_RATE_LIMITED' });
    // The operation itself: one engage for the profile, the cohorts list and at most max(3, (12 - 2) / 2) cohort reads.
    expect(answer.extensions!['mixpanel'].upstreamCalls).toBeLessThanOrEqual(1 + 5);
    // Background reads never take the interactive reserve (20% of 12 = 2 calls).
    await new Promise((resolve) => setTimeout(resolve, 500));
    const budget = (await gw.query('{ project { rateLimits { family used limit reserve } } }')).data!['project'].rateLimits.find(
      (r: { family: string }) => r.family === 'QUERY',
    );
    expect(budget).toMatchObject({ limit: 12, reserve: 2 });
    expect(budget.used).toBeLessThanOrEqual(10);
    for (const call of engageCalls(gw.emulator)) {
      expect(call.params['filter_by_cohort'] !== undefined && call.params['distinct_ids'] !== undefined).toBe(false);
    }
  });
});
