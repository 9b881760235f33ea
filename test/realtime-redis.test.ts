/**
 * Two gateway instances sharing Redis and one emulator: a webhook page
 * applied by instance A reaches subscribers on instance B (and A's own
 * subscribers once), and Mixpanel calls made through A count against the
 * budget B reports.
 */
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { createCohortSyncSender } from '../src/emulator/cohort-sync.js';
import { createEmulator, type Emulator } from '../src/emulator/server.js';
import { startGateway, WEBHOOK_BASIC_AUTH, type TestGateway } from './helpers/gateway.js';
import { REDIS, redisSkip } from './helpers/redis.js';
import { isolatedProject, isProbeOf, publishCohortProbe, subscribe, type Subscriber, type SubscriptionTransport } from './helpers/subscribers.js';

const WEBHOOK_PATH = '/webhooks/mixpanel/cohorts';
const COHORT_ID = '6161';

const CHANGES = /* GraphQL */ `
  subscription($ids: [ID!]) { cohortMembershipChanged(cohortIds: $ids) { kind sessionId page totalPages members { distinctId } } }
`;
const COMPLETIONS = /* GraphQL */ `
  subscription($ids: [ID!]) { cohortSyncCompleted(cohortIds: $ids) { sessionId totalPages memberCount } }
`;
const RATE_LIMITS = /* GraphQL */ `{ project { rateLimits { family used } } }`;

const skip = await redisSkip('the two-instance Redis tests');

describe.skipIf(skip)('two gateway instances sharing Redis', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  /** Two gateways on one emulator and one Redis, serving a project no other run uses. */
  async function startPair() {
    const project = isolatedProject();
    const emulator: Emulator = await createEmulator({ size: 'small', projects: [project.emulatorProject] });
    cleanups.push(() => emulator.close());
    // Membership stays in each instance's memory: sharing it through Redis is the restart test's subject, and this
    // test then leaves no membership keys behind. Events and budget still go through Redis.
    const env = { ...project.env, REDIS_URL: `redis://${REDIS.host}:${REDIS.port}`, MEMBERSHIP_STORE: 'memory' };
    const [a, b] = await Promise.all([startGateway({ emulator, env }), startGateway({ emulator, env })]);
    cleanups.unshift(async () => {
      const redis = new Redis({ ...REDIS, maxRetriesPerRequest: 1 });
      const keys = await redis.keys(`${project.redisKeyPrefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    });
    return { project, emulator, a, b };
  }

  function open(gateway: TestGateway, transport: SubscriptionTransport, query: string): Subscriber {
    const field = query === CHANGES ? 'cohortMembershipChanged' : 'cohortSyncCompleted';
    const subscriber = subscribe({ url: gateway.graphqlUrl, transport, ignore: isProbeOf(field) }, { query, variables: { ids: [COHORT_ID] } });
    cleanups.push(() => subscriber.close());
    return subscriber;
  }

  it('delivers a page applied by A to subscribers on B, and on A once', async () => {
    const { project, emulator, a, b } = await startPair();
    const onB = [open(b, 'ws', CHANGES), open(b, 'sse', CHANGES)];
    const onA = open(a, 'ws', CHANGES);
    const completedOnB = open(b, 'sse', COMPLETIONS);
    // Probes published on A: once B's subscribers see one, the path through Redis is up.
    const probeFromA = () => publishCohortProbe(a.gateway.pubsub, project.projectId, COHORT_ID);
    await Promise.all([...onB, onA, completedOnB].map((s) => s.waitForProbe(probeFromA)));

    const sender = createCohortSyncSender({ url: a.url + WEBHOOK_PATH, retryDelaysMs: [10, 20], basicAuth: WEBHOOK_BASIC_AUTH });
    const people = [...emulator.data(project.projectId).profiles.values()].slice(0, 30).map((p) => ({ distinctId: p.distinctId }));
    const cohort = { projectId: project.projectId, cohortId: COHORT_ID, cohortName: 'Shared' };
    const full = await sender.sync({ ...cohort, members: people.slice(0, 20) });
    const diff = await sender.sync({ ...cohort, members: people.slice(5, 30) });
    expect([full.status, diff.status]).toEqual(['ok', 'ok']);

    const ids = (from: number, to: number) =>
      people
        .slice(from, to)
        .map((p) => p.distinctId)
        .sort();
    const expected = [
      ['ADDED', full.sessionId, 1, 1, ids(0, 20)],
      ['REPLACED', full.sessionId, 1, 1, ids(0, 20)],
      ['ADDED', diff.sessionId, 1, 2, ids(20, 30)],
      ['REMOVED', diff.sessionId, 2, 2, ids(0, 5)],
    ];
    await Promise.all([...onB, onA].map((s) => s.waitForResults(expected.length)));
    await Promise.all([...onB, onA, completedOnB].map((s) => s.waitForProbe(probeFromA)));
    for (const subscriber of [...onB, onA]) {
      const received = subscriber.results.map((result) => {
        expect(result.errors).toBeUndefined();
        const e = (result.data as { cohortMembershipChanged: Record<string, any> }).cohortMembershipChanged;
        return [e['kind'], e['sessionId'], e['page'], e['totalPages'], (e['members'] as { distinctId: string }[]).map((m) => m.distinctId).sort()];
      });
      expect(received, subscriber.transport).toEqual(expected);
    }
    expect(completedOnB.results.map((r) => r.data?.['cohortSyncCompleted'])).toEqual([
      { sessionId: full.sessionId, totalPages: 1, memberCount: 20 },
      { sessionId: diff.sessionId, totalPages: 2, memberCount: 25 },
    ]);
  });

  it('counts Mixpanel calls made through A in the budget B reports', async () => {
    const { a, b } = await startPair();
    const queryUsed = async (gateway: TestGateway) => {
      const response = await gateway.query(RATE_LIMITS);
      expect(response.errors).toBeUndefined();
      return (response.data?.['project']?.rateLimits as { family: string; used: number }[] | undefined)?.find((r) => r.family === 'QUERY')?.used;
    };
    expect(await queryUsed(b)).toBe(0);

    const cohorts = await a.query(`{ cohorts { __typename } }`);
    expect(cohorts.data?.['cohorts']).toEqual({ __typename: 'CohortConnection' });
    expect(await queryUsed(b)).toBe(1);
    expect(await queryUsed(a)).toBe(1);
  });
});
