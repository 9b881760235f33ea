/**
 * Cohort-sync webhooks to GraphQL subscriptions, end to end over loopback:
 * the emulator's sender posts to a gateway, and graphql-ws and SSE clients
 * subscribed to the cohort see every applied change exactly once, in order.
 * Also: webhook Basic auth and body validation, subscription API keys, and
 * many operations on one graphql-ws connection.
 */
import type { FormattedExecutionResult } from 'graphql';
import { createClient } from 'graphql-ws';
import { WebSocket } from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { createCohortSyncSender, toSenderMember, type CohortSyncResult, type SenderMember } from '../src/emulator/cohort-sync.js';
import { createEmulator, DEMO_PROJECT } from '../src/emulator/server.js';
import { Secret } from '../src/core/secret.js';
import { startGateway, WEBHOOK_AUTHORIZATION, WEBHOOK_BASIC_AUTH, type TestGateway } from './helpers/gateway.js';
import { isProbeOf, publishCohortProbe, subscribe, type Subscriber, type SubscriptionTransport } from './helpers/subscribers.js';

const WEBHOOK_PATH = '/webhooks/mixpanel/cohorts';
const PROJECT_ID = DEMO_PROJECT.projectId;
/** Not one of the emulator's saved cohorts: known to the gateway only through the webhook. */
const COHORT_ID = '4242';
const OTHER_COHORT_ID = '4243';

const CHANGES = /* GraphQL */ `
  subscription Changes($ids: [ID!]) {
    cohortMembershipChanged(cohortIds: $ids) { cohortId kind sessionId page totalPages members { distinctId } }
  }
`;
const COMPLETIONS = /* GraphQL */ `
  subscription Completions($ids: [ID!]) {
    cohortSyncCompleted(cohortIds: $ids) { cohortId sessionId totalPages memberCount }
  }
`;

interface Change {
  readonly kind: 'ADDED' | 'REMOVED' | 'REPLACED';
  readonly sessionId: string;
  readonly page: number;
  readonly totalPages: number;
  readonly ids: readonly string[];
}

interface Completion {
  readonly sessionId: string;
  readonly totalPages: number;
  readonly memberCount: number;
}

const subscribers: Subscriber[] = [];
afterEach(async () => {
  await Promise.all(subscribers.splice(0).map((s) => s.close()));
});

function open(gateway: TestGateway, transport: SubscriptionTransport, query: string, cohortId = COHORT_ID, authorization?: string): Subscriber {
  const field = query === CHANGES ? 'cohortMembershipChanged' : 'cohortSyncCompleted';
  const subscriber = subscribe(
    { url: gateway.graphqlUrl, transport, ignore: isProbeOf(field), ...(authorization === undefined ? {} : { authorization }) },
    { query, variables: { ids: [cohortId] } },
  );
  subscribers.push(subscriber);
  return subscriber;
}

/** Until each subscriber is live and has received everything published so far (see waitForProbe). */
async function probe(gateway: TestGateway, live: readonly Subscriber[], cohortId = COHORT_ID): Promise<void> {
  await Promise.all(live.map((s) => s.waitForProbe(() => publishCohortProbe(gateway.gateway.pubsub, PROJECT_ID, cohortId))));
}

function changesOf(subscriber: Subscriber): Change[] {
  return subscriber.results.map((result) => {
    expect(result.errors).toBeUndefined();
    const event = (result.data as { cohortMembershipChanged: Record<string, any> }).cohortMembershipChanged;
    expect(event['cohortId']).toBe(COHORT_ID);
    const ids = (event['members'] as { distinctId: string }[]).map((m) => m.distinctId);
    return { kind: event['kind'], sessionId: event['sessionId'], page: event['page'], totalPages: event['totalPages'], ids: normalize(event['kind'], ids) };
  });
}

function completionsOf(subscriber: Subscriber): Completion[] {
  return subscriber.results.map((result: FormattedExecutionResult) => {
    expect(result.errors).toBeUndefined();
    const { cohortId, ...completion } = (result.data as { cohortSyncCompleted: Completion & { cohortId: string } }).cohortSyncCompleted;
    expect(cohortId).toBe(COHORT_ID);
    return completion;
  });
}

/** ADDED/REMOVED are sets (a full sync lists them in store order); REPLACED keeps the page's order. */
function normalize(kind: Change['kind'], ids: readonly string[]): readonly string[] {
  return kind === 'REPLACED' ? ids : [...ids].sort();
}

const change = (kind: Change['kind'], sessionId: string | undefined, page: number, totalPages: number, members: readonly SenderMember[]): Change => ({
  kind,
  sessionId: sessionId!,
  page,
  totalPages,
  ids: normalize(
    kind,
    members.map((m) => m.distinctId),
  ),
});

