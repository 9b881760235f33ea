/**
 * The budget seen through the gateway over HTTP, against the emulator
 * enforcing Mixpanel's documented limits (or the same small limits on both
 * sides): fail-fast fields, no 429 under a burst, upstream 429s honoured,
 * engage follow-on pages and admission control.
 */
import { describe, expect, it } from 'vitest';
import { DEMO_PROJECT, type Emulator } from '../src/emulator/server.js';
import { schema } from '../src/schema/index.js';
import { FIELD_COSTS, FREE_ROOT_FIELDS } from '../src/schema/cost.js';
import { BUDGET_EXCEEDED } from '../src/server/plugins/use-admission-control.js';
import { createTestApp } from './helpers/app.js';
import type { GraphQLResponse } from './helpers/gateway.js';
import { day } from './helpers/schema.js';

const AUTH = `Basic ${Buffer.from(`${DEMO_PROJECT.username}:${DEMO_PROJECT.secret}`).toString('base64')}`;

const statuses = (emulator: Emulator, prefix: string): number[] =>
  emulator.callLog.filter((entry) => entry.path.startsWith(prefix)).map((entry) => entry.status);

const segmentation = (alias: string, event: string, from: string, to: string) => `
  ${alias}: segmentation(event: "${event}", from: "${from}", to: "${to}") {
    __typename
    ... on Series { series }
    ... on RateLimitedError { code family retryAfterSeconds }
  }`;

describe('budget deadline', () => {
  it('fails an uncached field fast with RateLimitedError once the hourly Query budget is spent, sends nothing, and still answers the rest', async () => {
    const gw = await createTestApp({ env: { LIMIT_QUERY_PER_HOUR: '2' } });
    const [from, to] = [day(gw.emulator, -7), day(gw.emulator, -1)];
    for (const event of ['A', 'B']) {
      const spent = await gw.query(`{ ${segmentation('s', event, from, to)} }`);
      expect(spent.data!['s'].__typename).toBe('Series');
    }
    // Plain segmentations are read through /events (one event each here: they came one after the other).
    expect(gw.emulator.calls('/api/query/events')).toBe(2);

    const result = await gw.query(`{
      ${segmentation('fresh', 'C', from, to)}
      ${segmentation('cached', 'A', from, to)}
      annotations { __typename ... on AnnotationConnection { nodes { id } } }
      project { key }
    }`);
    expect(result.errors).toBeUndefined();
    expect(result.data!['fresh']).toMatchObject({ __typename: 'RateLimitedError', code: 'MIXPANEL_RATE_LIMITED', family: 'QUERY' });
    // The oldest counted call leaves the hourly window in about an hour.
    expect(result.data!['fresh'].retryAfterSeconds).toBeGreaterThan(3000);
    expect(result.data!['cached'].__typename).toBe('Series');
    expect(result.data!['annotations'].__typename).toBe('AnnotationConnection');
    expect(result.data!['project']).toEqual({ key: 'default' });
    expect(gw.emulator.calls('/api/query/events')).toBe(2);
    expect(result.extensions!['mixpanel']).toMatchObject({ upstreamCalls: 1, cacheHits: 1 });
    expect(result.extensions!['mixpanel'].budgetRemaining.query).toMatchObject({ window: 'hour', limit: 2, used: 2, remaining: 0 });
    expect(result.extensions!['mixpanel'].budgetRemaining.query.retryAfterSeconds).toBeGreaterThan(3000);
  });
});

