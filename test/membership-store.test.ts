/**
 * The MembershipStore contract, run against every backend: memory, SQLite in
 * a temp dir, and Redis at 127.0.0.1:6379 under a unique key prefix.
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { cohortMemberRows } from './helpers/sqlite.js';
import { Redis } from 'ioredis';
import { REDIS, redisSkip } from './helpers/redis.js';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createMembershipStore } from '../src/membership/create-store.js';
import type { AppliedChange, ApplyResult, CohortMember, MembershipStore, SyncAction, SyncPage } from '../src/membership/types.js';

const runPrefix = `mpgw-test:${randomUUID()}:`;
const tempDir = mkdtempSync(join(tmpdir(), 'mpgw-membership-'));
const connections: Redis[] = [];

const skipRedis = await redisSkip('the Redis membership store contract');

afterAll(async () => {
  const [first] = connections;
  if (first) {
    const keys = await first.keys(`${runPrefix}*`);
    if (keys.length > 0) await first.del(...keys);
  }
  await Promise.all(connections.map((redis) => redis.quit()));
  rmSync(tempDir, { recursive: true, force: true });
});

/** One storage location; `open` gives a store over it (again after a close, for the persistent ones). */
interface Storage {
  open(): Promise<MembershipStore>;
}

interface Backend {
  readonly name: string;
  readonly persistent: boolean;
  readonly skip: boolean;
  storage(): Storage;
}

const backends: Backend[] = [
  {
    name: 'memory',
    persistent: false,
    skip: false,
    storage: () => ({ open: () => createMembershipStore('memory') }),
  },
  {
    name: 'sqlite',
    persistent: true,
    skip: false,
    storage: () => {
      const sqlitePath = join(tempDir, `${randomUUID()}.db`);
      return { open: () => createMembershipStore('sqlite', { sqlitePath }) };
    },
  },
  {
    name: 'redis',
    persistent: true,
    skip: skipRedis,
    storage: () => {
      const redisKeyPrefix = `${runPrefix}${randomUUID()}:`;
      return {
        open: () => {
          const redis = new Redis({ ...REDIS, maxRetriesPerRequest: 1 });
          connections.push(redis);
          return createMembershipStore('redis', { redis, redisKeyPrefix });
        },
      };
    },
  },
];

const member = (id: string): CohortMember => ({ distinctId: id, email: `${id}@example.com`, firstName: id.toUpperCase(), properties: { plan: 'pro' } });
const ids = (members: readonly CohortMember[]) => members.map((m) => m.distinctId);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `u${String(from + i).padStart(5, '0')}`);

function page(action: SyncAction, sessionId: string, pageCount: number, totalPages: number, memberIds: readonly string[], cohortId = 'c1'): SyncPage {
  return { projectId: 'p1', cohortId, cohortName: `Cohort ${cohortId}`, action, sessionId, pageCount, totalPages, members: memberIds.map(member) };
}

/** Every member of a cohort, paging through `members()` two at a time to exercise the keyset cursor. */
async function allIds(store: MembershipStore, cohortId = 'c1'): Promise<string[]> {
  const result: string[] = [];
  for (;;) {
    const batch = await store.members('p1', cohortId, { first: 2, afterDistinctId: result.at(-1) });
    result.push(...ids(batch));
    if (batch.length < 2) return result;
  }
}

const kinds = (changes: readonly AppliedChange[]) => changes.map((c) => c.kind);

/** A page's changes, then its completion stream read to the end, as the webhook receiver publishes them. */
async function allChanges(result: ApplyResult): Promise<AppliedChange[]> {
  const changes = [...result.changes];
  for await (const change of result.completion ?? []) changes.push(change);
  return changes;
}

