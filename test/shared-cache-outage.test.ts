/**
 * The shared cache level without its Redis: two gateways on a redis-server
 * of the test's own (never the shared one on 6379) share a profile and a
 * chart; once that Redis is killed, each keeps answering from its own
 * process level and reads what it lacks itself, at once: no error, no wait
 * for the shared level.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp } from './helpers/app.js';
import { redisServerInstalled, startOwnRedis, type OwnRedis } from './helpers/own-redis.js';

const installed = redisServerInstalled();
if (!installed && !process.env['CI']) console.warn('redis-server is not installed and CI is unset: skipping the shared-cache outage test');

const PROFILE = `query($id: ID!) { profile(distinctId: $id) { __typename ... on Profile { distinctId email } ... on Error { code } } }`;
const CHART = `query($from: Date!, $to: Date!) { segmentation(event: "Log In", from: $from, to: $to) { __typename ... on Error { code } } }`;
const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

describe.skipIf(!installed && !process.env['CI'])('the shared cache level during a Redis outage', () => {
  let redis: OwnRedis;
  beforeAll(async () => {
    redis = await startOwnRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('shares while Redis is up, and falls back to each process level at once when it goes away', async () => {
    const env = { REDIS_URL: redis.url, REDIS_KEY_PREFIX: `mpgw-shared-outage-${process.pid}:`, MEMBERSHIP_STORE: 'memory' };
    const a = await createTestApp({ env });
    const b = await createTestApp({ emulator: a.emulator, env });
    const [first, second, third] = [...a.emulator.data().profiles.values()].map((p) => p.distinctId);
    const chartWeek = (daysBack: number) => ({ from: day(Date.now() - (daysBack + 6) * 86_400_000), to: day(Date.now() - daysBack * 86_400_000) });
    const engage = () => a.emulator.callLog.filter((e) => e.path.endsWith('/engage')).length;
    // A plain segmentation is read through /events.
    const segmentation = () => a.emulator.callLog.filter((e) => e.path.endsWith('/events')).length;

    expect((await a.query(PROFILE, { id: first })).data?.['profile']).toMatchObject({ __typename: 'Profile', distinctId: first });
    expect((await a.query(CHART, chartWeek(1))).data?.['segmentation']).toMatchObject({ __typename: 'Series' });
    const [engageUp, chartsUp] = [engage(), segmentation()];
    // B finds both in Redis: no call of its own.
    expect((await b.query(PROFILE, { id: first })).data?.['profile']).toMatchObject({ __typename: 'Profile', distinctId: first });
    expect((await b.query(CHART, chartWeek(1))).data?.['segmentation']).toMatchObject({ __typename: 'Series' });
    expect([engage(), segmentation()]).toEqual([engageUp, chartsUp]);
    const probe = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    expect((await probe.keys(`${env.REDIS_KEY_PREFIX}entities:*`)).length).toBeGreaterThan(0);
    expect((await probe.keys(`${env.REDIS_KEY_PREFIX}responses:*`)).length).toBeGreaterThan(0);
    probe.disconnect();

    await redis.kill();
    // What each process holds still answers; what neither holds is read at once, alone.
    const started = performance.now();
    const [cached, fresh, chart] = await Promise.all([b.query(PROFILE, { id: first }), b.query(PROFILE, { id: second }), b.query(CHART, chartWeek(2))]);
    const answeredMs = performance.now() - started;
    expect(cached.data?.['profile']).toMatchObject({ __typename: 'Profile', distinctId: first });
    expect(fresh.data?.['profile']).toMatchObject({ __typename: 'Profile', distinctId: second });
    expect(chart.data?.['segmentation']).toMatchObject({ __typename: 'Series' });
    expect([cached.errors, fresh.errors, chart.errors]).toEqual([undefined, undefined, undefined]);
    expect([engage(), segmentation()]).toEqual([engageUp + 1, chartsUp + 1]);
    // Not the 2 s a waiter for another instance's read may take: the shared level is skipped, not waited for.
    expect(answeredMs).toBeLessThan(2000);
    expect((await a.query(PROFILE, { id: third })).data?.['profile']).toMatchObject({ __typename: 'Profile', distinctId: third });

    await redis.start();
    await Promise.all([a.close(), b.close()]);
  }, 60_000);
});
