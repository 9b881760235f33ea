/**
 * The completion changes of a full sync, streamed from the store after the
 * last page is stored: every backend (memory, SQLite in a temp dir, Redis at
 * 127.0.0.1:6379 under a unique prefix) yields the same changes, read in
 * batches, in order; the webhook receiver publishes them after its answer,
 * then `cohortSyncCompleted`, and a cohort's next page after them; a store
 * closed in the middle of the stream keeps the swapped-in membership.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cohortMemberRows } from './helpers/sqlite.js';
import { createSchema, createYoga } from 'graphql-yoga';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { WebhookConfig } from '../src/config/types.js';
import { COMPLETION_SCAN, MAX_MEMBERS_PER_CHANGE } from '../src/membership/apply.js';
import { createMembershipStore } from '../src/membership/create-store.js';
import type { AppliedChange, ApplyResult, CohortMember, MembershipStore, SyncAction, SyncPage } from '../src/membership/types.js';
import { createGatewayPubSub } from '../src/pubsub/create-pubsub.js';
import type { CohortChangeEvent, CohortSyncCompletedEvent } from '../src/pubsub/types.js';
import { useCohortWebhooks } from '../src/webhooks/receiver.js';
import { REDIS, redisSkip } from './helpers/redis.js';

const runPrefix = `mpgw-test:completion:${randomUUID()}:`;
const tempDir = mkdtempSync(join(tmpdir(), 'mpgw-completion-'));
const connections: Redis[] = [];
const skipRedis = await redisSkip('the Redis completion stream');

const opened: MembershipStore[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((store) => store.close()));
});
afterAll(async () => {
  const [first] = connections;
  if (first) {
    const keys = await first.keys(`${runPrefix}*`);
    if (keys.length > 0) await first.del(...keys);
  }
  await Promise.all(connections.map((redis) => redis.quit()));
  rmSync(tempDir, { recursive: true, force: true });
});

const backends = [
  { name: 'memory', skip: false, open: () => createMembershipStore('memory') },
  { name: 'sqlite', skip: false, open: () => createMembershipStore('sqlite', { sqlitePath: join(tempDir, `${randomUUID()}.db`) }) },
  {
    name: 'redis',
    skip: skipRedis,
    open: () => {
      const redis = new Redis({ ...REDIS, maxRetriesPerRequest: 1 });
      connections.push(redis);
      return createMembershipStore('redis', { redis, redisKeyPrefix: `${runPrefix}${randomUUID()}:` });
    },
  },
];

const member = (id: string): CohortMember => ({ distinctId: id, email: `${id}@example.com`, properties: { n: id } });
const ids = (members: readonly CohortMember[]) => members.map((m) => m.distinctId);
const user = (i: number) => `u${String(i).padStart(5, '0')}`;
const users = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => user(from + i));

function page(action: SyncAction, sessionId: string, pageCount: number, totalPages: number, memberIds: readonly string[]): SyncPage {
  return { projectId: 'p1', cohortId: 'c1', cohortName: 'Cohort', action, sessionId, pageCount, totalPages, members: memberIds.map(member) };
}

/** A full sync of `memberIds` in pages of `size`, pages sent in order; the last page's result. */
async function fullSync(store: MembershipStore, sessionId: string, memberIds: readonly string[], size: number): Promise<ApplyResult> {
  const total = Math.max(1, Math.ceil(memberIds.length / size));
  let result: ApplyResult | undefined;
  for (let n = 1; n <= total; n++) result = await store.applyPage(page('members', sessionId, n, total, memberIds.slice((n - 1) * size, n * size)), n);
  return result!;
}

async function drain(result: ApplyResult): Promise<AppliedChange[]> {
  const changes: AppliedChange[] = [];
  for await (const change of result.completion ?? []) changes.push(change);
  return changes;
}

