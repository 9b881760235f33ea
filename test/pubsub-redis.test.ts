/**
 * Cohort events across gateway instances: two pubsubs on one Redis at
 * 127.0.0.1:6379, each with its own publish and subscribe connections.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { REDIS, redisSkip } from './helpers/redis.js';
import { afterAll, describe, expect, it } from 'vitest';
import { createGatewayPubSub } from '../src/pubsub/create-pubsub.js';
import type { CohortChangeEvent, CohortSyncCompletedEvent } from '../src/pubsub/types.js';

// createRedisEventTarget has no prefix option; createGatewayPubSub adds one, so this run's channels are its own.
const channelPrefix = `mpgw-test:${randomUUID()}:`;
const connections: Redis[] = [];

const skipRedis = await redisSkip('the Redis pubsub tests');

const connect = (): Redis => {
  const redis = new Redis({ ...REDIS, maxRetriesPerRequest: 1 });
  connections.push(redis);
  return redis;
};

afterAll(async () => {
  await Promise.all(connections.filter((redis) => redis.status !== 'end').map((redis) => redis.quit()));
});

/** Resolves once Redis reports a subscriber on the channel, so a publish cannot race the SUBSCRIBE. */
async function subscribed(channel: string): Promise<void> {
  const admin = connect();
  for (let i = 0; i < 200; i++) {
    const [, count] = (await admin.pubsub('NUMSUB', channel)) as [string, number];
    if (count > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`nobody subscribed to ${channel}`);
}

const change: CohortChangeEvent = {
  projectId: 'p1',
  cohortId: 'c1',
  kind: 'ADDED',
  members: [{ distinctId: 'a', email: 'a@example.com', properties: { plan: 'pro' } }],
  sessionId: 's1',
  page: 1,
  totalPages: 1,
  at: 1234,
};

describe.skipIf(skipRedis)('Redis gateway pubsub', () => {
  it('delivers an event published on one instance to a subscriber on another, by project', async () => {
    const a = createGatewayPubSub({ redis: { publish: connect(), subscribe: connect() }, channelPrefix });
    const b = createGatewayPubSub({ redis: { publish: connect(), subscribe: connect() }, channelPrefix });

    const changes = b.subscribe('cohortMembershipChanged', 'p1')[Symbol.asyncIterator]();
    const otherProject = b.subscribe('cohortMembershipChanged', 'p2')[Symbol.asyncIterator]();
    const completions = b.subscribe('cohortSyncCompleted', 'p1')[Symbol.asyncIterator]();
    const nextChange = changes.next();
    const nextOther = otherProject.next();
    const nextCompletion = completions.next();
    await subscribed(`${channelPrefix}cohortMembershipChanged:p1`);
    await subscribed(`${channelPrefix}cohortMembershipChanged:p2`);
    await subscribed(`${channelPrefix}cohortSyncCompleted:p1`);

    const completed: CohortSyncCompletedEvent = { projectId: 'p1', cohortId: 'c1', sessionId: 's1', totalPages: 1, memberCount: 1, at: 1235 };
    a.publish('cohortMembershipChanged', 'p1', change);
    a.publish('cohortSyncCompleted', 'p1', completed);

    expect(await nextChange).toEqual({ done: false, value: change });
    expect(await nextCompletion).toEqual({ done: false, value: completed });

    a.publish('cohortMembershipChanged', 'p2', { ...change, projectId: 'p2' });
    expect((await nextOther).value).toMatchObject({ projectId: 'p2' });

    await Promise.all([changes.return?.(), otherProject.return?.(), completions.return?.()]);
  });

  it('keeps publishers with another channel prefix apart', async () => {
    const a = createGatewayPubSub({ redis: { publish: connect(), subscribe: connect() }, channelPrefix: `${channelPrefix}other:` });
    const b = createGatewayPubSub({ redis: { publish: connect(), subscribe: connect() }, channelPrefix });
    const events = b.subscribe('cohortMembershipChanged', 'p1')[Symbol.asyncIterator]();
    const next = events.next();
    await subscribed(`${channelPrefix}cohortMembershipChanged:p1`);

    a.publish('cohortMembershipChanged', 'p1', { ...change, cohortId: 'foreign' });
    b.publish('cohortMembershipChanged', 'p1', { ...change, cohortId: 'own' });
    expect((await next).value).toMatchObject({ cohortId: 'own' });
    await events.return?.();
  });

  it('reports a failed publish instead of crashing', async () => {
    const publish = connect();
    const errors: unknown[] = [];
    const pubsub = createGatewayPubSub({ redis: { publish, subscribe: connect() }, channelPrefix, onError: (error) => errors.push(error) });
    await publish.quit();
    pubsub.publish('cohortMembershipChanged', 'p1', change);
    await expect.poll(() => errors.length).toBe(1);
  });
});

describe('in-process gateway pubsub', () => {
  it('delivers events to subscribers of the same project only', async () => {
    const pubsub = createGatewayPubSub();
    const events = pubsub.subscribe('cohortMembershipChanged', 'p1')[Symbol.asyncIterator]();
    const next = events.next();
    pubsub.publish('cohortMembershipChanged', 'p2', { ...change, projectId: 'p2' });
    pubsub.publish('cohortMembershipChanged', 'p1', change);
    expect(await next).toEqual({ done: false, value: change });
    await events.return?.();
  });
});