describe.each(backends)('$name membership store', (backend) => {
  const open: MembershipStore[] = [];
  let storage: Storage;
  const start = async () => {
    storage = backend.storage();
    const store = await storage.open();
    open.push(store);
    return store;
  };
  const reopen = async (store: MembershipStore) => {
    await store.close();
    const next = await storage.open();
    open.push(next);
    return next;
  };
  afterEach(async () => {
    await Promise.all(open.splice(0).map((store) => store.close()));
  });

  describe.skipIf(backend.skip)('contract', () => {
    it('stages a full sync invisibly and applies it atomically when the last page arrives', async () => {
      const store = await start();
      const first = await store.applyPage(page('members', 's1', 1, 3, ['a', 'b']), 1000);
      expect(first).toEqual({ applied: true, changes: [], sessionCompleted: false });
      await store.applyPage(page('members', 's1', 2, 3, ['c']), 1001);
      expect(await allIds(store)).toEqual([]);
      expect(await store.syncState('p1', 'c1')).toBeUndefined();

      const last = await store.applyPage(page('members', 's1', 3, 3, ['d', 'e']), 1002);
      expect(last.applied).toBe(true);
      expect(last.sessionCompleted).toBe(true);
      expect(last.changes).toEqual([]);
      const completion = await allChanges(last);
      expect(kinds(completion)).toEqual(['ADDED', 'REPLACED', 'REPLACED', 'REPLACED']);
      expect(ids(completion[0]!.members)).toEqual(['a', 'b', 'c', 'd', 'e']);
      expect(completion.slice(1).map((c) => [c.page, ids(c.members)])).toEqual([
        [1, ['a', 'b']],
        [2, ['c']],
        [3, ['d', 'e']],
      ]);
      expect(await allIds(store)).toEqual(['a', 'b', 'c', 'd', 'e']);
      expect(await store.syncState('p1', 'c1')).toEqual({
        projectId: 'p1',
        cohortId: 'c1',
        cohortName: 'Cohort c1',
        lastSyncAt: 1002,
        sessionId: 's1',
        memberCount: 5,
      });
      expect((await store.members('p1', 'c1', { first: 1 }))[0]).toEqual(member('a'));
    });

    it('ignores a duplicate page and accepts pages out of order', async () => {
      const store = await start();
      await store.applyPage(page('members', 's1', 3, 3, ['e']), 1);
      expect(await store.applyPage(page('members', 's1', 3, 3, ['e']), 2)).toEqual({ applied: false, changes: [], sessionCompleted: false });
      await store.applyPage(page('members', 's1', 1, 3, ['a']), 3);
      expect(await allIds(store)).toEqual([]);
      const done = await store.applyPage(page('members', 's1', 2, 3, ['c']), 4);
      expect(done.sessionCompleted).toBe(true);
      expect(await allIds(store)).toEqual(['a', 'c', 'e']);
    });

    it('treats a redelivered session as seen and a new session as a replacement', async () => {
      const store = await start();
      await store.applyPage(page('members', 's1', 1, 2, ['a', 'b']), 1);
      await store.applyPage(page('members', 's1', 2, 2, ['c']), 2);
      for (const n of [1, 2]) {
        expect(await store.applyPage(page('members', 's1', n, 2, n === 1 ? ['a', 'b'] : ['c']), 3)).toMatchObject({ applied: false, changes: [] });
      }

      await store.applyPage(page('members', 's2', 1, 2, ['a', 'b']), 4);
      const same = await store.applyPage(page('members', 's2', 2, 2, ['c']), 5);
      expect(kinds(await allChanges(same))).toEqual(['REPLACED', 'REPLACED']);

      await store.applyPage(page('members', 's3', 1, 2, ['b', 'c']), 6);
      const changed = await store.applyPage(page('members', 's3', 2, 2, ['d']), 7);
      expect((await allChanges(changed)).map((c) => [c.kind, ids(c.members)])).toEqual([
        ['REMOVED', ['a']],
        ['ADDED', ['d']],
        ['REPLACED', ['b', 'c']],
        ['REPLACED', ['d']],
      ]);
      expect(await allIds(store)).toEqual(['b', 'c', 'd']);
      expect((await store.syncState('p1', 'c1'))?.memberCount).toBe(3);
    });

    it('applies diffs with set semantics, once per page, and records empty diffs', async () => {
      const store = await start();
      const added = await store.applyPage(page('add_members', 'd1', 1, 2, ['a', 'b', 'a']), 10);
      expect(added.changes.map((c) => [c.kind, ids(c.members)])).toEqual([['ADDED', ['a', 'b']]]);
      expect(added.sessionCompleted).toBe(false);
      expect(await store.applyPage(page('add_members', 'd1', 1, 2, ['a', 'b']), 11)).toMatchObject({ applied: false });

      const removed = await store.applyPage(page('remove_members', 'd1', 2, 2, ['b', 'zz']), 12);
      expect(removed.changes.map((c) => [c.kind, ids(c.members)])).toEqual([['REMOVED', ['b']]]);
      expect(removed.sessionCompleted).toBe(true);
      expect(removed.state?.memberCount).toBe(1);

      const again = await store.applyPage(page('add_members', 'd2', 1, 1, ['a', 'c']), 13);
      expect(again.changes.map((c) => ids(c.members))).toEqual([['c']]);
      const empty = await store.applyPage(page('remove_members', 'd3', 1, 1, []), 14);
      // A page that changed nothing is still published, so a subscriber waiting for it sees it.
      expect(empty).toMatchObject({
        applied: true,
        changes: [{ kind: 'REMOVED', members: [], page: 1, totalPages: 1, sessionId: 'd3' }],
        sessionCompleted: true,
      });
      const unchanged = await store.applyPage(page('add_members', 'd4', 1, 1, ['a']), 15);
      expect(unchanged.changes.map((c) => [c.kind, ids(c.members)])).toEqual([['ADDED', []]]);
      expect(await store.syncState('p1', 'c1')).toMatchObject({ lastSyncAt: 15, sessionId: 'd4', memberCount: 2 });
      expect(await allIds(store)).toEqual(['a', 'c']);
    });

    it('removes a distinct id holding a lone UTF-16 surrogate, read back as U+FFFD', async () => {
      const store = await start();
      const lone = 'x\uD800y';
      await store.applyPage(page('add_members', 'd1', 1, 1, [lone, 'plain']), 1);
      expect(await allIds(store)).toEqual(['plain', 'x\uFFFDy']);
      expect(Object.fromEntries(await store.cohortsOf('p1', [lone]))).toEqual({ [lone]: ['c1'] });
      const removed = await store.applyPage(page('remove_members', 'd2', 1, 1, [lone]), 2);
      expect(removed.changes.map((c) => [c.kind, ids(c.members)])).toEqual([['REMOVED', ['x\uFFFDy']]]);
      expect(await allIds(store)).toEqual(['plain']);
      expect((await store.syncState('p1', 'c1'))?.memberCount).toBe(1);
    });

    it('keeps each member on the first page listing it, in the order sent, whatever order pages arrive in, and publishes empty pages', async () => {
      const store = await start();
      await store.applyPage(page('members', 's1', 3, 4, ['b', 'c']), 1);
      await store.applyPage(page('members', 's1', 1, 4, ['c', 'a']), 2);
      await store.applyPage(page('members', 's1', 4, 4, []), 3);
      const done = await store.applyPage(page('members', 's1', 2, 4, ['b']), 4);
      expect((await allChanges(done)).map((c) => [c.kind, c.page, ids(c.members)])).toEqual([
        ['ADDED', 2, ['c', 'a', 'b']],
        ['REPLACED', 1, ['c', 'a']],
        ['REPLACED', 2, ['b']],
        ['REPLACED', 3, []],
        ['REPLACED', 4, []],
      ]);
      expect(await allIds(store)).toEqual(['a', 'b', 'c']);
      expect((await store.syncState('p1', 'c1'))?.memberCount).toBe(3);
    });

    it('expires abandoned staged sessions, after which their pages count as new', async () => {
      const store = await start();
      await store.applyPage(page('members', 'old', 1, 2, ['a']), 1000);
      await store.applyPage(page('members', 'fresh', 1, 2, ['b']), 5000);
      expect(await store.expireSessions(2000)).toBe(1);

      const late = await store.applyPage(page('members', 'old', 2, 2, ['z']), 6000);
      expect(late).toEqual({ applied: true, changes: [], sessionCompleted: false });
      expect(await allIds(store)).toEqual([]);
      const done = await store.applyPage(page('members', 'fresh', 2, 2, ['c']), 6001);
      expect(done.sessionCompleted).toBe(true);
      expect(await allIds(store)).toEqual(['b', 'c']);
    });

    it('pages members in distinct-id order and answers cohortsOf and syncedCohorts', async () => {
      const store = await start();
      await store.applyPage(page('members', 's1', 1, 1, ['b', 'a', 'é', 'c']), 1);
      await store.applyPage(page('add_members', 's2', 1, 1, ['c', 'd'], 'c2'), 2);
      expect(await allIds(store)).toEqual(['a', 'b', 'c', 'é']);
      expect(ids(await store.members('p1', 'c1', { first: 10, afterDistinctId: 'b' }))).toEqual(['c', 'é']);
      expect(await store.members('p1', 'c1', { first: 0 })).toEqual([]);
      expect(await store.members('p1', 'nope', { first: 5 })).toEqual([]);

      const cohorts = await store.cohortsOf('p1', ['a', 'c', 'x']);
      expect(Object.fromEntries(cohorts)).toEqual({ a: ['c1'], c: ['c1', 'c2'], x: [] });
      expect((await store.syncedCohorts('p1')).map((s) => [s.cohortId, s.memberCount])).toEqual([
        ['c1', 4],
        ['c2', 2],
      ]);
      expect(await store.syncedCohorts('p2')).toEqual([]);
    });

    // Only the persistent backends have a restart to survive; the memory store gets no such test.
    if (backend.persistent)
      it('keeps membership, staged pages and seen pages across a restart', async () => {
        let store = await start();
        await store.applyPage(page('add_members', 'd0', 1, 1, ['old']), 1);
        const pages = [1, 2, 3, 4, 5].map((n) => page('members', 's1', n, 5, range(n * 10, n * 10 + 2)));
        for (const p of pages.slice(0, 3)) await store.applyPage(p, 2);
        store = await reopen(store);

        expect(await allIds(store)).toEqual(['old']);
        expect(await store.applyPage(pages[2]!, 3)).toMatchObject({ applied: false });
        await store.applyPage(pages[3]!, 4);
        const done = await store.applyPage(pages[4]!, 5);
        expect(done.sessionCompleted).toBe(true);
        expect((await allChanges(done)).map((c) => c.kind)).toEqual(['REMOVED', 'ADDED', 'REPLACED', 'REPLACED', 'REPLACED', 'REPLACED', 'REPLACED']);
        const expected = pages.flatMap((p) => ids(p.members));
        expect(await allIds(store)).toEqual(expected);

        store = await reopen(store);
        expect(await allIds(store)).toEqual(expected);
        expect(await store.applyPage(pages[4]!, 6)).toMatchObject({ applied: false });
        expect(await store.syncState('p1', 'c1')).toMatchObject({ sessionId: 's1', memberCount: 15, lastSyncAt: 5 });
      });
  });
});

