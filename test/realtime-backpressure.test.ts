/**
 * Backpressure between a full sync's completion stream and the fan-out,
 * through a real gateway over loopback: a sync whose completion publishes
 * more events than a group's queue limit (MAX_PENDING_EVENTS) reaches every
 * subscriber of a slowly written group in full and in order, because the
 * stream publishes only as fast as the group drains; a subscriber of the same
 * group that never reads is still closed as a slow consumer (graphql-ws 1013)
 * and does not hold the stream back.
 */
import type { FormattedExecutionResult } from 'graphql';
import { afterEach, describe, expect, it } from 'vitest';
import { DEMO_PROJECT } from '../src/emulator/server.js';
import { MAX_PENDING_EVENTS } from '../src/pubsub/fan-out.js';
import { RealtimeCloseCode } from '../src/server/websocket.js';
import { metricValue, rawWsSubscribe, until } from './helpers/fan-out.js';
import { startGateway, type TestGateway, WEBHOOK_AUTHORIZATION } from './helpers/gateway.js';
import { isProbeOf, publishCohortProbe, subscribe, type Subscriber } from './helpers/subscribers.js';

const WEBHOOK_PATH = '/webhooks/mixpanel/cohorts';
const PROJECT_ID = DEMO_PROJECT.projectId;
const COHORT_ID = '5151';
const CHANGES = /* GraphQL */ `
  subscription Changes($ids: [ID!]) {
    cohortMembershipChanged(cohortIds: $ids) { kind sessionId page members { distinctId } }
  }
`;

const subscribers: Subscriber[] = [];
afterEach(async () => {
  await Promise.all(subscribers.splice(0).map((s) => s.close()));
});

/**
 * The completion publishes one REPLACED per page, after the ADDED batches (1,000 members each): more
 * events than a group's queue holds, and megabytes more than a socket's send buffer limit.
 */
const PAGES = MAX_PENDING_EVENTS + 50;
const PAGE_SIZE = 200;
const MEMBERS = PAGES * PAGE_SIZE;
const memberId = (n: number) => `backpressure-completion-member-${String(n).padStart(7, '0')}`;
const pageMembers = (page: number) => Array.from({ length: PAGE_SIZE }, (_, i) => memberId((page - 1) * PAGE_SIZE + i + 1));

async function postPage(gateway: TestGateway, n: number): Promise<number> {
  const response = await fetch(gateway.url + WEBHOOK_PATH, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: WEBHOOK_AUTHORIZATION },
    body: JSON.stringify({
      action: 'members',
      parameters: {
        mixpanel_project_id: PROJECT_ID,
        mixpanel_cohort_id: COHORT_ID,
        mixpanel_cohort_name: 'Backpressure',
        mixpanel_session_id: 'big-sync',
        page_info: { total_pages: PAGES, page_count: n },
        members: pageMembers(n).map((id) => ({ mixpanel_distinct_id: id })),
      },
    }),
  });
  await response.arrayBuffer();
  return response.status;
}

type Change = { kind: string; page: number; members: { distinctId: string }[] };
const changeOf = (result: unknown) => (result as FormattedExecutionResult<{ cohortMembershipChanged: Change }>).data!.cohortMembershipChanged;

describe('completion stream backpressure', () => {
  it('delivers a completion longer than the group queue limit in full and in order, and still closes a socket that never reads', async () => {
    // One member written per turn of the event loop: the group drains far slower than the store streams.
    const gateway = await startGateway({ env: { SUBSCRIPTION_FANOUT_BATCH_SIZE: '1', SUBSCRIPTION_MAX_BUFFERED_BYTES: String(16 * 1024) } });
    const readers = [1, 2, 3].map(() => {
      const subscriber = subscribe(
        { url: gateway.graphqlUrl, transport: 'ws', ignore: isProbeOf('cohortMembershipChanged') },
        { query: CHANGES, variables: { ids: [COHORT_ID] } },
      );
      subscribers.push(subscriber);
      return subscriber;
    });
    // More members of the same group, reading as fast as they can: each one more turn per event.
    const others = await Promise.all(Array.from({ length: 12 }, () => rawWsSubscribe(gateway.graphqlUrl, CHANGES, { ids: [COHORT_ID] })));
    const stalled = await rawWsSubscribe(gateway.graphqlUrl, CHANGES, { ids: [COHORT_ID] });
    await until(() => {
      publishCohortProbe(gateway.gateway.pubsub, PROJECT_ID, COHORT_ID);
      return readers.every((r) => r.ignored > 0) && [...others, stalled].every((raw) => raw.nexts.length > 0);
    }, 'subscribers live');

    stalled.socket.pause();
    const slowBefore = await metricValue(gateway.url, 'gateway_subscription_slow_consumers_total', { transport: 'ws' });

    for (let n = 1; n <= PAGES; n++) expect(await postPage(gateway, n)).toBe(200);

    // The ADDED batches (the completing page's number), then one REPLACED per page.
    const added = Math.ceil(MEMBERS / 1_000);
    const expected = [...Array.from({ length: added }, () => `ADDED:${PAGES}`), ...Array.from({ length: PAGES }, (_, i) => `REPLACED:${i + 1}`)];
    expect(expected.length).toBeGreaterThan(MAX_PENDING_EVENTS);
    for (const reader of readers) {
      const results = await reader.waitForResults(expected.length, 60_000);
      const changes = results.map(changeOf);
      expect(changes.map((c) => `${c.kind}:${c.page}`)).toEqual(expected);
      expect(changes.filter((c) => c.kind === 'ADDED').flatMap((c) => c.members.map((m) => m.distinctId))).toEqual(
        Array.from({ length: MEMBERS }, (_, i) => memberId(i + 1)),
      );
      expect(changes.filter((c) => c.kind === 'REPLACED').map((c) => c.members.map((m) => m.distinctId))).toEqual(
        Array.from({ length: PAGES }, (_, i) => pageMembers(i + 1)),
      );
      expect(reader.failure).toBeUndefined();
    }

    for (const raw of others) {
      await until(() => raw.nexts.length >= expected.length, 'raw reader caught up', 30_000);
      expect(raw.closed).toBeUndefined();
    }
    stalled.socket.resume();
    await until(() => stalled.closed !== undefined, 'stalled socket closed', 20_000);
    expect(stalled.closed?.code).toBe(RealtimeCloseCode.SlowConsumer);
    expect(await metricValue(gateway.url, 'gateway_subscription_slow_consumers_total', { transport: 'ws' })).toBe(slowBefore + 1);
    // Nothing is left waiting: the stream did not stop half way behind the closed socket.
    expect(gateway.gateway.pubsub.flow?.backlog()).toBe(0);
  }, 120_000);
});
