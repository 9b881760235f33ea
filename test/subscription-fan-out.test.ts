/**
 * Subscription fan-out through a real gateway over loopback: subscriptions
 * computing the same result share one execution per event across graphql-ws
 * and SSE (counted on /metrics), clients with different keys or variables
 * never share one, every subscriber still gets every event exactly once and
 * in order, the webhook is answered before its fan-out ends, unsubscribes and
 * refusals leave no group behind, and a client that stops reading is closed
 * (graphql-ws 1013) or ended (SSE, SLOW_CONSUMER) while the others go on.
 */
import { request as httpRequest } from 'node:http';
import type { FormattedExecutionResult } from 'graphql';
import { afterEach, describe, expect, it } from 'vitest';
import { createCohortSyncSender } from '../src/emulator/cohort-sync.js';
import { DEMO_PROJECT } from '../src/emulator/server.js';
import type { CohortMember } from '../src/membership/types.js';
import { RealtimeCloseCode } from '../src/server/websocket.js';
import { SLOW_CONSUMER } from '../src/server/plugins/use-sse-fan-out.js';
import { metricValue, rawSseSubscribe, rawWsSubscribe, until } from './helpers/fan-out.js';
import { startGateway, type TestGateway, WEBHOOK_AUTHORIZATION, WEBHOOK_BASIC_AUTH } from './helpers/gateway.js';
import { isProbeOf, publishCohortProbe, subscribe, type Subscriber, type SubscriptionTransport } from './helpers/subscribers.js';

const WEBHOOK_PATH = '/webhooks/mixpanel/cohorts';
const PROJECT_ID = DEMO_PROJECT.projectId;
const COHORT_ID = '4242';
const OTHER_COHORT_ID = '4243';
const KEY_1 = 'fan-out-test-key-number-0001';
const KEY_2 = 'fan-out-test-key-number-0002';

const CHANGES = /* GraphQL */ `
  subscription Changes($ids: [ID!]) {
    cohortMembershipChanged(cohortIds: $ids) { cohortId kind sessionId page totalPages members { distinctId } }
  }
`;

const EXECUTIONS = 'gateway_subscription_executions_total';
const DELIVERIES = 'gateway_subscription_deliveries_total';
const GROUPS = 'gateway_subscription_groups';
const MEMBERS = 'gateway_subscription_members';
const SLOW = 'gateway_subscription_slow_consumers_total';

const subscribers: Subscriber[] = [];
afterEach(async () => {
  await Promise.all(subscribers.splice(0).map((s) => s.close()));
});

function open(gateway: TestGateway, transport: SubscriptionTransport, options: { cohortId?: string; key?: string } = {}): Subscriber {
  const subscriber = subscribe(
    { url: gateway.graphqlUrl, transport, ignore: isProbeOf('cohortMembershipChanged'), ...(options.key ? { authorization: `Bearer ${options.key}` } : {}) },
    { query: CHANGES, variables: { ids: [options.cohortId ?? COHORT_ID] } },
  );
  subscribers.push(subscriber);
  return subscriber;
}

/**
 * Until every subscriber has received a probe published after this call. One probe at a time, the next
 * only when the last did not reach everyone: once this returns, no probe is still on its way.
 */
async function probe(gateway: TestGateway, live: readonly Subscriber[], cohortId = COHORT_ID): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const seen = live.map((s) => s.ignored);
    publishCohortProbe(gateway.gateway.pubsub, PROJECT_ID, cohortId);
    try {
      await until(() => live.every((s, i) => s.ignored > seen[i]!), 'subscribers live', 300);
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
  }
}

const sessionsOf = (subscriber: Subscriber) =>
  subscriber.results.map((r: FormattedExecutionResult) => {
    const event = (r.data as { cohortMembershipChanged: { kind: string; sessionId: string; page: number; members: { distinctId: string }[] } })
      .cohortMembershipChanged;
    return `${event.kind}:${event.sessionId}:${event.page}:${event.members.map((m) => m.distinctId).join(',')}`;
  });