describe('sqlite membership store generations', () => {
  it('deletes the replaced membership lazily, a batch at a time, after the swap', async () => {
    const sqlitePath = join(tempDir, `generations-${randomUUID()}.db`);
    const store = await createMembershipStore('sqlite', { sqlitePath });
    try {
      await allChanges(await store.applyPage(page('members', 'g1', 1, 1, range(1, 5000)), 1));
      // The replaced generation stays until the completion changes are read.
      await allChanges(await store.applyPage(page('members', 'g2', 1, 1, range(4001, 4100)), 2));
      expect(await allIds(store)).toEqual(range(4001, 4100));
      const rows = () => cohortMemberRows(sqlitePath);
      await expect.poll(rows, { timeout: 10_000 }).toBe(100);
    } finally {
      await store.close();
    }
  });
});

describe('sqlite membership store schema', () => {
  it('migrates a version 1 file: its members stay, an unfinished full sync starts over', async () => {
    const sqlitePath = join(tempDir, `v1-${randomUUID()}.db`);
    const v1 = new Database(sqlitePath);
    v1.exec(`
      CREATE TABLE cohort_members (project_id TEXT NOT NULL, cohort_id TEXT NOT NULL, distinct_id TEXT NOT NULL, member TEXT NOT NULL,
        PRIMARY KEY (project_id, cohort_id, distinct_id)) WITHOUT ROWID;
      CREATE INDEX cohort_members_by_profile ON cohort_members (project_id, distinct_id);
      CREATE TABLE cohort_sync_state (project_id TEXT NOT NULL, cohort_id TEXT NOT NULL, cohort_name TEXT NOT NULL,
        last_sync_at INTEGER NOT NULL, session_id TEXT NOT NULL, member_count INTEGER NOT NULL, PRIMARY KEY (project_id, cohort_id)) WITHOUT ROWID;
      CREATE TABLE sync_sessions (project_id TEXT NOT NULL, cohort_id TEXT NOT NULL, session_id TEXT NOT NULL, kind TEXT NOT NULL,
        record TEXT NOT NULL, updated_at INTEGER NOT NULL, PRIMARY KEY (project_id, cohort_id, session_id, kind)) WITHOUT ROWID;
      CREATE TABLE staged_pages (project_id TEXT NOT NULL, cohort_id TEXT NOT NULL, session_id TEXT NOT NULL, kind TEXT NOT NULL,
        page INTEGER NOT NULL, members TEXT NOT NULL, PRIMARY KEY (project_id, cohort_id, session_id, kind, page)) WITHOUT ROWID;
      PRAGMA user_version = 1;
    `);
    for (const id of ['a', 'b']) v1.prepare('INSERT INTO cohort_members VALUES (?, ?, ?, ?)').run('p1', 'c1', id, JSON.stringify(member(id)));
    v1.prepare('INSERT INTO cohort_sync_state VALUES (?, ?, ?, ?, ?, ?)').run('p1', 'c1', 'Cohort c1', 1, 's1', 2);
    const unfinished = { totalPages: 2, seen: ['members:1'], startedAt: 2, updatedAt: 2 };
    v1.prepare('INSERT INTO sync_sessions VALUES (?, ?, ?, ?, ?, ?)').run('p1', 'c1', 's2', 'full', JSON.stringify(unfinished), 2);
    v1.prepare('INSERT INTO staged_pages VALUES (?, ?, ?, ?, ?, ?)').run('p1', 'c1', 's2', 'full', 1, JSON.stringify([member('z')]));
    v1.close();

    const store = await createMembershipStore('sqlite', { sqlitePath });
    try {
      expect(await allIds(store)).toEqual(['a', 'b']);
      expect(Object.fromEntries(await store.cohortsOf('p1', ['a']))).toEqual({ a: ['c1'] });
      // Page 1 of s2 counts as new again (its staged members were not kept), so the sync completes when resent.
      expect(await store.applyPage(page('members', 's2', 2, 2, ['y']), 3)).toMatchObject({ applied: true, sessionCompleted: false });
      expect(await store.applyPage(page('members', 's2', 1, 2, ['z']), 4)).toMatchObject({ applied: true, sessionCompleted: true });
      expect(await allIds(store)).toEqual(['y', 'z']);
    } finally {
      await store.close();
    }
  });
});

