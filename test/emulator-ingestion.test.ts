import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createEmulator, DEMO_PROJECT, type Emulator } from '../src/emulator/server.js';

const SA_AUTH = `Basic ${Buffer.from(`${DEMO_PROJECT.username}:${DEMO_PROJECT.secret}`).toString('base64')}`;
const TOKEN_AUTH = `Basic ${Buffer.from(`${DEMO_PROJECT.token}:`).toString('base64')}`;
const DAY_S = 86_400;

let emulator: Emulator;
beforeEach(async () => {
  emulator = await createEmulator({ size: 'small' });
});
afterEach(async () => {
  await emulator.close();
});

const nowS = () => Math.floor(Date.now() / 1000);
const day = (s: number) => new Date(s * 1000).toISOString().slice(0, 10);

function post(path: string, body: string | Blob, headers: Record<string, string> = {}) {
  return fetch(`${emulator.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
}

/** Raw export lines of one event name (the Export API of the same emulator). */
async function exported(event: string, fromS = nowS() - 2 * DAY_S): Promise<any[]> {
  const query = new URLSearchParams({
    project_id: DEMO_PROJECT.projectId,
    from_date: day(fromS),
    to_date: day(nowS()),
    event: JSON.stringify([event]),
  });
  const response = await fetch(`${emulator.url}/api/2.0/export?${query}`, { headers: { authorization: SA_AUTH } });
  expect(response.status).toBe(200);
  const text = await response.text();
  return text
    .split('\n')
    .filter((line) => line.trim().length > 0)
    .map((line) => JSON.parse(line));
}

async function profile(distinctId: string, dataGroupId?: string): Promise<any> {
  const form = new URLSearchParams({ distinct_id: distinctId, ...(dataGroupId ? { data_group_id: dataGroupId } : {}) });
  const response = await fetch(`${emulator.url}/api/query/engage?project_id=${DEMO_PROJECT.projectId}`, {
    method: 'POST',
    headers: { authorization: SA_AUTH, 'content-type': 'application/x-www-form-urlencoded' },
    body: form.toString(),
  });
  expect(response.status).toBe(200);
  const body = (await response.json()) as { results: { $distinct_id: unknown; $properties: Record<string, unknown> }[] };
  return body.results[0];
}

const importEvent = (event: string, insertId: string, overrides: Record<string, unknown> = {}) => ({
  event,
  properties: { time: nowS() - 3600, distinct_id: 'importer-1', $insert_id: insertId, plan: 'Pro', ...overrides },
});

describe('emulator /import', () => {
  it('ingests valid rows and reports failed_records under strict=1', async () => {
    const t0 = nowS();
    const batch = [
      importEvent('Import Test', 'ok-1'),
      importEvent('Import Test', 'bad-time', { time: 'yesterday' }),
      importEvent('Import Test', 'banned-id', { distinct_id: 'undefined' }),
      importEvent('Import Test', 'insert_id_with_underscores'),
      importEvent('Import Test', 'too-old', { time: 10 }),
      importEvent('Import Test', 'future', { time: nowS() + 2 * 3600 }),
      { event: 'Import Test', properties: { time: nowS(), distinct_id: 'x' } },
      importEvent('Import Test', 'ms-time', { time: (t0 - 7200) * 1000, long: 'x'.repeat(300) }),
    ];
    const response = await post(`/import?strict=1&project_id=${DEMO_PROJECT.projectId}`, JSON.stringify(batch), { authorization: SA_AUTH });
    expect(response.status).toBe(400);
    const body = (await response.json()) as any;
    expect(body).toMatchObject({ code: 400, error: 'some data points in the request failed validation', num_records_imported: 2, status: 'Bad Request' });
    expect(body.failed_records.map((r: any) => [r.index, r.field])).toEqual([
      [1, 'properties.time'],
      [2, 'properties.distinct_id'],
      [3, 'properties.$insert_id'],
      [4, 'properties.time'],
      [5, 'properties.time'],
      [6, 'properties.$insert_id'],
    ]);
    expect(body.failed_records[0]).toEqual({
      index: 1,
      $insert_id: 'bad-time',
      field: 'properties.time',
      message: expect.stringContaining('properties.time'),
    });

    const lines = await exported('Import Test');
    expect(lines.map((l) => l.properties.$insert_id).sort()).toEqual(['ms-time', 'ok-1']);
    const msEvent = lines.find((l) => l.properties.$insert_id === 'ms-time');
    expect(msEvent.properties.time).toBe(t0 - 7200); // milliseconds in, seconds out
    expect(msEvent.properties.long).toHaveLength(255);
    expect(msEvent.properties.distinct_id).toBe('importer-1');
  });

  it('accepts gzipped NDJSON with the token as username, and dedupes on (event, time, distinct_id, $insert_id)', async () => {
    const time = nowS() - 600;
    const lines = [
      importEvent('Dedupe Test', 'same-id', { time, version: 1 }),
      importEvent('Dedupe Test', 'same-id', { time, version: 2 }),
      importEvent('Dedupe Test', 'other-id', { time }),
    ];
    const ndjson = lines.map((l) => JSON.stringify(l)).join('\n');
    const response = await post('/import?strict=1', new Blob([gzipSync(ndjson)]), {
      authorization: TOKEN_AUTH,
      'content-type': 'application/x-ndjson',
      'content-encoding': 'gzip',
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ code: 200, num_records_imported: 3, status: 'OK' });

    const rows = await exported('Dedupe Test');
    expect(rows).toHaveLength(2);
    expect(rows.find((r) => r.properties.$insert_id === 'same-id').properties.version).toBe(2);
  });

  it('answers 413 above 10 MB and 400 above 2000 events, ingesting nothing', async () => {
    const big = JSON.stringify([importEvent('Too Big', 'big-1', { blob: 'x'.repeat(10 * 1024 * 1024) })]);
    const tooLarge = await post(`/import?strict=1&project_id=${DEMO_PROJECT.projectId}`, big, { authorization: SA_AUTH });
    expect(tooLarge.status).toBe(413);
    expect(await tooLarge.json()).toEqual({ code: 413, error: expect.stringContaining('request exceeds max limit'), status: 'Request Entity Too Large' });

    const many = JSON.stringify(Array.from({ length: 2001 }, (_, i) => importEvent('Too Many', `many-${i}`)));
    const tooMany = await post(`/import?strict=1&project_id=${DEMO_PROJECT.projectId}`, many, { authorization: SA_AUTH });
    expect(tooMany.status).toBe(400);
    expect(await exported('Too Many')).toEqual([]);
  });

  it('refuses bad credentials with the import 401 body', async () => {
    const response = await post('/import?strict=1', JSON.stringify([importEvent('X', 'x-1')]), {
      authorization: `Basic ${Buffer.from('bogus:').toString('base64')}`,
    });
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ code: 401, error: 'Invalid credentials', status: 'Unauthorized' });
  });
});

describe('emulator /track', () => {
  const trackEvent = (event: string, overrides: Record<string, unknown> = {}) => ({
    event,
    properties: { token: DEMO_PROJECT.token, time: nowS() - 60, distinct_id: 'tracker-1', ...overrides },
  });

  it('answers text/plain 1 and ingests events of the last 5 days only', async () => {
    const response = await post('/track', JSON.stringify([trackEvent('Track Test'), trackEvent('Track Test', { time: nowS() - 6 * DAY_S })]));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await response.text()).toBe('1');
    const rows = await exported('Track Test', nowS() - 7 * DAY_S);
    expect(rows).toHaveLength(1);
    expect(rows[0].properties.distinct_id).toBe('tracker-1');
    expect(rows[0].properties.token).toBeUndefined();
  });

  it('answers 0 when nothing is valid, with the reason under verbose=1', async () => {
    const old = JSON.stringify([trackEvent('Old Track', { time: nowS() - 6 * DAY_S })]);
    expect(await (await post('/track', old)).text()).toBe('0');
    const verbose = await post('/track?verbose=1', old);
    expect(await verbose.json()).toEqual({ status: 0, error: expect.stringContaining('5 days') });
    const ok = await post('/track?verbose=1', JSON.stringify([trackEvent('Verbose Track')]));
    expect(await ok.json()).toEqual({ status: 1, error: null });
    const jsonp = await post('/track?callback=done', JSON.stringify([trackEvent('Verbose Track')]));
    expect(jsonp.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(await jsonp.text()).toBe('done(1)');
  });

  it('takes the legacy form body data=<base64 JSON> and answers 1 for a bogus token without ingesting', async () => {
    const data = Buffer.from(JSON.stringify(trackEvent('Form Track'))).toString('base64');
    const form = await post('/track', `data=${encodeURIComponent(data)}`, { 'content-type': 'application/x-www-form-urlencoded' });
    expect(await form.text()).toBe('1');
    const bogus = await post('/track', JSON.stringify([trackEvent('Bogus Track', { token: 'not-a-token' })]));
    expect(await bogus.text()).toBe('1');
    expect(await exported('Form Track')).toHaveLength(1);
    expect(await exported('Bogus Track')).toEqual([]);
  });
});

describe('emulator /engage and /groups', () => {
  const update = (op: string, value: unknown, distinctId = 'engage-user') => ({ $token: DEMO_PROJECT.token, $distinct_id: distinctId, [op]: value });

  it('applies every profile operation, visible through the Query engage endpoint', async () => {
    const steps: [unknown[], Record<string, unknown>][] = [
      [[update('$set', { name: 'Ada', plan: 'Free', tags: ['a'] })], { name: 'Ada', plan: 'Free', tags: ['a'] }],
      [[update('$set_once', { name: 'Bob', first_seen: 'today' })], { name: 'Ada', first_seen: 'today' }],
      [[update('$add', { logins: 2 }), update('$add', { logins: 3 })], { logins: 5 }],
      [[update('$union', { tags: ['a', 'b', 'c'] })], { tags: ['a', 'b', 'c'] }],
      [[update('$append', { tags: 'a' })], { tags: ['a', 'b', 'c', 'a'] }],
      [[update('$remove', { tags: 'a' })], { tags: ['b', 'c'] }],
      [[update('$unset', ['plan'])], { name: 'Ada', logins: 5 }],
    ];
    for (const [batch, expected] of steps) {
      const response = await post('/engage?ip=0', JSON.stringify(batch));
      expect(await response.text()).toBe('1');
      const found = await profile('engage-user');
      expect(found.$distinct_id).toBe('engage-user');
      expect(found.$properties).toMatchObject(expected);
    }
    expect((await profile('engage-user')).$properties).not.toHaveProperty('plan');
    expect((await profile('engage-user')).$properties.$last_seen).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/);

    expect(await (await post('/engage', JSON.stringify([update('$delete', null)]))).text()).toBe('1');
    expect(await profile('engage-user')).toBeUndefined();
  });

  it('answers 0 for updates without an operation or with a bad operand, and applies nothing from them', async () => {
    const bad = [
      { $token: DEMO_PROJECT.token, $distinct_id: 'bad-user' },
      update('$add', { logins: 'many' }, 'bad-user'),
      update('$unset', 'plan', 'bad-user'),
    ];
    expect(await (await post('/engage', JSON.stringify(bad))).text()).toBe('0');
    const verbose = await post('/engage?verbose=1', JSON.stringify(bad));
    expect(await verbose.json()).toEqual({ status: 0, error: expect.any(String) });
    expect(await profile('bad-user')).toBeUndefined();
  });

  it('updates group profiles through /groups', async () => {
    const base = { $token: DEMO_PROJECT.token, $group_key: 'company', $group_id: 'Initech' };
    expect(await (await post('/groups', JSON.stringify([{ ...base, $set: { industry: 'Software', size: 50 } }]))).text()).toBe('1');
    expect(await (await post('/groups', JSON.stringify([{ ...base, $union: { offices: ['Austin'] } }]))).text()).toBe('1');
    expect(await (await post('/groups', JSON.stringify([{ ...base, $add: { size: 1 } }]))).text()).toBe('0'); // not a group operation
    const group = await profile('Initech', 'company');
    expect(group.$properties).toMatchObject({ industry: 'Software', size: 50, offices: ['Austin'] });
  });
});