/** A single-page `add_members`/`remove_members` cohort-sync body. */
function pageBody(sessionId: string, action: 'add_members' | 'remove_members', ids: readonly string[]) {
  return {
    action,
    parameters: {
      mixpanel_project_id: PROJECT_ID,
      mixpanel_cohort_id: COHORT_ID,
      mixpanel_cohort_name: 'Fan-out',
      mixpanel_cohort_description: '',
      mixpanel_session_id: sessionId,
      page_info: { total_pages: 1, page_count: 1 },
      members: ids.map((id) => ({ mixpanel_distinct_id: id })),
    },
  };
}

/** Posts one single-page webhook call; returns the status. */
async function postPage(gateway: TestGateway, sessionId: string, action: 'add_members' | 'remove_members', ids: readonly string[]): Promise<number> {
  const body = pageBody(sessionId, action, ids);
  const response = await fetch(gateway.url + WEBHOOK_PATH, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: WEBHOOK_AUTHORIZATION },
    body: JSON.stringify(body),
  });
  await response.arrayBuffer();
  return response.status;
}

const sender = (gateway: TestGateway) => createCohortSyncSender({ url: gateway.url + WEBHOOK_PATH, retryDelaysMs: [10, 20], basicAuth: WEBHOOK_BASIC_AUTH });

