/**
 * Redis killed in the middle of traffic and started again, on a redis-server
 * of the test's own (never the shared one on 6379): the gateway keeps
 * answering `{ __typename }` and cached data promptly, spends a local share
 * of the budget and says so (extensions, /readyz), logs the outage a bounded
 * number of times, answers webhook pages 503 (Mixpanel retries) while the
 * Redis membership store is away, and reconnects by itself.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PROJECT } from '../src/emulator/server.js';
import { createLogger } from '../src/observability/logger.js';
import { createTestApp, type TestApp } from './helpers/app.js';
import { startGateway, WEBHOOK_AUTHORIZATION } from './helpers/gateway.js';
import { redisServerInstalled, startOwnRedis, type OwnRedis } from './helpers/own-redis.js';

const COHORTS = `{ cohorts { __typename ... on CohortConnection { nodes { id name } } ... on Error { code } } }`;
const PROFILE = `query($id: ID!) { profile(distinctId: $id) { __typename } }`;

const installed = redisServerInstalled();
if (!installed && !process.env['CI']) console.warn('redis-server is not installed and CI is unset: skipping the Redis outage test');

const timed = async <T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> => {
  const started = performance.now();
  const value = await work();
  return { value, ms: performance.now() - started };
};

describe.skipIf(!installed && !process.env['CI'])('a Redis outage', () => {
  let redis: OwnRedis;
  beforeAll(async () => {
    redis = await startOwnRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('keeps answering, spends a local budget share, says so, and recovers by itself', async () => {
    const lines: string[] = [];
    const logger = createLogger('info', (line) => lines.push(line));
    const prefix = `mpgw-outage-${process.pid}:`;
    const gw: TestApp = await createTestApp({
      env: { REDIS_URL: redis.url, REDIS_KEY_PREFIX: prefix, MEMBERSHIP_STORE: 'memory', REDIS_OUTAGE_BUDGET_PERCENT: '20' },
      gatewayOptions: { logger },
    });
    const webhookGw = await createTestApp({
      emulator: gw.emulator,
      env: { REDIS_URL: redis.url, REDIS_KEY_PREFIX: prefix, MEMBERSHIP_STORE: 'redis' },
      gatewayOptions: { logger: createLogger('silent') },
    });
    const page = (session: string) =>
      webhookGw.fetch('/webhooks/mixpanel/cohorts', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: WEBHOOK_AUTHORIZATION },
        body: JSON.stringify({
          action: 'members',
          parameters: {
            mixpanel_project_id: DEMO_PROJECT.projectId,
            mixpanel_cohort_id: '77',
            mixpanel_cohort_name: 'Outage',
            mixpanel_session_id: session,
            page_info: { total_pages: 1, page_count: 1 },
            members: [{ mixpanel_distinct_id: 'a' }],
          },
        }),
      });

    const warm = await gw.query(COHORTS);
    expect(warm.data?.['cohorts']?.__typename).toBe('CohortConnection');
    expect(warm.extensions?.['degraded']).toBeUndefined();
    expect((await page('before')).status).toBe(200);
    const callsBefore = gw.emulator.calls('/api/query/cohorts/list');

    await redis.kill();
    const during: number[] = [];
    for (let round = 0; round < 10; round++) {
      const typename = await timed(() => gw.query('{ __typename }'));
      expect(typename.value.data).toEqual({ __typename: 'Query' });
      const cached = await timed(() => gw.query(COHORTS));
      expect(cached.value.status).toBe(200);
      expect(cached.value.data?.['cohorts']?.__typename).toBe('CohortConnection');
      during.push(typename.ms, cached.ms);
      if (round === 9) expect(cached.value.extensions?.['degraded']).toEqual({ redis: 'unreachable', budget: 'local-share', localShare: 0.2 });
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    // Before, each of these waited 1-16 s on a Redis budget read; generous headroom for a loaded machine.
    expect(Math.max(...during)).toBeLessThan(1500);
    expect(gw.emulator.calls('/api/query/cohorts/list')).toBe(callsBefore);

    // Data not cached yet still loads, counted against the local share.
    const fresh = await gw.query(PROFILE, { id: 'nobody-here' });
    expect(fresh.status).toBe(200);
    expect(fresh.data?.['profile']?.__typename).toBeDefined();
    expect(fresh.extensions?.['mixpanel']?.upstreamCalls).toBe(1);

    const ready = await gw.fetch('/readyz');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({
      status: 'degraded',
      checks: { redis: { status: 'down', since: expect.any(String), budget: 'local share: 20% of each limit' }, membership: { status: 'up' } },
    });
    // The Redis membership store is away: Mixpanel is told to retry, and nothing else breaks.
    const refused = await page('during');
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).not.toBeNull();

    const warnings = lines.filter((line) => line.includes(' WARN '));
    expect(warnings.length).toBeGreaterThanOrEqual(1);
    expect(warnings.length).toBeLessThanOrEqual(4);

    await redis.start();
    await expect.poll(async () => ((await (await gw.fetch('/readyz')).json()) as { status: string }).status, { timeout: 10_000, interval: 250 }).toBe('ready');
    const after = await gw.query(COHORTS);
    expect(after.extensions?.['degraded']).toBeUndefined();
    expect(lines.some((line) => line.includes('Redis is reachable again'))).toBe(true);
    await expect.poll(async () => (await page('after')).status, { timeout: 10_000, interval: 250 }).toBe(200);
    for (const line of lines) expect(line).not.toContain('redis://');
  });

  it('closes promptly while Redis is unreachable', async () => {
    const gw = await startGateway({ env: { REDIS_URL: redis.url, REDIS_KEY_PREFIX: `mpgw-outage-close-${process.pid}:`, MEMBERSHIP_STORE: 'redis' } });
    await redis.kill();
    const { ms } = await timed(() => gw.close());
    expect(ms).toBeLessThan(5000);
    await redis.start();
  });
});