describe('admission control', () => {
  it('refuses an operation whose uncached Query calls exceed a whole hourly window, before sending anything', async () => {
    const gw = await createTestApp({ env: { LIMIT_QUERY_PER_HOUR: '2' } });
    const [from, to] = [day(gw.emulator, -7), day(gw.emulator, -1)];
    // The gateway may read Lexicon at start; only what this operation sends counts.
    const before = gw.emulator.calls();
    // Charts of three ranges: plain charts of one range would share one /events call.
    const result = await gw.query(`{
      ${segmentation('a', 'A', from, to)}
      ${segmentation('b', 'B', day(gw.emulator, -8), to)}
      ${segmentation('c', 'C', day(gw.emulator, -9), to)}
      cohorts { __typename }
    }`);
    expect(result.data ?? null).toBeNull();
    expect(result.errors).toHaveLength(1);
    expect(result.errors![0]!.extensions).toMatchObject({
      code: BUDGET_EXCEEDED,
      family: 'query',
      window: 'hour',
      limit: 2,
      estimatedCalls: 4,
      used: 0,
      remaining: 2,
    });
    expect(result.errors![0]!.message).toMatch(/split it into smaller operations/);
    expect(gw.emulator.calls()).toBe(before);
  });

  it('counts shared calls once and lets an operation that fits through', async () => {
    const gw = await createTestApp({ env: { LIMIT_QUERY_PER_HOUR: '2' } });
    const [from, to] = [day(gw.emulator, -7), day(gw.emulator, -1)];
    // Same arguments three times and two cohort fields: two distinct calls.
    const result = await gw.query(`{
      ${segmentation('a', 'A', from, to)}
      ${segmentation('b', 'A', from, to)}
      c: segmentation(event: "A", from: "${from}", to: "${to}", where: null) { __typename }
      cohorts { __typename }
      cohort(id: "1") { __typename }
    }`);
    expect(result.errors).toBeUndefined();
    expect(result.data!['a'].__typename).toBe('Series');
    expect(result.data!['c'].__typename).toBe('Series');
    expect(gw.emulator.calls('/api/query')).toBe(2);
  });

  it('refuses a mutation batch over the Lexicon per-minute limit without writing anything', async () => {
    const gw = await createTestApp();
    // Each deleted schema costs a DELETE of its own: 6 calls, over the 5 a minute.
    const writes = Array.from({ length: 6 }, (_, i) => `w${i}: deleteEventDefinition(name: "Event ${i}") { __typename }`).join('\n');
    const before = gw.emulator.calls();
    const result = await gw.query(`mutation { ${writes} }`);
    expect(result.errors?.[0]?.extensions).toMatchObject({ code: BUDGET_EXCEEDED, family: 'lexicon', window: 'minute', limit: 5, estimatedCalls: 6 });
    expect(gw.emulator.calls()).toBe(before);
  });

  it('costs every root field of the schema (a new field must say what it sends)', () => {
    const roots = [schema.getQueryType()!, schema.getMutationType()!].flatMap((type) => Object.keys(type.getFields()).map((name) => `${type.name}.${name}`));
    const uncosted = roots.filter((coordinate) => !(coordinate in FIELD_COSTS) && !FREE_ROOT_FIELDS.includes(coordinate));
    expect(uncosted).toEqual([]);
    for (const coordinate of Object.keys(FIELD_COSTS)) {
      const [typeName, fieldName] = coordinate.split('.') as [string, string];
      const type = schema.getType(typeName) as { getFields?: () => Record<string, unknown> } | undefined;
      expect(type?.getFields?.()[fieldName], coordinate).toBeDefined();
    }
  });
});

describe('bursts and upstream 429s', () => {
  it('sends 200 concurrent dashboard queries without a single 429, at most one call per distinct dataset', async () => {
    // Mixpanel's documented Query limits on both sides: 5 concurrent, 60 an hour.
    const gw = await createTestApp({ emulatorOptions: { size: 'small', latencyMs: 30 } });
    const [from, to] = [day(gw.emulator, -7), day(gw.emulator, -1)];
    const events = ['A', 'B', 'C', 'D'];
    const dashboard = (event: string) => `{
      profiles(first: 20) { __typename ... on ProfileConnection { edges { node { distinctId } } } }
      cohorts { __typename ... on CohortConnection { nodes { id name } } }
      ${segmentation('chart', event, from, to)}
    }`;
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => gw.query(dashboard(events[i % events.length]!))));
    for (const result of results) {
      expect(result.errors).toBeUndefined();
      expect(result.data!['profiles'].__typename).toBe('ProfileConnection');
      expect(result.data!['cohorts'].__typename).toBe('CohortConnection');
      expect(result.data!['chart'].__typename).toBe('Series');
    }
    expect(statuses(gw.emulator, '/api/query').filter((status) => status === 429)).toEqual([]);
    // One engage page, one cohorts list, and /events calls merging the charts: one when the burst arrives
    // within one merge window, never more than one per event when it is spread out (a loaded machine).
    const eventCalls = gw.emulator.calls('/api/query/events');
    expect(eventCalls).toBeGreaterThanOrEqual(1);
    expect(eventCalls).toBeLessThanOrEqual(events.length);
    expect(gw.emulator.calls('/api/query/segmentation')).toBe(0);
    expect(gw.emulator.calls('/api/query')).toBe(2 + eventCalls);
    expect(results.reduce((sum, result) => sum + result.extensions!['mixpanel'].upstreamCalls, 0)).toBe(2 + eventCalls);
  });

  it('honours a 429 caused by another client: reports RateLimitedError, then holds calls instead of hammering Mixpanel', async () => {
    const gw = await createTestApp({
      emulatorOptions: { size: 'small', limits: { query: { perHour: 3 } } },
      // A deadline shorter than the first retry delay: the 429 is reported at once.
      env: { REQUEST_DEADLINE_MS: '1000' },
    });
    // Another client of the same project spends its Query budget.
    let direct = 0;
    for (;;) {
      const response = await fetch(`${gw.emulator.url}/api/query/cohorts/list?project_id=${DEMO_PROJECT.projectId}`, { headers: { authorization: AUTH } });
      await response.arrayBuffer();
      direct += 1;
      if (response.status === 429) break;
      expect(direct).toBeLessThan(10);
    }
    const before = gw.emulator.calls('/api/query');

    const first = await gw.query(`{ cohorts { __typename ... on RateLimitedError { code family } } }`);
    expect(first.errors).toBeUndefined();
    expect(first.data!['cohorts']).toEqual({ __typename: 'RateLimitedError', code: 'MIXPANEL_RATE_LIMITED', family: 'QUERY' });
    expect(gw.emulator.calls('/api/query')).toBe(before + 1);

    const [from, to] = [day(gw.emulator, -7), day(gw.emulator, -1)];
    const later = await Promise.all(
      ['A', 'B', 'C', 'D', 'E'].map((event) => gw.query(`{ ${segmentation('s', event, from, to)} profiles(first: 5) { __typename } }`)),
    );
    for (const result of later) {
      expect(result.data!['s']).toMatchObject({ __typename: 'RateLimitedError', family: 'QUERY' });
      // The budget holds the family until its backoff passes, and says for how long.
      expect(result.data!['s'].retryAfterSeconds).toBeGreaterThan(0);
      expect(result.data!['profiles'].__typename).toBe('RateLimitedError');
    }
    expect(gw.emulator.calls('/api/query')).toBe(before + 1);
    expect(statuses(gw.emulator, '/api/query').filter((status) => status === 429)).toHaveLength(2);
  });
});