describe('subscription fan-out', () => {
  it('executes each event once per group across graphql-ws and SSE, and never shares a result between keys or variables', async () => {
    const gateway = await startGateway({ env: { GATEWAY_API_KEYS: `${KEY_1},${KEY_2}` } });
    const auth = `Bearer ${KEY_1}`;
    const shared = [
      ...Array.from({ length: 8 }, () => open(gateway, 'ws', { key: KEY_1 })),
      ...Array.from({ length: 6 }, () => open(gateway, 'sse', { key: KEY_1 })),
    ];
    const otherKey = Array.from({ length: 3 }, () => open(gateway, 'ws', { key: KEY_2 }));
    const otherCohort = Array.from({ length: 3 }, () => open(gateway, 'ws', { key: KEY_1, cohortId: OTHER_COHORT_ID }));
    await probe(gateway, [...shared, ...otherKey]);
    await probe(gateway, otherCohort, OTHER_COHORT_ID);
    expect(await metricValue(gateway.url, GROUPS, {}, auth)).toBe(3);
    expect(await metricValue(gateway.url, MEMBERS, { transport: 'ws' }, auth)).toBe(14);
    expect(await metricValue(gateway.url, MEMBERS, { transport: 'sse' }, auth)).toBe(6);

    const executionsBefore = await metricValue(gateway.url, EXECUTIONS, {}, auth);
    const wsBefore = await metricValue(gateway.url, DELIVERIES, { transport: 'ws' }, auth);
    const sseBefore = await metricValue(gateway.url, DELIVERIES, { transport: 'sse' }, auth);
    const pages: [action: 'add_members' | 'remove_members', ids: string[]][] = [
      ['add_members', ['fan-1', 'fan-2', 'fan-3']],
      ['add_members', ['fan-4']],
      ['remove_members', ['fan-2']],
      ['add_members', ['fan-5', 'fan-6']],
    ];
    for (const [i, [action, ids]] of pages.entries()) expect(await postPage(gateway, `fan-out-${i}`, action, ids)).toBe(200);
    const events = pages.map(([action, ids], i) => `${action === 'add_members' ? 'ADDED' : 'REMOVED'}:fan-out-${i}:1:${ids.join(',')}`);
    for (const subscriber of [...shared, ...otherKey]) {
      await subscriber.waitForResults(events.length);
      expect(sessionsOf(subscriber), subscriber.transport).toEqual(events);
    }
    for (const subscriber of otherCohort) expect(subscriber.results).toEqual([]);

    // One execution per event for each of the two groups of cohort 4242; the other cohort's group filtered every event out.
    expect((await metricValue(gateway.url, EXECUTIONS, {}, auth)) - executionsBefore).toBe(2 * events.length);
    expect((await metricValue(gateway.url, DELIVERIES, { transport: 'ws' }, auth)) - wsBefore).toBe(11 * events.length);
    expect((await metricValue(gateway.url, DELIVERIES, { transport: 'sse' }, auth)) - sseBefore).toBe(6 * events.length);
  });

  it('delivers an execution error once to every member of the group, from one execution', async () => {
    const gateway = await startGateway();
    const query = 'subscription($ids: [ID!]) { cohortMembershipChanged(cohortIds: $ids) { sessionId members { distinctId city } } }';
    const live = (['ws', 'sse', 'ws', 'sse', 'ws', 'sse'] as const).map((transport) => {
      const subscriber = subscribe(
        { url: gateway.graphqlUrl, transport, ignore: isProbeOf('cohortMembershipChanged') },
        { query, variables: { ids: [COHORT_ID] } },
      );
      subscribers.push(subscriber);
      return subscriber;
    });
    await probe(gateway, live);
    const executionsBefore = await metricValue(gateway.url, EXECUTIONS);
    // `city` needs the full profile: engage fails, so the field does.
    gateway.emulator.faults.inject({ path: '/api/query/engage', kind: 'status', status: 500 });
    const profile = [...gateway.emulator.data().profiles.values()][0]!;
    expect(await postPage(gateway, 'failing-profile', 'add_members', [profile.distinctId])).toBe(200);
    const [first] = await live[0]!.waitForResults(1);
    expect(first?.errors?.length).toBeGreaterThan(0);
    expect(first?.errors?.[0]?.path).toEqual(['cohortMembershipChanged', 'members', 0, 'city']);
    expect(first?.data).toEqual({ cohortMembershipChanged: { sessionId: 'failing-profile', members: [{ distinctId: profile.distinctId, city: null }] } });
    for (const subscriber of live) expect(await subscriber.waitForResults(1), subscriber.transport).toEqual([first]);
    expect((await metricValue(gateway.url, EXECUTIONS)) - executionsBefore).toBe(1);
    expect(live.every((s) => s.failure === undefined && !s.completed)).toBe(true);
  });

  it('answers the webhook before its fan-out has finished', async () => {
    const gateway = await startGateway({ env: { SUBSCRIPTION_FANOUT_BATCH_SIZE: '1' } });
    const live = Array.from({ length: 150 }, () => open(gateway, 'ws'));
    await probe(gateway, live);
    const registry = gateway.gateway.metrics.registry;
    const delivered = async () => (await registry.getSingleMetric(DELIVERIES)!.get()).values.reduce((sum, v) => sum + v.value, 0);
    // On a loaded machine `probe` may return while an earlier probe is still being written (one socket
    // per turn here; its deliveries are counted when it ends): wait until nothing is being delivered.
    let before = await delivered();
    for (let quiet = 0; quiet < 4; ) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      const now = await delivered();
      quiet = now === before ? quiet + 1 : 0;
      before = now;
    }
    // Read as soon as the answer's head is parsed (node:http's 'response'), in this same process.
    const { status, deliveredWhenAnswered } = await new Promise<{ status: number | undefined; deliveredWhenAnswered: number }>((resolve, reject) => {
      const request = httpRequest(
        gateway.url + WEBHOOK_PATH,
        { method: 'POST', headers: { 'content-type': 'application/json', authorization: WEBHOOK_AUTHORIZATION } },
        (response) => {
          void delivered().then((count) => resolve({ status: response.statusCode, deliveredWhenAnswered: count - before }), reject);
          response.resume();
        },
      );
      request.once('error', reject);
      request.end(JSON.stringify(pageBody('answered-first', 'add_members', ['early-1'])));
    });
    // One subscriber per turn of the event loop: the answer went out while most were still to be written.
    expect(status).toBe(200);
    expect(deliveredWhenAnswered).toBeLessThan(live.length);
    await Promise.all(live.map((s) => s.waitForResults(1)));
    expect((await delivered()) - before).toBe(live.length);
  });

  it('writes the same bytes to sockets sharing a subscription id and to sockets with ids of their own, at every frame length', async () => {
    const gateway = await startGateway();
    // Raw sockets all subscribe as id "1" (they share one frame); graphql-ws clients each use an id of their own.
    const raw = await Promise.all(Array.from({ length: 3 }, () => rawWsSubscribe(gateway.graphqlUrl, CHANGES, { ids: [COHORT_ID] })));
    const clients = [open(gateway, 'ws'), open(gateway, 'ws')];
    await probe(gateway, clients);
    await until(() => raw.every((r) => r.nexts.length > 0), 'raw sockets live');
    const probes = raw.map((r) => r.nexts.length);
    // A frame of a few hundred bytes (16-bit length), then one past 64 KiB (64-bit length).
    const small = ['s-1'];
    // 1,000 members (one change: Mixpanel's page size) with long distinct ids.
    const big = Array.from({ length: 1000 }, (_, i) => `${'a-member-with-a-long-distinct-id-'.repeat(2)}${String(i).padStart(5, '0')}`);
    expect(await postPage(gateway, 'frame-small', 'add_members', small)).toBe(200);
    expect(await postPage(gateway, 'frame-big', 'add_members', big)).toBe(200);
    for (const client of clients) await client.waitForResults(2);
    await until(() => raw.every((r, i) => r.nexts.length >= probes[i]! + 2), 'raw sockets got both');
    const expected = clients[0]!.results;
    expect(sessionsOf(clients[0]!).map((line) => line.length)).toEqual(
      [`ADDED:frame-small:1:${small.join(',')}`, `ADDED:frame-big:1:${big.join(',')}`].map((line) => line.length),
    );
    expect(sessionsOf(clients[0]!)[1] === `ADDED:frame-big:1:${big.join(',')}`).toBe(true);
    expect(JSON.stringify(expected[1]).length).toBeGreaterThan(65_536);
    expect(clients[1]!.results).toEqual(expected);
    for (const [i, r] of raw.entries()) expect(r.nexts.slice(probes[i]!)).toEqual(expected);
    for (const r of raw) r.socket.close();
  });

  it('leaves the group on unsubscribe, and removes the group with its last member', async () => {
    const gateway = await startGateway();
    const [a, b, c] = [open(gateway, 'ws'), open(gateway, 'sse'), open(gateway, 'ws')] as const;
    await probe(gateway, [a, b, c]);
    expect(await metricValue(gateway.url, GROUPS)).toBe(1);
    await a.close();
    await until(async () => (await metricValue(gateway.url, MEMBERS)) === 2, 'a left');
    const result = await sender(gateway).sync({ projectId: PROJECT_ID, cohortId: COHORT_ID, cohortName: 'Leaving', members: [{ distinctId: 'stay-1' }] });
    expect(result.status).toBe('ok');
    await Promise.all([b.waitForResults(2), c.waitForResults(2)]);
    expect(a.results).toEqual([]);
    await Promise.all([b.close(), c.close()]);
    await until(async () => (await metricValue(gateway.url, GROUPS)) === 0 && (await metricValue(gateway.url, MEMBERS)) === 0, 'group removed');
  });

  it('hands a refused argument to each subscriber and keeps no group', async () => {
    const gateway = await startGateway();
    const refused = [
      open(gateway, 'ws', { cohortId: 'not-a-number' }),
      open(gateway, 'ws', { cohortId: 'not-a-number' }),
      open(gateway, 'sse', { cohortId: 'not-a-number' }),
    ];
    for (const subscriber of refused) {
      await subscriber.waitFor((s) => s.results.length > 0 || s.failure !== undefined || s.completed);
      const errors = subscriber.results[0]?.errors ?? (subscriber.failure as readonly { message: string }[] | undefined);
      expect(JSON.stringify(errors), subscriber.transport).toMatch(/cohortIds/);
    }
    expect(await metricValue(gateway.url, GROUPS)).toBe(0);
    expect(await metricValue(gateway.url, MEMBERS)).toBe(0);
  });
});

