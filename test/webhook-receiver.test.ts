/**
 * The cohort-sync webhook receiver inside a minimal yoga server, through
 * `yoga.fetch` and over a real HTTP server on port 0, and driven end to end
 * by the emulator's cohort-sync sender.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSchema, createYoga } from 'graphql-yoga';
import { afterEach, describe, expect, it } from 'vitest';
import type { WebhookConfig } from '../src/config/types.js';
import { createCohortSyncSender } from '../src/emulator/cohort-sync.js';
import { createMemoryMembershipStore } from '../src/membership/memory-store.js';
import { createSqliteMembershipStore } from '../src/membership/sqlite-store.js';
import type { MembershipStore } from '../src/membership/types.js';
import { createGatewayPubSub } from '../src/pubsub/create-pubsub.js';
import type { CohortChangeEvent, CohortSyncCompletedEvent, GatewayPubSub } from '../src/pubsub/types.js';
import { Secret } from '../src/core/secret.js';
import { useCohortWebhooks, type CohortWebhooksOptions } from '../src/webhooks/receiver.js';

const PATH = '/webhooks/mixpanel/cohorts';
const PASSWORD = 's3cret-Pa55word';
const CONFIG: WebhookConfig = {
  path: PATH,
  username: 'mixpanel',
  password: new Secret(PASSWORD),
  maxBodyBytes: 64 * 1024,
  sessionTtlMs: 3_600_000,
  maxAuthFailures: 10,
  authFailureWindowMs: 60_000,
};
const AUTH = `Basic ${Buffer.from(`mixpanel:${PASSWORD}`).toString('base64')}`;
const schema = createSchema({ typeDefs: 'type Query { ok: Boolean }', resolvers: { Query: { ok: () => true } } });

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function collect<T>(iterable: AsyncIterable<T>): T[] {
  const items: T[] = [];
  const iterator = iterable[Symbol.asyncIterator]();
  void (async () => {
    for (let r = await iterator.next(); !r.done; r = await iterator.next()) items.push(r.value);
  })();
  cleanups.push(() => iterator.return?.());
  return items;
}

interface Harness {
  readonly yoga: ReturnType<typeof createYoga>;
  readonly store: MembershipStore;
  readonly pubsub: GatewayPubSub;
  readonly changes: CohortChangeEvent[];
  readonly completions: CohortSyncCompletedEvent[];
  readonly errors: unknown[];
}

function setup(overrides: Partial<CohortWebhooksOptions> & { store?: MembershipStore } = {}): Harness {
  const store = overrides.store ?? createMemoryMembershipStore();
  const pubsub = createGatewayPubSub();
  const errors: unknown[] = [];
  const changes = collect(pubsub.subscribe('cohortMembershipChanged', '42'));
  const completions = collect(pubsub.subscribe('cohortSyncCompleted', '42'));
  const yoga = createYoga({
    schema,
    logging: false,
    plugins: [
      useCohortWebhooks({
        config: CONFIG,
        resolveProject: (id) => (id === '42' ? { projectId: '42', store } : undefined),
        pubsub,
        now: () => 5000,
        onError: (error) => errors.push(error),
        ...overrides,
      }),
    ],
  });
  return { yoga, store, pubsub, changes, completions, errors };
}

async function listen(yoga: Harness['yoga']): Promise<string> {
  const server: Server = createServer(yoga);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => server.close(resolve)));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}${PATH}`;
}

function body(overrides: { action?: string; session?: string; page?: number; total?: number; members?: string[]; project?: string } = {}) {
  return {
    action: overrides.action ?? 'members',
    parameters: {
      mixpanel_project_id: overrides.project ?? '42',
      mixpanel_cohort_id: '7',
      mixpanel_cohort_name: 'Power users',
      mixpanel_cohort_description: 'Used it 5 days in a row',
      mixpanel_session_id: overrides.session ?? 'session-1',
      page_info: { total_pages: overrides.total ?? 1, page_count: overrides.page ?? 1 },
      members: (overrides.members ?? ['a', 'b']).map((id) => ({
        email: `${id}@example.com`,
        mixpanel_distinct_id: id,
        first_name: id,
        last_name: 'X',
        plan: 'pro',
      })),
    },
  };
}

const post = (yoga: Harness['yoga'], payload: unknown, headers: Record<string, string> = {}) =>
  yoga.fetch(`http://localhost${PATH}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: AUTH, ...headers },
    body: typeof payload === 'string' ? payload : JSON.stringify(payload),
  });

const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

describe('cohort webhook receiver', () => {
  it('stores a page, publishes its changes and answers success', async () => {
    const h = setup();
    const response = await post(h.yoga, body());
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ action: 'members', status: 'success' });
    expect((await h.store.members('42', '7', { first: 10 })).map((m) => m.distinctId)).toEqual(['a', 'b']);
    await expect.poll(() => h.completions.length).toBe(1);
    expect(h.changes.map((c) => c.kind)).toEqual(['ADDED', 'REPLACED']);
    expect(h.changes[0]).toMatchObject({ projectId: '42', cohortId: '7', at: 5000, sessionId: 'session-1' });
    expect(h.changes[0]?.members[0]).toEqual({ distinctId: 'a', email: 'a@example.com', firstName: 'a', lastName: 'X', properties: { plan: 'pro' } });
    expect(h.completions[0]).toEqual({ projectId: '42', cohortId: '7', sessionId: 'session-1', totalPages: 1, memberCount: 2, at: 5000 });
  });

  it('publishes each change once, in order, over HTTP, and answers redelivered pages with success', async () => {
    const h = setup();
    const url = await listen(h.yoga);
    const send = (payload: unknown) =>
      fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: AUTH }, body: JSON.stringify(payload) });

    for (const page of [2, 1, 2, 3]) {
      const response = await send(body({ page, total: 3, members: [`m${page}`] }));
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ action: 'members', status: 'success' });
    }
    await send(body({ action: 'add_members', session: 'diff-1', members: ['n1', 'm1'], total: 2 }));
    await send(body({ action: 'remove_members', session: 'diff-1', page: 2, members: ['m2'], total: 2 }));
    await send(body({ action: 'remove_members', session: 'diff-1', page: 2, members: ['m2'], total: 2 }));
    await settle();

    expect(h.changes.map((c) => [c.kind, c.page, c.members.map((m) => m.distinctId)])).toEqual([
      ['ADDED', 3, ['m1', 'm2', 'm3']],
      ['REPLACED', 1, ['m1']],
      ['REPLACED', 2, ['m2']],
      ['REPLACED', 3, ['m3']],
      ['ADDED', 1, ['n1']],
      ['REMOVED', 2, ['m2']],
    ]);
    expect(h.completions.map((c) => [c.sessionId, c.memberCount])).toEqual([
      ['session-1', 3],
      ['diff-1', 3],
    ]);
  });

  it('refuses missing or wrong Basic credentials with 401 and changes nothing', async () => {
    const h = setup();
    const wrong = `Basic ${Buffer.from('mixpanel:guess').toString('base64')}`;
    for (const headers of [{ authorization: '' }, { authorization: wrong }, { authorization: `Bearer ${PASSWORD}` }]) {
      const response = await post(h.yoga, body(), headers);
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/^Basic/);
      const text = await response.text();
      expect(text).not.toContain(PASSWORD);
      expect(JSON.parse(text)).toMatchObject({ status: 'failure', error: { code: 401 } });
    }
    expect(await h.store.syncedCohorts('42')).toEqual([]);
    await settle();
    expect(h.changes).toEqual([]);
  });

  it('throttles an address after too many failed authentications with 429 and Retry-After, then lets it in again', async () => {
    let clock = 5000;
    const h = setup({ now: () => clock, clientAddress: (request) => request.headers.get('x-test-peer') ?? 'unknown' });
    const wrong = (n: number) => `Basic ${Buffer.from(`mixpanel:guess-${n}`).toString('base64')}`;
    const statuses: number[] = [];
    for (let n = 0; n < 12; n++) statuses.push((await post(h.yoga, body(), { authorization: wrong(n), 'x-test-peer': 'attacker' })).status);
    expect(statuses).toEqual([...Array<number>(10).fill(401), 429, 429]);

    // A right guess from the throttled address is refused too, so it cannot be told apart from a wrong one.
    const right = await post(h.yoga, body(), { 'x-test-peer': 'attacker' });
    expect(right.status).toBe(429);
    expect(Number(right.headers.get('retry-after'))).toBe(60);
    expect(await right.json()).toMatchObject({ status: 'failure', error: { code: 429 } });
    // Another address is not affected.
    expect((await post(h.yoga, body({ session: 'elsewhere' }), { 'x-test-peer': 'mixpanel' })).status).toBe(200);
    expect(await h.store.syncState('42', '7')).toMatchObject({ sessionId: 'elsewhere' });

    clock += 30_000;
    expect(Number((await post(h.yoga, body(), { 'x-test-peer': 'attacker' })).headers.get('retry-after'))).toBe(30);
    clock += 30_000;
    expect((await post(h.yoga, body({ session: 'later' }), { 'x-test-peer': 'attacker' })).status).toBe(200);
  });

  it('counts failures per TCP peer address over HTTP', async () => {
    const h = setup();
    const url = await listen(h.yoga);
    const wrong = `Basic ${Buffer.from('mixpanel:nope').toString('base64')}`;
    const send = (authorization: string) =>
      fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization }, body: JSON.stringify(body()) }).then((r) => r.status);
    const statuses: number[] = [];
    for (let n = 0; n < 11; n++) statuses.push(await send(wrong));
    expect(statuses.slice(0, 10)).toEqual(Array<number>(10).fill(401));
    expect(statuses[10]).toBe(429);
    expect(await send(AUTH)).toBe(429);
    expect(await h.store.syncedCohorts('42')).toEqual([]);
  });

  const malformed: [string, unknown, RegExp][] = [
    ['invalid JSON', '{"action": "members",', /not valid JSON/],
    ['a JSON array', [], /body must be a JSON object/],
    ['an unknown action', { ...body(), action: 'delete_members' }, /action must be one of/],
    ['no parameters', { action: 'members' }, /parameters must be an object/],
    ['no project id', { action: 'members', parameters: { ...body().parameters, mixpanel_project_id: '' } }, /mixpanel_project_id/],
    ['no cohort id', { action: 'members', parameters: { ...body().parameters, mixpanel_cohort_id: null } }, /mixpanel_cohort_id/],
    ['no session id', { action: 'members', parameters: { ...body().parameters, mixpanel_session_id: undefined } }, /mixpanel_session_id/],
    ['a cohort name that is not text', { action: 'members', parameters: { ...body().parameters, mixpanel_cohort_name: 7 } }, /mixpanel_cohort_name/],
    ['no page_info', { action: 'members', parameters: { ...body().parameters, page_info: undefined } }, /page_info must be an object/],
    ['page_count 0', body({ page: 0 }), /page_count must be an integer of at least 1/],
    ['page_count past total_pages', body({ page: 3, total: 2 }), /must not exceed total_pages/],
    ['a fractional total_pages', body({ total: 1.5 }), /total_pages must be an integer/],
    ['members that are not a list', { action: 'members', parameters: { ...body().parameters, members: {} } }, /members must be an array/],
    [
      'a member without distinct id',
      { action: 'members', parameters: { ...body().parameters, members: [{ email: 'a@x' }] } },
      /members\[0\]\.mixpanel_distinct_id/,
    ],
    ['a member that is not an object', { action: 'members', parameters: { ...body().parameters, members: ['a'] } }, /members\[0\] must be an object/],
    [
      'an email that is not text',
      { action: 'members', parameters: { ...body().parameters, members: [{ mixpanel_distinct_id: 'a', email: 1 }] } },
      /members\[0\]\.email must be a string/,
    ],
  ];

  it.each(malformed)('answers 400 to %s and changes nothing', async (_, payload, message) => {
    const h = setup();
    const response = await post(h.yoga, payload);
    expect(response.status).toBe(400);
    const json = (await response.json()) as { status: string; error: { message: string; code: number } };
    expect(json).toMatchObject({ status: 'failure', error: { code: 400 } });
    expect(json.error.message).toMatch(message);
    expect(await h.store.syncedCohorts('42')).toEqual([]);
    await settle();
    expect(h.changes).toEqual([]);
  });

  it('echoes the action in a failure and lists every problem', async () => {
    const h = setup();
    const response = await post(h.yoga, { action: 'add_members', parameters: { page_info: {} } });
    const json = (await response.json()) as { action: string; error: { message: string } };
    expect(json.action).toBe('add_members');
    expect(json.error.message).toMatch(/mixpanel_project_id.*mixpanel_cohort_id.*mixpanel_session_id.*total_pages.*page_count.*members/);
  });

  it('answers 404 to a project it does not serve', async () => {
    const h = setup();
    const response = await post(h.yoga, body({ project: '999' }));
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ action: 'members', status: 'failure', error: { code: 404 } });
  });

  it('refuses bodies over the size limit with 413, declared or streamed', async () => {
    const h = setup();
    const huge = body({ members: Array.from({ length: 2000 }, (_, i) => `member-${i}`) });
    const streamed = await post(h.yoga, huge);
    expect(streamed.status).toBe(413);
    expect(await streamed.json()).toMatchObject({ status: 'failure', error: { code: 413 } });

    const url = await listen(h.yoga);
    const declared = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: AUTH }, body: JSON.stringify(huge) });
    expect(declared.status).toBe(413);
    expect(await h.store.syncedCohorts('42')).toEqual([]);
  });

  it('answers 405 to other methods and 415 to a non-JSON body, and leaves other paths to GraphQL', async () => {
    const h = setup();
    const get = await h.yoga.fetch(`http://localhost${PATH}`, { headers: { authorization: AUTH } });
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    const text = await post(h.yoga, JSON.stringify(body()), { 'content-type': 'text/plain' });
    expect(text.status).toBe(415);
    const graphql = await h.yoga.fetch('http://localhost/graphql?query={ok}');
    expect(await graphql.json()).toEqual({ data: { ok: true } });
  });

  it('answers 503 when the store fails, so Mixpanel retries, and then accepts the retry', async () => {
    const broken = createSqliteMembershipStore({ path: ':memory:' });
    await broken.close();
    const h = setup({ store: broken });
    const response = await post(h.yoga, body());
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ action: 'members', status: 'failure', error: { code: 503 } });
    expect(h.errors).toHaveLength(1);

    const working = createMemoryMembershipStore();
    const retried = await post(setup({ store: working }).yoga, body());
    expect(retried.status).toBe(200);
  });

  it('answers 503 when the store is too slow, still publishes once it commits, and treats the retry as seen', async () => {
    const store = createMemoryMembershipStore();
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const slow: MembershipStore = {
      ...store,
      applyPage: async (page, now) => {
        await gate;
        return store.applyPage(page, now);
      },
    };
    const h = setup({ store: slow, applyTimeoutMs: 20 });
    const response = await post(h.yoga, body());
    expect(response.status).toBe(503);
    expect(h.errors[0]).toMatchObject({ code: 'WEBHOOK_STORE_TIMEOUT' });

    release();
    await expect.poll(() => h.completions.length).toBe(1);
    const retried = await post(h.yoga, body());
    expect(retried.status).toBe(200);
    await settle();
    expect(h.completions).toHaveLength(1);
    expect(h.changes.map((c) => c.kind)).toEqual(['ADDED', 'REPLACED']);
  });
});

describe('cohort webhook receiver driven by the emulator sender', () => {
  it('takes a 5,000-member full sync in 5 pages, then diffs, and ignores a redelivered session', async () => {
    const h = setup();
    const url = await listen(h.yoga);
    const sender = createCohortSyncSender({ url, basicAuth: { username: 'mixpanel', password: new Secret(PASSWORD) }, retryDelaysMs: [] });
    const members = Array.from({ length: 5000 }, (_, i) => ({ distinctId: `user-${String(i).padStart(4, '0')}`, email: `u${i}@example.com` }));

    const full = await sender.sync({ projectId: 42, cohortId: 7, cohortName: 'Power users', members, order: 'shuffled' });
    expect(full).toMatchObject({ status: 'ok', pagesSent: 5, attempts: 5 });
    expect(await h.store.syncState('42', '7')).toMatchObject({ memberCount: 5000, sessionId: full.sessionId });
    await expect.poll(() => h.completions.length).toBe(1);
    expect(h.changes.filter((c) => c.kind === 'REPLACED').map((c) => c.page)).toEqual([1, 2, 3, 4, 5]);
    expect(h.changes.filter((c) => c.kind === 'ADDED').flatMap((c) => c.members)).toHaveLength(5000);

    const again = await sender.redeliver(7, 'session');
    expect(again).toMatchObject({ status: 'ok', pagesSent: 5 });
    await settle();
    expect(h.completions).toHaveLength(1);

    const next = [...members.slice(10), { distinctId: 'newcomer' }];
    const diff = await sender.sync({ projectId: 42, cohortId: 7, cohortName: 'Power users', members: next });
    expect(diff.status).toBe('ok');
    await expect.poll(() => h.completions.length).toBe(2);
    const diffChanges = h.changes.filter((c) => c.sessionId === diff.sessionId);
    expect(diffChanges.map((c) => [c.kind, c.members.length])).toEqual([
      ['ADDED', 1],
      ['REMOVED', 10],
    ]);
    expect(h.completions[1]).toMatchObject({ sessionId: diff.sessionId, memberCount: 4991 });

    const quiet = await sender.sync({ projectId: 42, cohortId: 7, cohortName: 'Power users', members: next });
    expect(quiet.status).toBe('ok');
    await expect.poll(() => h.completions.length).toBe(3);
    expect(await h.store.syncState('42', '7')).toMatchObject({ sessionId: quiet.sessionId, memberCount: 4991 });
    const page = await h.store.members('42', '7', { first: 2, afterDistinctId: 'user-4998' });
    expect(page.map((m) => m.distinctId)).toEqual(['user-4999']);
  });

  it('pauses the sender with 401 on wrong credentials', async () => {
    const h = setup();
    const url = await listen(h.yoga);
    const sender = createCohortSyncSender({ url, basicAuth: { username: 'mixpanel', password: new Secret('wrong') }, retryDelaysMs: [] });
    const result = await sender.sync({ projectId: 42, cohortId: 7, cohortName: 'Power users', members: [{ distinctId: 'a' }] });
    expect(result.status).toBe('paused');
    expect(sender.state(7).paused?.status).toBe(401);
    expect(await h.store.syncedCohorts('42')).toEqual([]);
  });
});
