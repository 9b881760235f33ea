import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createCohortSyncSender,
  toSenderMember,
  type CohortSyncPayload,
  type CohortSyncSenderOptions,
  type SenderMember,
} from '../src/emulator/cohort-sync.js';
import { cohortMembers } from '../src/emulator/cohorts.js';
import { createEmulator, DEMO_PROJECT } from '../src/emulator/server.js';
import { Secret } from '../src/core/secret.js';

interface Received {
  readonly authorization: string | undefined;
  readonly contentType: string | undefined;
  readonly body: CohortSyncPayload;
}

type Reply = number | 'drop' | { status: number; body: unknown };

/** A webhook receiver on port 0 that records every call and answers from a script (then 200 success). */
async function startReceiver(script: Reply[] = []) {
  const received: Received[] = [];
  const server: Server = createServer(async (request: IncomingMessage, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as CohortSyncPayload;
    received.push({ authorization: request.headers.authorization, contentType: request.headers['content-type'], body });
    const reply = script.shift() ?? 200;
    if (reply === 'drop') {
      request.socket.destroy();
      return;
    }
    const { status, body: answer } =
      typeof reply === 'number'
        ? {
            status: reply,
            body:
              reply < 300
                ? { action: body.action, status: 'success' }
                : { action: body.action, status: 'failure', error: { message: `nope ${reply}`, code: reply } },
          }
        : reply;
    response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/webhook`, received, script };
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

const member = (i: number): SenderMember => ({
  distinctId: `user-${i}`,
  email: `user${i}@example.com`,
  firstName: `First${i}`,
  lastName: `Last${i}`,
});
const members = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => member(from + k));
const cohort = { projectId: 4242, cohortId: 77, cohortName: 'Power users', cohortDescription: 'Logged in 5 times' };

function sender(url: string, extra: Partial<CohortSyncSenderOptions> = {}) {
  const sleeps: number[] = [];
  const instance = createCohortSyncSender({
    url,
    retryDelaysMs: [1, 2, 4, 8, 16],
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    ...extra,
  });
  return { instance, sleeps };
}

describe('cohort sync sender', () => {
  it('sends a first sync as full `members` pages of 1000 under one session id, with basic auth', async () => {
    const receiver = await startReceiver();
    const { instance } = sender(receiver.url, { basicAuth: { username: 'hook', password: new Secret('s3cret') } });
    const result = await instance.sync({
      ...cohort,
      members: [...members(0, 2500), { ...member(9999), phoneNumber: '555-0100', properties: { plan: 'pro' } }],
    });

    expect(result).toMatchObject({ status: 'ok', pagesSent: 3, attempts: 3 });
    expect(receiver.received).toHaveLength(3);
    const sessionIds = new Set(receiver.received.map((r) => r.body.parameters.mixpanel_session_id));
    expect([...sessionIds]).toEqual([result.sessionId]);
    expect(receiver.received.map((r) => r.body.parameters.page_info)).toEqual([
      { total_pages: 3, page_count: 1 },
      { total_pages: 3, page_count: 2 },
      { total_pages: 3, page_count: 3 },
    ]);
    expect(receiver.received.map((r) => r.body.parameters.members.length)).toEqual([1000, 1000, 501]);
    const first = receiver.received[0]!;
    expect(first.authorization).toBe(`Basic ${Buffer.from('hook:s3cret').toString('base64')}`);
    expect(first.contentType).toBe('application/json');
    expect(Object.keys(first.body)).toEqual(['action', 'parameters']);
    expect(first.body.action).toBe('members');
    expect(first.body.parameters).toMatchObject({
      mixpanel_project_id: '4242',
      mixpanel_cohort_id: '77',
      mixpanel_cohort_name: 'Power users',
      mixpanel_cohort_description: 'Logged in 5 times',
    });
    expect(first.body.parameters.members[0]).toEqual({
      email: 'user0@example.com',
      mixpanel_distinct_id: 'user-0',
      first_name: 'First0',
      last_name: 'Last0',
    });
    expect(receiver.received[2]!.body.parameters.members.at(-1)).toEqual({
      plan: 'pro',
      email: 'user9999@example.com',
      mixpanel_distinct_id: 'user-9999',
      first_name: 'First9999',
      last_name: 'Last9999',
      phone_number: '555-0100',
    });
  });

  it('sends add_members then remove_members diffs against the last snapshot, and empty diffs when nothing changed', async () => {
    const receiver = await startReceiver();
    const { instance } = sender(receiver.url, { pageSize: 2 });
    await instance.sync({ ...cohort, members: members(0, 4) }); // A B C D
    receiver.received.length = 0;

    const diff = await instance.sync({ ...cohort, members: [member(0), member(2), member(4), member(5), member(6)] });
    expect(diff.status).toBe('ok');
    expect(receiver.received.map((r) => [r.body.action, r.body.parameters.page_info, r.body.parameters.members.map((m) => m.mixpanel_distinct_id)])).toEqual([
      ['add_members', { total_pages: 3, page_count: 1 }, ['user-4', 'user-5']],
      ['add_members', { total_pages: 3, page_count: 2 }, ['user-6']],
      ['remove_members', { total_pages: 3, page_count: 3 }, ['user-1', 'user-3']],
    ]);
    expect(new Set(receiver.received.map((r) => r.body.parameters.mixpanel_session_id))).toEqual(new Set([diff.sessionId]));
    receiver.received.length = 0;

    const unchanged = await instance.sync({ ...cohort, members: [member(0), member(2), member(4), member(5), member(6)] });
    expect(unchanged.sessionId).not.toBe(diff.sessionId);
    expect(receiver.received.map((r) => [r.body.action, r.body.parameters.page_info, r.body.parameters.members])).toEqual([
      ['add_members', { total_pages: 2, page_count: 1 }, []],
      ['remove_members', { total_pages: 2, page_count: 2 }, []],
    ]);
    expect(instance.state(77)).toMatchObject({ snapshotSize: 5, lastSessionId: unchanged.sessionId });
  });

  it('retries 503 and network errors with the backoff delays, then succeeds', async () => {
    const receiver = await startReceiver([503, 'drop', 429]);
    const { instance, sleeps } = sender(receiver.url);
    const result = await instance.sync({ ...cohort, members: members(0, 3) });

    expect(result).toMatchObject({ status: 'ok', pagesSent: 1, attempts: 4 });
    expect(result.responses.map((r) => r.status)).toEqual([503, undefined, 429, 200]);
    expect(sleeps).toEqual([1, 2, 4]);
    // Redelivered attempts are the same page of the same session.
    expect(new Set(receiver.received.map((r) => JSON.stringify(r.body.parameters.page_info) + r.body.parameters.mixpanel_session_id)).size).toBe(1);
  });

  it('fails after 5 retries without advancing the snapshot', async () => {
    const receiver = await startReceiver();
    const { instance, sleeps } = sender(receiver.url);
    await instance.sync({ ...cohort, members: members(0, 2) });
    receiver.script.push(500, 500, 500, 500, 500, 500);
    receiver.received.length = 0;

    const failed = await instance.sync({ ...cohort, members: members(0, 3) });
    expect(failed).toMatchObject({ status: 'failed', pagesSent: 0, attempts: 6 });
    expect(failed.error).toContain('nope 500');
    expect(sleeps).toEqual([1, 2, 4, 8, 16]);
    expect(instance.state(77).snapshotSize).toBe(2);
    receiver.received.length = 0;

    // The next sync recomputes the diff from the last successful snapshot (user-2 is still new).
    const next = await instance.sync({ ...cohort, members: members(0, 3) });
    expect(next.status).toBe('ok');
    expect(receiver.received.map((r) => [r.body.action, r.body.parameters.members.map((m) => m.mixpanel_distinct_id)])).toEqual([
      ['add_members', ['user-2']],
      ['remove_members', []],
    ]);
  });

  it('counts the 5 retries per sync, not per page', async () => {
    const receiver = await startReceiver([503, 503, 200, 503, 503, 200, 503, 503]);
    const { instance, sleeps } = sender(receiver.url, { pageSize: 1 });
    const result = await instance.sync({ ...cohort, members: members(0, 3) });
    // Pages 1 and 2 took two retries each; page 3's second 503 is the sync's sixth: it fails there.
    expect(result).toMatchObject({ status: 'failed', pagesSent: 2, attempts: 8 });
    expect(sleeps).toEqual([1, 2, 4, 8, 16]);
  });

  it('takes only the documented response as delivery: a 2xx with another body fails the sync', async () => {
    const receiver = await startReceiver([{ status: 200, body: { ok: true } }]);
    const { instance } = sender(receiver.url);
    const result = await instance.sync({ ...cohort, members: members(0, 2) });
    expect(result).toMatchObject({ status: 'failed', pagesSent: 0, attempts: 1 });
    expect(result.error).toContain('documented');
    // No snapshot: the next sync is a full export again.
    expect(instance.state(77).snapshotSize).toBeUndefined();
    const wrongAction = await startReceiver([{ status: 200, body: { action: 'add_members', status: 'success' } }]);
    const other = sender(wrongAction.url).instance;
    expect((await other.sync({ ...cohort, members: members(0, 2) })).status).toBe('failed');
  });

  it('pauses on 401 until resumed, then sends a full export', async () => {
    const receiver = await startReceiver([401]);
    const { instance } = sender(receiver.url);
    const paused = await instance.sync({ ...cohort, members: members(0, 2) });
    expect(paused).toMatchObject({ status: 'paused', attempts: 1, pagesSent: 0 });
    expect(paused.error).toContain('401');
    expect(instance.state(77).paused).toEqual({ status: 401, message: 'nope 401' });

    const refused = await instance.sync({ ...cohort, members: members(0, 2) });
    expect(refused).toMatchObject({ status: 'paused', attempts: 0, sessionId: undefined });
    expect(receiver.received).toHaveLength(1);

    instance.resume(77);
    const resumed = await instance.sync({ ...cohort, members: members(0, 2) });
    expect(resumed.status).toBe('ok');
    expect(receiver.received.at(-1)!.body.action).toBe('members');
    expect(instance.state(77).paused).toBeUndefined();
  });

  it('treats a 2xx body with status "failure" by its error code', async () => {
    const receiver = await startReceiver([{ status: 200, body: { action: 'members', status: 'failure', error: { message: 'bad cohort', code: 404 } } }]);
    const { instance } = sender(receiver.url);
    const result = await instance.sync({ ...cohort, members: members(0, 1) });
    expect(result.status).toBe('paused');
    expect(instance.state(77).paused).toEqual({ status: 404, message: 'bad cohort' });
  });

  it('redelivers the last page or the whole session unchanged, and can send pages out of order', async () => {
    const receiver = await startReceiver();
    const { instance } = sender(receiver.url, { pageSize: 1 });
    const first = await instance.sync({ ...cohort, members: members(0, 3), order: 'reversed' });
    expect(receiver.received.map((r) => r.body.parameters.page_info.page_count)).toEqual([3, 2, 1]);
    const original = receiver.received.map((r) => r.body);
    receiver.received.length = 0;

    const lastPage = await instance.redeliver(77, 'last-page');
    expect(lastPage).toMatchObject({ status: 'ok', pagesSent: 1, sessionId: first.sessionId });
    expect(receiver.received.map((r) => r.body)).toEqual([original[2]]);
    receiver.received.length = 0;

    const session = await instance.redeliver(77, 'session');
    expect(session.pagesSent).toBe(3);
    expect(receiver.received.map((r) => r.body)).toEqual(original);
    // Redelivery does not move the snapshot: the next sync is still an empty diff.
    receiver.received.length = 0;
    await instance.sync({ ...cohort, members: members(0, 3) });
    expect(receiver.received.map((r) => r.body.action)).toEqual(['add_members', 'remove_members']);
  });

  it('sends one empty members page for an empty first sync and nothing to redeliver for an unknown cohort', async () => {
    const receiver = await startReceiver();
    const { instance } = sender(receiver.url);
    expect((await instance.redeliver(5, 'session')).status).toBe('failed');
    await instance.sync({ ...cohort, members: [] });
    expect(receiver.received.map((r) => [r.body.action, r.body.parameters.page_info, r.body.parameters.members])).toEqual([
      ['members', { total_pages: 1, page_count: 1 }, []],
    ]);
  });

  it('syncs a seeded emulator cohort, then the diff after a profile leaves it through /engage', async () => {
    const emulator = await createEmulator({ size: 'small' });
    try {
      const data = emulator.data();
      const cohortRecord = data.cohorts.find((c) => c.name === 'Pro users')!;
      const input = () => ({
        projectId: data.projectId,
        cohortId: cohortRecord.id,
        cohortName: cohortRecord.name,
        cohortDescription: cohortRecord.description,
        members: cohortMembers(data, cohortRecord.id).map((p) => toSenderMember(p, ['plan'])),
      });
      const receiver = await startReceiver();
      const { instance } = sender(receiver.url);
      const first = input();
      expect(first.members.length).toBeGreaterThan(0);
      await instance.sync(first);
      const sent = receiver.received.flatMap((r) => r.body.parameters.members);
      expect(sent).toHaveLength(first.members.length);
      expect(sent[0]).toMatchObject({ mixpanel_distinct_id: first.members[0]!.distinctId, email: expect.stringContaining('@'), plan: 'Pro' });
      receiver.received.length = 0;

      const leaving = first.members[0]!.distinctId;
      const update = [{ $token: DEMO_PROJECT.token, $distinct_id: leaving, $set: { plan: 'Free' } }];
      const response = await fetch(`${emulator.url}/engage`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(update) });
      expect(await response.text()).toBe('1');

      await instance.sync(input());
      expect(receiver.received.map((r) => [r.body.action, r.body.parameters.members.map((m) => m.mixpanel_distinct_id)])).toEqual([
        ['add_members', []],
        ['remove_members', [leaving]],
      ]);
    } finally {
      await emulator.close();
    }
  });
});