const pagesOf = <T>(items: readonly T[], size = 1000): T[][] =>
  Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));

/** The page numbers in the order the receiver accepted them. */
const acceptedPages = (result: CohortSyncResult) => result.responses.filter((r) => r.status === 200).map((r) => r.pageCount);

function senderFor(gateway: TestGateway, extra: { basicAuth?: { username: string; password: Secret } } = {}) {
  return createCohortSyncSender({ url: gateway.url + WEBHOOK_PATH, retryDelaysMs: [10, 20], basicAuth: WEBHOOK_BASIC_AUTH, ...extra });
}

async function syncState(gateway: TestGateway, cohortId = COHORT_ID) {
  const response = await gateway.query(`query($id: ID!) { cohort(id: $id) { __typename ... on Cohort { sync { source memberCount sessionId } } } }`, {
    id: cohortId,
  });
  expect(response.errors).toBeUndefined();
  return response.data?.['cohort'];
}

describe('cohort-sync webhooks to subscriptions', () => {
  it('delivers a 5-page full sync, diffs, redeliveries and reordered pages to graphql-ws and SSE exactly once, in order', async () => {
    const emulator = await createEmulator({ size: { profiles: 6_700, events: 500, days: 7, groups: 2 } });
    const gateway = await startGateway({ emulator });
    try {
      const people = [...emulator.data().profiles.values()].map((p) => toSenderMember(p));
      const initial = people.slice(0, 5_000);
      const changes = [open(gateway, 'ws', CHANGES), open(gateway, 'sse', CHANGES)];
      const completions = [open(gateway, 'ws', COMPLETIONS), open(gateway, 'sse', COMPLETIONS)];
      const otherCohort = open(gateway, 'ws', CHANGES, OTHER_COHORT_ID);
      await probe(gateway, [...changes, ...completions]);
      await probe(gateway, [otherCohort], OTHER_COHORT_ID);

      const sender = senderFor(gateway);
      const cohort = { projectId: PROJECT_ID, cohortId: COHORT_ID, cohortName: 'Realtime cohort' };
      const expected: Change[] = [];
      const expectedCompletions: Completion[] = [];
      const expectDelivered = async () => {
        await Promise.all([...changes.map((s) => s.waitForResults(expected.length)), ...completions.map((s) => s.waitForResults(expectedCompletions.length))]);
      };

      // 1. First sync: a full export of 5,000 members in 5 pages, applied when page 5 completes it.
      const full = await sender.sync({ ...cohort, members: initial });
      expect(full).toMatchObject({ status: 'ok', pagesSent: 5 });
      const initialPages = pagesOf(initial);
      for (const page of initialPages) expected.push(change('ADDED', full.sessionId, 5, 5, page));
      for (const [i, page] of initialPages.entries()) expected.push(change('REPLACED', full.sessionId, i + 1, 5, page));
      expectedCompletions.push({ sessionId: full.sessionId!, totalPages: 5, memberCount: 5_000 });
      await expectDelivered();
      expect(await syncState(gateway)).toMatchObject({ sync: { source: 'WEBHOOK', memberCount: 5_000, sessionId: full.sessionId } });

      // 2. Mixpanel resending pages of a completed session changes nothing.
      expect(await sender.redeliver(COHORT_ID, 'last-page')).toMatchObject({ status: 'ok', pagesSent: 1 });
      expect(await sender.redeliver(COHORT_ID, 'session')).toMatchObject({ status: 'ok', pagesSent: 5 });

      // 3. A diff: 150 join (page 1 of 2), the first 100 leave (page 2 of 2), then redelivered.
      const joiners = people.slice(5_000, 5_150);
      const diff = await sender.sync({ ...cohort, members: [...initial.slice(100), ...joiners] });
      expect(diff).toMatchObject({ status: 'ok', pagesSent: 2 });
      expected.push(change('ADDED', diff.sessionId, 1, 2, joiners), change('REMOVED', diff.sessionId, 2, 2, initial.slice(0, 100)));
      expectedCompletions.push({ sessionId: diff.sessionId!, totalPages: 2, memberCount: 5_050 });
      expect(await sender.redeliver(COHORT_ID, 'last-page')).toMatchObject({ status: 'ok' });
      expect(await sender.redeliver(COHORT_ID, 'session')).toMatchObject({ status: 'ok', pagesSent: 2 });
      await expectDelivered();

      // 4. A full export in shuffled page order: staged until the last page to arrive completes it.
      const shuffled = await sender.sync({ ...cohort, members: initial, full: true, order: 'shuffled' });
      expect(shuffled).toMatchObject({ status: 'ok', pagesSent: 5 });
      const completing = acceptedPages(shuffled).at(-1)!;
      expected.push(change('REMOVED', shuffled.sessionId, completing, 5, joiners), change('ADDED', shuffled.sessionId, completing, 5, initial.slice(0, 100)));
      for (const [i, page] of initialPages.entries()) expected.push(change('REPLACED', shuffled.sessionId, i + 1, 5, page));
      expectedCompletions.push({ sessionId: shuffled.sessionId!, totalPages: 5, memberCount: 5_000 });
      expect(await sender.redeliver(COHORT_ID, 'session')).toMatchObject({ status: 'ok', pagesSent: 5 });
      await expectDelivered();

      // 5. A 4-page diff in shuffled order: each page is applied (and published) as it arrives.
      const newcomers = people.slice(5_150, 6_650);
      const leavers = initial.slice(0, 1_200);
      const bigDiff = await sender.sync({ ...cohort, members: [...initial.slice(1_200), ...newcomers], order: 'shuffled' });
      expect(bigDiff).toMatchObject({ status: 'ok', pagesSent: 4 });
      const diffPages = [...pagesOf(newcomers).map((m) => ['ADDED', m] as const), ...pagesOf(leavers).map((m) => ['REMOVED', m] as const)];
      for (const pageNumber of acceptedPages(bigDiff)) {
        const [kind, members] = diffPages[pageNumber - 1]!;
        expected.push(change(kind, bigDiff.sessionId, pageNumber, 4, members));
      }
      expectedCompletions.push({ sessionId: bigDiff.sessionId!, totalPages: 4, memberCount: 5_300 });
      expect(await sender.redeliver(COHORT_ID, 'session')).toMatchObject({ status: 'ok', pagesSent: 4 });

      // 6. A last one-member diff: once it arrives, anything the redeliveries had published would have arrived before it.
      const last = people[6_650]!;
      const marker = await sender.sync({ ...cohort, members: [...initial.slice(1_200), ...newcomers, last] });
      // Its remove page has nobody to remove and is published all the same: a client waiting for page 2 of 2 sees it.
      expected.push(change('ADDED', marker.sessionId, 1, 2, [last]), change('REMOVED', marker.sessionId, 2, 2, []));
      expectedCompletions.push({ sessionId: marker.sessionId!, totalPages: 2, memberCount: 5_301 });
      await expectDelivered();

      for (const subscriber of changes) expect(changesOf(subscriber), subscriber.transport).toEqual(expected);
      for (const subscriber of completions) expect(completionsOf(subscriber), subscriber.transport).toEqual(expectedCompletions);
      expect(otherCohort.results).toEqual([]);
      expect(await syncState(gateway)).toMatchObject({ sync: { memberCount: 5_301, sessionId: marker.sessionId } });
    } finally {
      await gateway.close();
      await emulator.close();
    }
  });

  it("resolves members' other profile fields through the profile loader, in one batched engage call", async () => {
    const gateway = await startGateway();
    const loaded = await syncAndLoadProfiles(gateway);
    expect(loaded.errors).toEqual([]);
    expect(loaded.engageCalls).toBe(1);
  });

  // A subscription keeps its context for life: each event renews the request deadline, or every upstream call
  // made for an event after REQUEST_DEADLINE_MS would be refused.
  it('loads profiles for events arriving after the request deadline of the subscription', async () => {
    const gateway = await startGateway({ env: { REQUEST_DEADLINE_MS: '200' } });
    const loaded = await syncAndLoadProfiles(gateway, 300);
    expect(loaded.errors).toEqual([]);
  });
});