describe('slow consumers', () => {
  const LIMIT = 64 * 1024;

  /** A change of 1,000 members, about 45 KB of JSON. */
  function bigChange(sequence: number) {
    const members: CohortMember[] = Array.from({ length: 1_000 }, (_, i) => ({
      distinctId: `slow-consumer-member-${sequence}-${String(i).padStart(5, '0')}`,
      properties: {},
    }));
    return {
      projectId: PROJECT_ID,
      cohortId: COHORT_ID,
      kind: 'ADDED' as const,
      members,
      sessionId: `big-${sequence}`,
      page: 1,
      totalPages: 1,
      at: Date.now(),
    };
  }

  /** Publishes big changes until the slow-consumer counter of `transport` moves; returns how many were published. */
  async function flood(gateway: TestGateway, transport: SubscriptionTransport): Promise<number> {
    const before = await metricValue(gateway.url, SLOW, { transport });
    for (let sequence = 1; sequence <= 2_000; sequence++) {
      gateway.gateway.pubsub.publish('cohortMembershipChanged', PROJECT_ID, bigChange(sequence));
      await new Promise((resolve) => setTimeout(resolve, 1));
      if (sequence % 20 === 0 && (await metricValue(gateway.url, SLOW, { transport })) > before) return sequence;
    }
    throw new Error(`no ${transport} subscriber was closed as a slow consumer`);
  }

  it('closes a graphql-ws socket that stops reading with 1013, and keeps serving the others', async () => {
    const gateway = await startGateway({ env: { SUBSCRIPTION_MAX_BUFFERED_BYTES: String(LIMIT) } });
    const healthy = open(gateway, 'ws');
    const stalled = await rawWsSubscribe(gateway.graphqlUrl, CHANGES, { ids: [COHORT_ID] });
    await probe(gateway, [healthy]);
    await until(() => {
      publishCohortProbe(gateway.gateway.pubsub, PROJECT_ID, COHORT_ID);
      return stalled.nexts.length > 0;
    }, 'stalled subscriber live');
    stalled.socket.pause();

    const published = await flood(gateway, 'ws');
    await healthy.waitForResults(published, 30_000);
    expect(healthy.results.map((r) => (r.data as { cohortMembershipChanged: { sessionId: string } }).cohortMembershipChanged.sessionId)).toEqual(
      Array.from({ length: published }, (_, i) => `big-${i + 1}`),
    );
    expect(healthy.failure).toBeUndefined();

    stalled.socket.resume();
    await until(() => stalled.closed !== undefined, 'stalled socket closed', 20_000);
    expect(stalled.closed?.code).toBe(RealtimeCloseCode.SlowConsumer);
    // It got a prefix of the events, in order, and nothing after the limit was passed.
    const sessions = stalled.nexts
      .map((p) => (p as { data: { cohortMembershipChanged: { sessionId: string } } }).data.cohortMembershipChanged.sessionId)
      .filter((session) => session.startsWith('big-'));
    expect(sessions.length).toBeLessThan(published);
    expect(sessions).toEqual(Array.from({ length: sessions.length }, (_, i) => `big-${i + 1}`));
  });

  it('ends an SSE stream that stops reading with a SLOW_CONSUMER error, and keeps serving the others', async () => {
    const gateway = await startGateway({ env: { SUBSCRIPTION_MAX_BUFFERED_BYTES: String(LIMIT) } });
    const healthy = open(gateway, 'sse');
    const stalled = await rawSseSubscribe(gateway.graphqlUrl, CHANGES, { ids: [COHORT_ID] });
    await probe(gateway, [healthy]);
    await until(() => {
      publishCohortProbe(gateway.gateway.pubsub, PROJECT_ID, COHORT_ID);
      return stalled.text().includes('event: next');
    }, 'stalled stream live');
    stalled.response.pause();

    const published = await flood(gateway, 'sse');
    await healthy.waitForResults(published, 30_000);
    expect(healthy.failure).toBeUndefined();
    expect(await metricValue(gateway.url, MEMBERS, { transport: 'sse' })).toBe(1);

    stalled.response.resume();
    await until(() => stalled.ended(), 'stalled stream ended', 20_000);
    const data = stalled
      .text()
      .split('\n')
      .filter((line) => line.startsWith('data: '))
      .map((line) => JSON.parse(line.slice(6)) as FormattedExecutionResult);
    const last = data.at(-1)!;
    expect(last.errors?.[0]?.extensions?.['code']).toBe(SLOW_CONSUMER);
    const sessions = data
      .slice(0, -1)
      .map((r) => (r.data as { cohortMembershipChanged: { sessionId: string } }).cohortMembershipChanged.sessionId)
      .filter((session) => session.startsWith('big-'));
    expect(sessions.length).toBeLessThan(published);
    expect(sessions).toEqual(Array.from({ length: sessions.length }, (_, i) => `big-${i + 1}`));
    expect(stalled.text().trimEnd().endsWith('event: complete\ndata:')).toBe(true);
  });
});
