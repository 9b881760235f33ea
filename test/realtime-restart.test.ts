/**
 * A gateway restart in the middle of a full cohort sync, on each persistent
 * membership backend: pages 1-3 of 5 reach gateway A, which closes; gateway
 * B opens the same SQLite file (or Redis) and receives pages 4-5. Nothing
 * shows before the session completes, and then all 5,000 members do, with
 * the completing events on B's subscribers.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCohortSyncSender, toSenderMember, type CohortSyncPayload, type FetchLike } from '../src/emulator/cohort-sync.js';
import { createEmulator, type Emulator } from '../src/emulator/server.js';
import { startGateway, WEBHOOK_BASIC_AUTH, type GraphQLResponse, type TestGateway } from './helpers/gateway.js';
import { REDIS, redisSkip } from './helpers/redis.js';
import { isolatedProject, isProbeOf, publishCohortProbe, subscribe, type IsolatedProject, type Subscriber } from './helpers/subscribers.js';

const WEBHOOK_PATH = '/webhooks/mixpanel/cohorts';
const COHORT_ID = '5151';
const MEMBERS = 5_000;

const CHANGES = /* GraphQL */ `
  subscription($ids: [ID!]) { cohortMembershipChanged(cohortIds: $ids) { kind sessionId page totalPages members { distinctId } } }
`;
const COHORT = /* GraphQL */ `
  query($id: ID!, $after: String) {
    cohort(id: $id) {
      __typename
      ... on Cohort {
        sync { source memberCount sessionId }
        members(first: 1000, after: $after) {
          ... on ProfileConnection { totalCount edges { node { distinctId email } } pageInfo { hasNextPage endCursor } }
        }
      }
    }
  }
`;

async function restartMidSession(project: IsolatedProject, storeEnv: Record<string, string>): Promise<void> {
  const emulator: Emulator = await createEmulator({ size: { profiles: MEMBERS, events: 200, days: 3, groups: 1 }, projects: [project.emulatorProject] });
  const env = { ...project.env, ...storeEnv };
  const subscribers: Subscriber[] = [];
  const open = (gateway: TestGateway) => {
    const subscriber = subscribe(
      { url: gateway.graphqlUrl, transport: 'ws', ignore: isProbeOf('cohortMembershipChanged') },
      { query: CHANGES, variables: { ids: [COHORT_ID] } },
    );
    subscribers.push(subscriber);
    return subscriber;
  };
  const flush = (gateway: TestGateway, subscriber: Subscriber) =>
    subscriber.waitForProbe(() => publishCohortProbe(gateway.gateway.pubsub, project.projectId, COHORT_ID));

  try {
    const a = await startGateway({ emulator, env });
    const onA = open(a);
    await flush(a, onA);
    let target = a;
    let b: TestGateway | undefined;
    let onB: Subscriber | undefined;

    // Page 4 finds A with three staged pages and nothing visible; A closes and B takes over.
    const restartBeforePage4 = async () => {
      await flush(a, onA);
      expect(onA.results).toEqual([]);
      expect((await a.query(COHORT, { id: COHORT_ID })).data?.['cohort']).toEqual({ __typename: 'NotFoundError' });
      await a.close();
      b = await startGateway({ emulator, env });
      onB = open(b);
      await flush(b, onB);
      expect((await b.query(COHORT, { id: COHORT_ID })).data?.['cohort']).toEqual({ __typename: 'NotFoundError' });
      target = b;
    };
    const pageNumbers: number[] = [];
    const viaCurrentGateway: FetchLike = async (_url, init) => {
      const page = (JSON.parse(String(init.body)) as CohortSyncPayload).parameters.page_info.page_count;
      pageNumbers.push(page);
      if (page === 4 && target === a) await restartBeforePage4();
      return fetch(target.url + WEBHOOK_PATH, init);
    };
    const sender = createCohortSyncSender({ url: a.url + WEBHOOK_PATH, retryDelaysMs: [10, 20], basicAuth: WEBHOOK_BASIC_AUTH, fetch: viaCurrentGateway });

    const members = [...emulator.data(project.projectId).profiles.values()].map((p) => toSenderMember(p));
    const result = await sender.sync({ projectId: project.projectId, cohortId: COHORT_ID, cohortName: 'Across a restart', members });
    expect(result).toMatchObject({ status: 'ok', pagesSent: 5, attempts: 5 });
    expect(pageNumbers).toEqual([1, 2, 3, 4, 5]);
    if (!b || !onB) throw new Error('gateway B never started');

    // B completed the session from the three pages A stored: every member joined, then each page replaced.
    await onB.waitForResults(10);
    const events = onB.results.map((r) => {
      const e = (r.data as { cohortMembershipChanged: { kind: string; sessionId: string; page: number; totalPages: number; members: unknown[] } })
        .cohortMembershipChanged;
      return [e.kind, e.page, e.totalPages, e.sessionId, e.members.length];
    });
    expect(events).toEqual([
      ...[1, 2, 3, 4, 5].map(() => ['ADDED', 5, 5, result.sessionId, 1000]),
      ...[1, 2, 3, 4, 5].map((page) => ['REPLACED', page, 5, result.sessionId, 1000]),
    ]);

    const stored: { distinctId: string; email: string | null }[] = [];
    let after: string | null = null;
    for (let page = 0; page < 10; page++) {
      const response: GraphQLResponse = await b.query(COHORT, { id: COHORT_ID, after });
      expect(response.errors).toBeUndefined();
      const cohort = response.data?.['cohort'] as Record<string, any>;
      expect(cohort.sync).toEqual({ source: 'WEBHOOK', memberCount: MEMBERS, sessionId: result.sessionId });
      expect(cohort.members.totalCount).toBe(MEMBERS);
      stored.push(...cohort.members.edges.map((edge: { node: { distinctId: string; email: string | null } }) => edge.node));
      if (!cohort.members.pageInfo.hasNextPage) break;
      after = cohort.members.pageInfo.endCursor;
    }
    const byId = new Map(members.map((m) => [m.distinctId, m.email ?? null]));
    expect(stored.map((m) => m.distinctId)).toEqual([...byId.keys()].sort());
    expect(stored.every((m) => m.email === byId.get(m.distinctId))).toBe(true);

    // Mixpanel restarting the session from the top: B remembers every page, so nothing changes.
    expect(await sender.redeliver(COHORT_ID, 'session')).toMatchObject({ status: 'ok', pagesSent: 5 });
    await flush(b, onB);
    expect(onB.results).toHaveLength(10);
  } finally {
    await Promise.all(subscribers.map((s) => s.close()));
    await emulator.close();
  }
}

describe('a gateway restart in the middle of a cohort sync', () => {
  let directory: string;
  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'realtime-restart-'));
  });
  afterAll(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('completes the session on the same SQLite file', async () => {
    await restartMidSession(isolatedProject(), { MEMBERSHIP_STORE: 'sqlite', SQLITE_PATH: join(directory, 'membership.sqlite') });
  });
});

const skipRedis = await redisSkip('the Redis restart test');

describe.skipIf(skipRedis)('a gateway restart in the middle of a cohort sync, on Redis', () => {
  const project = isolatedProject();
  let redis: Redis;
  beforeAll(() => {
    redis = new Redis({ ...REDIS, maxRetriesPerRequest: 1 });
  });
  afterAll(async () => {
    const keys = await redis.keys(`${project.redisKeyPrefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  it('completes the session from what gateway A stored in Redis', async () => {
    await restartMidSession(project, { MEMBERSHIP_STORE: 'redis', REDIS_URL: `redis://${REDIS.host}:${REDIS.port}` });
  });
});