/**
 * Subscribes over both transports selecting webhook fields (email, firstName) and fields only the full profile has
 * (city, properties), syncs 3 emulator profiles (an ADDED and a REPLACED event) and checks every member resolved.
 */
async function syncAndLoadProfiles(gateway: TestGateway, waitBeforeSyncMs = 0) {
  const profiles = [...gateway.emulator.data().profiles.values()].slice(0, 3);
  const query = /* GraphQL */ `
    subscription($ids: [ID!]) {
      cohortMembershipChanged(cohortIds: $ids) { sessionId kind members { distinctId email firstName city properties } }
    }
  `;
  const live = (['ws', 'sse'] as const).map((transport) => {
    const subscriber = subscribe(
      { url: gateway.graphqlUrl, transport, ignore: isProbeOf('cohortMembershipChanged') },
      { query, variables: { ids: [COHORT_ID] } },
    );
    subscribers.push(subscriber);
    return subscriber;
  });
  await probe(gateway, live);
  await new Promise((resolve) => setTimeout(resolve, waitBeforeSyncMs));

  const before = gateway.emulator.calls('/api/query/engage');
  const members = profiles.map((p) => toSenderMember(p));
  expect((await senderFor(gateway).sync({ projectId: PROJECT_ID, cohortId: COHORT_ID, cohortName: 'Loaded', members })).status).toBe('ok');
  const errors: unknown[] = [];
  for (const subscriber of live) {
    for (const event of await subscriber.waitForResults(2)) {
      if (event.errors) {
        errors.push(...event.errors);
        continue;
      }
      const changed = (event.data as { cohortMembershipChanged: { kind: string; members: Record<string, unknown>[] } }).cohortMembershipChanged;
      expect(changed.members, `${subscriber.transport} ${changed.kind}`).toEqual(
        profiles.map((p) => ({
          distinctId: p.distinctId,
          email: p.properties['$email'],
          firstName: p.properties['$first_name'],
          city: p.properties['$city'],
          properties: expect.objectContaining({ $city: p.properties['$city'], plan: p.properties['plan'] }),
        })),
      );
    }
  }
  return { errors, engageCalls: gateway.emulator.calls('/api/query/engage') - before };
}