describe.each(backends)('$name completion stream', (backend) => {
  it.skipIf(backend.skip)('streams every diff of a sync bigger than one batch, in order, each member once', async () => {
    const store = await backend.open();
    opened.push(store);
    // Before: u00000..u02399; after: u01000..u03499 in pages of 500, page 4 listing an id page 2 already has.
    const before = users(0, 2400);
    await drain(await fullSync(store, 'before', before, 1000));
    const after = users(1000, 3500);
    const pages = [1, 2, 3, 4, 5].map((n) => after.slice((n - 1) * 500, n * 500));
    pages[3]!.push(pages[1]![0]!);
    let last: ApplyResult | undefined;
    for (const [i, list] of pages.entries()) last = await store.applyPage(page('members', 'after', i + 1, 5, list), 10 + i);

    expect(last!.sessionCompleted).toBe(true);
    expect(last!.changes).toEqual([]);
    expect(last!.state?.memberCount).toBe(after.length);
    // The membership is swapped in before any completion change is read.
    expect((await store.syncState('p1', 'c1'))?.memberCount).toBe(after.length);
    expect(ids(await store.members('p1', 'c1', { first: 1 }))).toEqual([user(1000)]);

    const changes = await drain(last!);
    const removed = changes.filter((c) => c.kind === 'REMOVED');
    const added = changes.filter((c) => c.kind === 'ADDED');
    const replaced = changes.filter((c) => c.kind === 'REPLACED');
    expect(changes.map((c) => c.kind)).toEqual([...removed, ...added, ...replaced].map((c) => c.kind));
    // 1,000 left: more than one scan of the replaced membership (COMPLETION_SCAN) went into them.
    expect(before.length).toBeGreaterThan(COMPLETION_SCAN);
    expect(new Set(removed.flatMap((c) => ids(c.members)))).toEqual(new Set(users(0, 1000)));
    expect(removed.flatMap((c) => c.members)).toHaveLength(1000);
    expect(ids(added.flatMap((c) => c.members))).toEqual(users(2400, 3500));
    for (const change of [...removed, ...added]) {
      expect(change.members.length).toBeLessThanOrEqual(MAX_MEMBERS_PER_CHANGE);
      expect(change).toMatchObject({ page: 5, totalPages: 5, sessionId: 'after' });
    }
    expect(added.map((c) => c.members.length)).toEqual([1000, 100]);
    expect(replaced.map((c) => c.page)).toEqual([1, 2, 3, 4, 5]);
    expect(replaced.map((c) => ids(c.members))).toEqual(pages.map((list, i) => (i === 3 ? list.slice(0, -1) : list)));
    expect(replaced[0]!.members[0]).toEqual(member(user(1000)));
  });

  it.skipIf(backend.skip)('publishes the REPLACED pages of a first sync, empty ones too, and nothing for unchanged members', async () => {
    const store = await backend.open();
    opened.push(store);
    const first = await drain(await fullSync(store, 's1', ['a', 'b', 'c'], 2));
    expect(first.map((c) => [c.kind, c.page, ids(c.members)])).toEqual([
      ['ADDED', 2, ['a', 'b', 'c']],
      ['REPLACED', 1, ['a', 'b']],
      ['REPLACED', 2, ['c']],
    ]);
    await store.applyPage(page('members', 's2', 2, 3, []), 1);
    await store.applyPage(page('members', 's2', 3, 3, []), 2);
    const same = await drain(await store.applyPage(page('members', 's2', 1, 3, ['c', 'b', 'a']), 3));
    expect(same.map((c) => [c.kind, c.page, ids(c.members)])).toEqual([
      ['REPLACED', 1, ['c', 'b', 'a']],
      ['REPLACED', 2, []],
      ['REPLACED', 3, []],
    ]);
  });

  it.skipIf(backend.skip)('an abandoned stream (returned after one change) keeps the new membership and the next sync diffs against it', async () => {
    const store = await backend.open();
    opened.push(store);
    await drain(await fullSync(store, 's1', users(0, 300), 100));
    const last = await fullSync(store, 's2', users(100, 400), 100);
    for await (const change of last.completion!) {
      expect(change.kind).toBe('REMOVED');
      break;
    }
    expect(ids(await store.members('p1', 'c1', { first: 1000 }))).toEqual(users(100, 400));
    const next = await drain(await fullSync(store, 's3', users(150, 400), 100));
    expect(next.filter((c) => c.kind === 'REMOVED').flatMap((c) => ids(c.members))).toEqual(users(100, 150));
    expect(next.filter((c) => c.kind === 'ADDED')).toEqual([]);
  });
});

describe('sqlite completion stream after a crash', () => {
  it('keeps the swapped-in membership and drops the replaced one when the store opens again', async () => {
    const sqlitePath = join(tempDir, `crash-${randomUUID()}.db`);
    let store = await createMembershipStore('sqlite', { sqlitePath });
    await drain(await fullSync(store, 's1', users(0, 3000), 1000));
    const last = await fullSync(store, 's2', users(2000, 2500), 500);
    const iterator = last.completion![Symbol.asyncIterator]();
    expect((await iterator.next()).value).toMatchObject({ kind: 'REMOVED' });
    // Closed mid-stream, as a process stopping would leave it: nothing releases the replaced generation.
    await store.close();
    store = await createMembershipStore('sqlite', { sqlitePath });
    opened.push(store);
    expect(await store.syncState('p1', 'c1')).toMatchObject({ sessionId: 's2', memberCount: 500 });
    expect(ids(await store.members('p1', 'c1', { first: 1000 }))).toEqual(users(2000, 2500));
    const rows = () => cohortMemberRows(sqlitePath);
    await expect.poll(rows, { timeout: 10_000 }).toBe(500);
  });
});

