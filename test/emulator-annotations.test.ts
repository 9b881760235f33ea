import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createEmulator, DEMO_PROJECT, type Emulator } from '../src/emulator/server.js';

const AUTH = `Basic ${Buffer.from(`${DEMO_PROJECT.username}:${DEMO_PROJECT.secret}`).toString('base64')}`;
const BASE = `/api/app/projects/${DEMO_PROJECT.projectId}/annotations`;

let emulator: Emulator;
beforeEach(async () => {
  emulator = await createEmulator({ size: 'small' });
});
afterEach(async () => {
  await emulator.close();
});

async function call(method: string, path: string, body?: unknown, authorization = AUTH) {
  const response = await fetch(`${emulator.url}${path}`, {
    method,
    headers: { authorization, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as any };
}

describe('emulator annotations', () => {
  it('creates tags and annotations, then reads, patches and deletes them', async () => {
    const release = await call('POST', `${BASE}/tags`, { name: 'test-release' });
    expect(release.status).toBe(200);
    expect(release.body).toEqual({ id: expect.any(Number), name: 'test-release', project_id: Number(DEMO_PROJECT.projectId), has_annotations: false });
    // Creating an existing name returns that tag.
    expect((await call('POST', `${BASE}/tags`, { name: 'test-release' })).body).toEqual(release.body);
    const incident = (await call('POST', `${BASE}/tags`, { name: 'test-incident' })).body;

    const created = await call('POST', BASE, { date: '2031-02-15 12:00:00', description: 'Launched v2', tags: [release.body.id] });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      status: 'ok',
      results: {
        id: expect.any(Number),
        date: '2031-02-15 12:00:00',
        description: 'Launched v2',
        user: { id: expect.any(Number), first_name: expect.any(String), last_name: expect.any(String) },
        tags: [{ id: release.body.id, name: 'test-release' }],
      },
    });
    const id = created.body.results.id as number;

    expect((await call('GET', `${BASE}/${id}`)).body).toEqual({ status: 'ok', results: created.body.results });

    const tags = await call('GET', `${BASE}/tags`);
    expect(Array.isArray(tags.body)).toBe(true);
    expect(tags.body.find((t: any) => t.name === 'test-release').has_annotations).toBe(true);
    expect(tags.body.find((t: any) => t.name === 'test-incident').has_annotations).toBe(false);

    const patched = await call('PATCH', `${BASE}/${id}`, { description: 'Launched v2.0', tags: [incident.id] });
    expect(patched.status).toBe(200);
    expect(patched.body.results).toMatchObject({
      id,
      date: '2031-02-15 12:00:00',
      description: 'Launched v2.0',
      tags: [{ id: incident.id, name: 'test-incident' }],
    });

    expect(await call('DELETE', `${BASE}/${id}`)).toEqual({ status: 200, body: { status: 'ok', results: { id } } });
    // No 404 is documented for an unknown id (only 200/401/403): a client error, not a promise.
    expect(await call('GET', `${BASE}/${id}`)).toEqual({ status: 400, body: { error: expect.any(String), status: 'error' } });
    expect((await call('DELETE', `${BASE}/${id}`)).status).toBe(400);
  });

  it('filters the list by camelCase fromDate/toDate, inclusive', async () => {
    for (const date of ['2031-03-01 00:00:00', '2031-03-02 23:59:59', '2031-03-03 08:00:00']) {
      expect((await call('POST', BASE, { date, description: date })).status).toBe(201);
    }
    const { status, body } = await call('GET', `${BASE}?fromDate=2031-03-02&toDate=2031-03-03`);
    expect(status).toBe(200);
    expect(body.status).toBe('ok');
    expect(body.results.map((a: any) => a.date)).toEqual(['2031-03-02 23:59:59', '2031-03-03 08:00:00']);
    // snake_case is not the API's spelling: it filters nothing.
    const all = await call('GET', `${BASE}?from_date=2031-03-02`);
    expect(all.body.results.length).toBeGreaterThanOrEqual(3);
  });

  it('answers 400 for invalid input and 401 without credentials', async () => {
    for (const body of [
      { description: 'no date' },
      { date: '2031-02-15', description: 'date without time' },
      { date: '2031-02-15 12:00:00' },
      { date: '2031-02-15 12:00:00', description: 'x', tags: [987654] },
    ]) {
      const response = await call('POST', BASE, body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body).toEqual({ error: expect.any(String), status: 'error' });
    }
    expect((await call('GET', `${BASE}?fromDate=March`)).status).toBe(400);
    expect((await call('POST', `${BASE}/tags`, {})).status).toBe(400);
    expect((await call('GET', BASE, undefined, 'Basic bm9ib2R5Om5vcGU=')).status).toBe(401);
  });
  it('answers a malformed percent-escape in a path segment with 400, not 500', async () => {
    const response = await call('GET', `${BASE}/%E0%A4%A`);
    expect(response).toEqual({ status: 400, body: { error: expect.any(String), status: 'error' } });
  });
});