describe('sqlite membership store after a crash', () => {
  it('resumes a full sync staged by a process that exited without closing', async () => {
    const sqlitePath = join(tempDir, `crash-${randomUUID()}.db`);
    const pages = [1, 2, 3, 4, 5].map((n) => page('members', 'crash', n, 5, range(n * 100, n * 100 + 99)));
    const script = join(tempDir, `stage-${randomUUID()}.mts`);
    writeFileSync(
      script,
      `import { createSqliteMembershipStore } from ${JSON.stringify(pathToFileURL(resolve('src/membership/sqlite-store.ts')).href)};
const store = createSqliteMembershipStore({ path: ${JSON.stringify(sqlitePath)} });
for (const page of ${JSON.stringify(pages.slice(0, 3))}) await store.applyPage(page, 1);
process.exit(0);
`,
    );
    const child = spawnSync(resolve('node_modules/.bin/tsx'), [script], { encoding: 'utf8', timeout: 20_000 });
    expect(child.stderr).toBe('');
    expect(child.status).toBe(0);

    const store = await createMembershipStore('sqlite', { sqlitePath });
    try {
      expect(await store.syncState('p1', 'c1')).toBeUndefined();
      expect(await store.applyPage(pages[0]!, 2)).toMatchObject({ applied: false });
      await store.applyPage(pages[3]!, 3);
      const done = await store.applyPage(pages[4]!, 4);
      expect(done.sessionCompleted).toBe(true);
      expect(await store.syncState('p1', 'c1')).toMatchObject({ memberCount: 500, sessionId: 'crash' });
      expect(ids(await store.members('p1', 'c1', { first: 1000 }))).toEqual(pages.flatMap((p) => ids(p.members)));
    } finally {
      await store.close();
    }
  });
});