describe('webhook receiver publishing a completion stream', () => {
  const PATH = '/webhooks/mixpanel/cohorts';
  const CONFIG: WebhookConfig = {
    path: PATH,
    username: undefined,
    password: undefined,
    maxBodyBytes: 1024 * 1024,
    sessionTtlMs: 3_600_000,
    maxAuthFailures: 10,
    authFailureWindowMs: 60_000,
  };
  const body = (action: SyncAction, session: string, n: number, total: number, memberIds: readonly string[]) => ({
    action,
    parameters: {
      mixpanel_project_id: '42',
      mixpanel_cohort_id: 'c1',
      mixpanel_cohort_name: 'Cohort',
      mixpanel_session_id: session,
      page_info: { page_count: n, total_pages: total },
      members: memberIds.map((id) => ({ mixpanel_distinct_id: id, email: `${id}@example.com` })),
    },
  });

  it.each(backends.filter((b) => !b.skip))(
    '$name: the answer follows the swap; every change, then the completion, then the next page, in order',
    async (backend) => {
      const store = await backend.open();
      opened.push(store);
      const pubsub = createGatewayPubSub();
      const changes: CohortChangeEvent[] = [];
      const completions: CohortSyncCompletedEvent[] = [];
      const order: string[] = [];
      const changeStream = pubsub.subscribe('cohortMembershipChanged', '42')[Symbol.asyncIterator]();
      const completionStream = pubsub.subscribe('cohortSyncCompleted', '42')[Symbol.asyncIterator]();
      void (async () => {
        for (let r = await changeStream.next(); !r.done; r = await changeStream.next()) {
          changes.push(r.value);
          order.push(`${r.value.sessionId}:${r.value.kind}`);
        }
      })();
      void (async () => {
        for (let r = await completionStream.next(); !r.done; r = await completionStream.next()) {
          completions.push(r.value);
          order.push(`${r.value.sessionId}:completed`);
        }
      })();
      const errors: unknown[] = [];
      const yoga = createYoga({
        schema: createSchema({ typeDefs: 'type Query { ok: Boolean }' }),
        logging: false,
        plugins: [
          useCohortWebhooks({
            config: CONFIG,
            resolveProject: (id) => (id === '42' ? { projectId: '42', store } : undefined),
            pubsub,
            onError: (e) => errors.push(e),
          }),
        ],
      });
      const post = (payload: unknown) =>
        yoga.fetch(`http://localhost${PATH}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(payload) });
      try {
        const all = users(0, 2500);
        for (let n = 1; n <= 4; n++) expect((await post(body('members', 'full', n, 5, all.slice((n - 1) * 500, n * 500)))).status).toBe(200);
        // The last page and a diff of the same cohort, sent without waiting for each other.
        const [last, diff] = await Promise.all([post(body('members', 'full', 5, 5, all.slice(2000))), post(body('add_members', 'diff', 1, 1, ['late']))]);
        expect([last.status, diff.status]).toEqual([200, 200]);
        await expect.poll(() => completions.length, { timeout: 10_000 }).toBe(2);
        await expect.poll(() => order.at(-1)).toBe('diff:completed');
        expect(errors).toEqual([]);
        expect(order).toEqual([
          'full:ADDED',
          'full:ADDED',
          'full:ADDED',
          ...[1, 2, 3, 4, 5].map(() => 'full:REPLACED'),
          'full:completed',
          'diff:ADDED',
          'diff:completed',
        ]);
        expect(changes.filter((c) => c.kind === 'REPLACED').map((c) => [c.page, c.members.length])).toEqual([1, 2, 3, 4, 5].map((n) => [n, 500]));
        expect(changes.filter((c) => c.sessionId === 'full' && c.kind === 'ADDED').flatMap((c) => ids(c.members))).toEqual(all);
        expect(completions[0]).toMatchObject({ sessionId: 'full', memberCount: 2500, totalPages: 5 });
        expect(ids(changes.at(-1)!.members)).toEqual(['late']);
      } finally {
        await Promise.all([changeStream.return?.(), completionStream.return?.()]);
      }
    },
  );
});
