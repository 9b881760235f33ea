/**
 * The SQLite membership store under a locked file and a killed process, on
 * real gateways over loopback:
 * - another connection holds the write lock: webhook pages wait off the
 *   event loop and answer 503 (Mixpanel retries), while GraphQL reads of the
 *   synced cohort and `{ __typename }` keep answering promptly;
 * - a gateway process is killed with SIGKILL while a full sync is in flight:
 *   a new process on the same file finishes the sync from what was committed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { createCohortSyncSender, type CohortSyncPayload, type FetchLike } from '../src/emulator/cohort-sync.js';
import { createEmulator, DEMO_PROJECT } from '../src/emulator/server.js';
import { createTestApp } from './helpers/app.js';
import { WEBHOOK_AUTHORIZATION, WEBHOOK_BASIC_AUTH, WEBHOOK_CREDENTIALS, type GatewayUnderTest } from './helpers/gateway.js';

const WEBHOOK_PATH = '/webhooks/mixpanel/cohorts';
const tempDir = mkdtempSync(join(tmpdir(), 'mpgw-sqlite-resilience-'));
afterAll(() => rmSync(tempDir, { recursive: true, force: true }));

const MEMBERS = /* GraphQL */ `
  query($id: ID!) { cohort(id: $id) { __typename ... on Cohort { sync { memberCount sessionId } members(first: 5) { ... on ProfileConnection { totalCount edges { node { distinctId } } } } } } }
`;

const page = (cohortId: string, session: string, pageCount: number, totalPages: number, ids: readonly string[]) => ({
  action: 'members',
  parameters: {
    mixpanel_project_id: DEMO_PROJECT.projectId,
    mixpanel_cohort_id: cohortId,
    mixpanel_cohort_name: 'Resilient',
    mixpanel_session_id: session,
    page_info: { total_pages: totalPages, page_count: pageCount },
    members: ids.map((id) => ({ mixpanel_distinct_id: id, email: `${id}@example.com` })),
  },
});

const post = (gw: GatewayUnderTest, body: unknown) =>
  gw.fetch(WEBHOOK_PATH, { method: 'POST', headers: { 'content-type': 'application/json', authorization: WEBHOOK_AUTHORIZATION }, body: JSON.stringify(body) });