describe('webhook authentication and validation', () => {
  const USERNAME = 'mixpanel';
  const PASSWORD = 'hook-Pa55word-0001';
  const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

  const validBody = (sessionId = 'session-ok') => ({
    action: 'members',
    parameters: {
      mixpanel_project_id: PROJECT_ID,
      mixpanel_cohort_id: COHORT_ID,
      mixpanel_cohort_name: 'Guarded',
      mixpanel_cohort_description: '',
      mixpanel_session_id: sessionId,
      page_info: { total_pages: 1, page_count: 1 },
      members: [{ mixpanel_distinct_id: 'user-1', email: 'user1@example.com' }],
    },
  });

  async function post(gateway: TestGateway, body: string, headers: Record<string, string> = {}) {
    const response = await fetch(gateway.url + WEBHOOK_PATH, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: WEBHOOK_AUTHORIZATION, ...headers },
      body,
    });
    return { status: response.status, headers: response.headers, body: (await response.json()) as Record<string, any> };
  }

  /** Nothing was stored or published: the cohort is unknown, and a valid page is the first event subscribers see. */
  async function expectUntouched(gateway: TestGateway, subscriber: Subscriber, authorization?: string) {
    const missing = await gateway.query(`query($id: ID!) { cohort(id: $id) { __typename } }`, { id: COHORT_ID });
    expect(missing.data?.['cohort']).toEqual({ __typename: 'NotFoundError' });
    const ok = await post(gateway, JSON.stringify(validBody()), authorization === undefined ? {} : { authorization });
    expect(ok).toMatchObject({ status: 200, body: { action: 'members', status: 'success' } });
    await subscriber.waitForResults(2);
    await probe(gateway, [subscriber]);
    expect(changesOf(subscriber).map((c) => [c.kind, c.sessionId])).toEqual([
      ['ADDED', 'session-ok'],
      ['REPLACED', 'session-ok'],
    ]);
  }

  it('refuses missing or wrong Basic credentials with 401 and a Mixpanel failure body', async () => {
    const gateway = await startGateway({ env: { WEBHOOK_USERNAME: USERNAME, WEBHOOK_PASSWORD: PASSWORD } });
    const subscriber = open(gateway, 'ws', CHANGES);
    await probe(gateway, [subscriber]);

    for (const authorization of [undefined, basic(USERNAME, 'wrong'), basic('someone', PASSWORD), `Bearer ${PASSWORD}`, 'Basic !!!']) {
      const response = await post(gateway, JSON.stringify(validBody('session-refused')), { authorization: authorization ?? '' });
      expect(response.status, String(authorization)).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/^Basic /);
      expect(response.body).toEqual({ action: null, status: 'failure', error: { message: expect.any(String), code: 401 } });
      expect(JSON.stringify(response.body)).not.toContain(PASSWORD);
    }
    // The emulator's sender pauses the sync on a 401, as Mixpanel does.
    const refused = await senderFor(gateway, { basicAuth: { username: USERNAME, password: new Secret('wrong') } }).sync({
      projectId: PROJECT_ID,
      cohortId: COHORT_ID,
      cohortName: 'Guarded',
      members: [{ distinctId: 'user-2' }],
    });
    expect(refused).toMatchObject({ status: 'paused', pagesSent: 0 });
    await expectUntouched(gateway, subscriber, basic(USERNAME, PASSWORD));
  });

  it('answers malformed bodies with a clear 400 and changes nothing', async () => {
    const gateway = await startGateway();
    const subscriber = open(gateway, 'sse', CHANGES);
    await probe(gateway, [subscriber]);
    const body = validBody('session-bad');
    const cases: [name: string, text: string, message: RegExp][] = [
      ['not JSON', '{"action": "members", ', /not valid JSON/],
      ['an array', '[]', /JSON object/],
      ['unknown action', JSON.stringify({ ...body, action: 'drop_everyone' }), /action must be one of/],
      ['no parameters', JSON.stringify({ action: 'members' }), /parameters must be an object/],
      [
        'page beyond total',
        JSON.stringify({ ...body, parameters: { ...body.parameters, page_info: { total_pages: 1, page_count: 2 } } }),
        /page_count \(2\) must not exceed total_pages \(1\)/,
      ],
      [
        'member without id',
        JSON.stringify({ ...body, parameters: { ...body.parameters, members: [{ email: 'x@example.com' }] } }),
        /members\[0\]\.mixpanel_distinct_id/,
      ],
      ['no session id', JSON.stringify({ ...body, parameters: { ...body.parameters, mixpanel_session_id: '' } }), /mixpanel_session_id/],
    ];
    for (const [name, text, message] of cases) {
      const response = await post(gateway, text);
      expect(response.status, name).toBe(400);
      expect(response.body, name).toMatchObject({ status: 'failure', error: { code: 400, message: expect.stringMatching(message) } });
    }
    await expectUntouched(gateway, subscriber);
  });
});