describe('engage follow-on pages', () => {
  // Three engage pages of 1000 profiles; Mixpanel and the gateway both allow 2 Query calls an hour.
  const size = { profiles: 2_500, events: 100, days: 7, groups: 1 };
  const PAGE = `query Page($after: String) {
    profiles(first: 1000, after: $after) {
      __typename
      ... on ProfileConnection { pageInfo { hasNextPage endCursor } edges { node { distinctId } } }
      ... on RateLimitedError { code retryAfterSeconds }
    }
  }`;

  async function pageThrough(env: Record<string, string>, countEngageFollowOnPages: boolean) {
    const gw = await createTestApp({
      env: { LIMIT_QUERY_PER_HOUR: '2', ...env },
      emulatorOptions: { size, limits: { query: { perHour: 2 } }, countEngageFollowOnPages },
    });
    const seen = new Set<string>();
    let after: string | null = null;
    let last: GraphQLResponse;
    for (let page = 0; page < 5; page++) {
      last = await gw.query(PAGE, { after });
      const connection = last.data!['profiles'];
      if (connection.__typename !== 'ProfileConnection') break;
      for (const edge of connection.edges) seen.add(edge.node.distinctId);
      if (!connection.pageInfo.hasNextPage) break;
      after = connection.pageInfo.endCursor;
    }
    return { gw, seen, last: last! };
  }

  it('pages past the hourly limit when follow-on pages are free on both sides', async () => {
    const { gw, seen, last } = await pageThrough({ COUNT_ENGAGE_FOLLOW_ON_PAGES: 'false' }, false);
    expect(last.data!['profiles'].__typename).toBe('ProfileConnection');
    expect(seen.size).toBe(size.profiles);
    expect(gw.emulator.calls('/api/query/engage')).toBe(3);
    expect(statuses(gw.emulator, '/api/query').filter((status) => status === 429)).toEqual([]);
    expect(last.extensions!['mixpanel'].budgetRemaining.query).toMatchObject({ used: 1, remaining: 1 });
  });

  it('refuses the page over the hourly limit in the gateway, before Mixpanel would answer 429, by default', async () => {
    const { gw, seen, last } = await pageThrough({}, true);
    expect(last.data!['profiles']).toMatchObject({ __typename: 'RateLimitedError', code: 'MIXPANEL_RATE_LIMITED' });
    expect(last.data!['profiles'].retryAfterSeconds).toBeGreaterThan(3000);
    // The first connection page read engage pages 0 and 1; page 2 was never sent.
    expect(seen.size).toBe(1000);
    expect(gw.emulator.calls('/api/query/engage')).toBe(2);
    expect(statuses(gw.emulator, '/api/query').filter((status) => status === 429)).toEqual([]);
  });
});