describe('the SQLite membership store', () => {
  it('keeps answering reads while another connection holds the write lock', async () => {
    const sqlitePath = join(tempDir, 'locked.sqlite');
    const gw = await createTestApp({ env: { MEMBERSHIP_STORE: 'sqlite', SQLITE_PATH: sqlitePath } });
    expect((await post(gw, page('61', 's1', 1, 1, ['a', 'b', 'c']))).status).toBe(200);

    const locker = new Database(sqlitePath);
    onTestFinished(() => void (locker.open && locker.close()));
    locker.exec('BEGIN EXCLUSIVE');
    locker.prepare("INSERT OR REPLACE INTO cohort_sync_state VALUES ('x', 'x', 'x', 0, 'x', 0)").run();

    // The page waits for the lock in the writer's thread (busy timeout 5 s), then gives up: 503, Mixpanel retries.
    let pageAnswered = false;
    const blocked = post(gw, page('62', 's2', 1, 1, ['d'])).finally(() => (pageAnswered = true));
    const reads: number[] = [];
    const answeredWhileWaiting: boolean[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      const [typename, cohort] = await Promise.all([gw.query('{ __typename }'), gw.query(MEMBERS, { id: '61' })]);
      reads.push(performance.now() - t0);
      answeredWhileWaiting.push(!pageAnswered);
      expect(typename.data).toEqual({ __typename: 'Query' });
      expect(cohort.data?.['cohort']).toMatchObject({ __typename: 'Cohort', sync: { memberCount: 3, sessionId: 's1' }, members: { totalCount: 3 } });
      if (pageAnswered) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    // Reads answered while the page was still waiting on the lock; on the event loop each would have waited for
    // the page to give up (the 5 s busy timeout).
    expect(answeredWhileWaiting[0]).toBe(true);
    expect(Math.max(...reads)).toBeLessThan(4000);
    const refused = await blocked;
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).not.toBeNull();

    locker.exec('ROLLBACK');
    locker.close();
    expect((await post(gw, page('62', 's2', 1, 1, ['d']))).status).toBe(200);
    expect((await gw.query(MEMBERS, { id: '62' })).data?.['cohort']).toMatchObject({ sync: { memberCount: 1, sessionId: 's2' } });
  }, 60_000);

  it('finishes a full sync after the gateway process is killed with SIGKILL in the middle of it', async () => {
    const sqlitePath = join(tempDir, 'killed.sqlite');
    const emulator = await createEmulator({ size: 'small' });
    onTestFinished(() => emulator.close());
    const children: ChildProcess[] = [];
    onTestFinished(() => {
      for (const child of children) child.kill('SIGKILL');
    });
    const startChild = async (): Promise<{ child: ChildProcess; url: string }> => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
        env: {
          PATH: process.env['PATH'] ?? '',
          HOST: '127.0.0.1',
          PORT: '0',
          LOG_LEVEL: 'silent',
          MEMBERSHIP_STORE: 'sqlite',
          SQLITE_PATH: sqlitePath,
          MIXPANEL_PROJECT_ID: DEMO_PROJECT.projectId,
          MIXPANEL_SERVICE_ACCOUNT_USERNAME: DEMO_PROJECT.username,
          MIXPANEL_SERVICE_ACCOUNT_SECRET: DEMO_PROJECT.secret,
          MIXPANEL_BASE_URL: emulator.url,
          WEBHOOK_USERNAME: WEBHOOK_CREDENTIALS.username,
          WEBHOOK_PASSWORD: WEBHOOK_CREDENTIALS.password,
        },
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      children.push(child);
      let stdout = '';
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no start-up line: ${stdout}`)), 90_000);
        child.stdout!.on('data', (chunk: Buffer) => {
          stdout += chunk.toString();
          const match = /Webhook:\s+(http:\/\/\S+?)\/webhooks/.exec(stdout);
          if (match) {
            clearTimeout(timer);
            resolve(match[1]!);
          }
        });
      });
      return { child, url };
    };

    const ids = Array.from({ length: 5000 }, (_, i) => `member-${String(i).padStart(4, '0')}`);
    let target = await startChild();
    const killed = target.child;
    const answered: number[] = [];
    // Page 4 is in flight when the process dies: the sender sees a network error and retries it on the new process.
    const viaCurrentProcess: FetchLike = async (_url, init) => {
      const n = (JSON.parse(String(init.body)) as CohortSyncPayload).parameters.page_info.page_count;
      if (n === 4 && target.child === killed) {
        const inFlight = fetch(target.url + WEBHOOK_PATH, init).catch(() => undefined);
        killed.kill('SIGKILL');
        await once(killed, 'exit');
        await inFlight;
        target = await startChild();
        throw new Error('connection reset by a killed gateway');
      }
      const response = await fetch(target.url + WEBHOOK_PATH, init);
      if (response.status === 200) answered.push(n);
      return response;
    };
    const sender = createCohortSyncSender({
      url: target.url + WEBHOOK_PATH,
      basicAuth: WEBHOOK_BASIC_AUTH,
      retryDelaysMs: [10, 50, 100],
      fetch: viaCurrentProcess,
    });
    const result = await sender.sync({
      projectId: DEMO_PROJECT.projectId,
      cohortId: '63',
      cohortName: 'Killed',
      members: ids.map((distinctId) => ({ distinctId })),
    });
    expect(result.status).toBe('ok');
    expect(answered).toEqual([1, 2, 3, 4, 5]);
    expect(killed.signalCode).toBe('SIGKILL');

    const response = await fetch(`${target.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: MEMBERS, variables: { id: '63' } }),
    });
    const body = (await response.json()) as {
      data: { cohort: { sync: { memberCount: number; sessionId: string }; members: { totalCount: number; edges: { node: { distinctId: string } }[] } } };
    };
    expect(body.data.cohort.sync).toEqual({ memberCount: 5000, sessionId: result.sessionId });
    expect(body.data.cohort.members.totalCount).toBe(5000);
    expect(body.data.cohort.members.edges.map((e) => e.node.distinctId)).toEqual(ids.slice(0, 5));
  }, 240_000);
});