describe('subscription authentication', () => {
  const KEY = 'realtime-test-api-key-0001';

  it('refuses graphql-ws without the API key (close 4403) and serves it with the key', async () => {
    const gateway = await startGateway({ env: { GATEWAY_API_KEYS: KEY } });
    const refused = [open(gateway, 'ws', CHANGES), open(gateway, 'ws', CHANGES, COHORT_ID, 'Bearer wrong-key')];
    for (const subscriber of refused) {
      await subscriber.waitFor((s) => s.failure !== undefined);
      expect((subscriber.failure as { code?: number }).code).toBe(4403);
    }

    const allowed = open(gateway, 'ws', CHANGES, COHORT_ID, `Bearer ${KEY}`);
    await probe(gateway, [allowed]);
    const result = await senderFor(gateway).sync({ projectId: PROJECT_ID, cohortId: COHORT_ID, cohortName: 'Keyed', members: [{ distinctId: 'user-1' }] });
    expect(result.status).toBe('ok');
    await allowed.waitForResults(2);
    expect(changesOf(allowed).map((c) => c.kind)).toEqual(['ADDED', 'REPLACED']);
    expect(refused.every((s) => s.results.length === 0)).toBe(true);
  });

  it('refuses SSE without a valid Authorization header (401) and streams with it', async () => {
    const gateway = await startGateway({ env: { GATEWAY_API_KEYS: KEY } });
    for (const headers of [{}, { authorization: 'Bearer wrong-key' }] as Record<string, string>[]) {
      const response = await fetch(gateway.graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...headers },
        body: JSON.stringify({ query: CHANGES, variables: { ids: [COHORT_ID] } }),
      });
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer');
      expect(((await response.json()) as { errors: { extensions: { code: string } }[] }).errors[0]?.extensions.code).toBe('UNAUTHENTICATED');
    }

    const allowed = open(gateway, 'sse', CHANGES, COHORT_ID, `Bearer ${KEY}`);
    await probe(gateway, [allowed]);
    await senderFor(gateway).sync({ projectId: PROJECT_ID, cohortId: COHORT_ID, cohortName: 'Keyed', members: [{ distinctId: 'user-1' }] });
    await allowed.waitForResults(2);
    expect(changesOf(allowed).map((c) => c.kind)).toEqual(['ADDED', 'REPLACED']);
  });
});

describe('graphql-ws connections', () => {
  it('runs many operations on one connection without piling up listeners on its socket', async () => {
    const gateway = await startGateway();
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(`${warning.name}: ${warning.message}`);
    process.on('warning', onWarning);
    const client = createClient({ url: gateway.graphqlUrl.replace(/^http/, 'ws'), webSocketImpl: WebSocket, retryAttempts: 0, lazy: false });
    try {
      for (let i = 0; i < 15; i++) {
        for await (const result of client.iterate({ query: '{ __typename }' })) expect(result.data).toEqual({ __typename: 'Query' });
      }
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.filter((w) => w.startsWith('MaxListenersExceededWarning'))).toEqual([]);
    } finally {
      process.off('warning', onWarning);
      await client.dispose();
    }
  });
});
