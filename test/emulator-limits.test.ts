import { describe, expect, it } from 'vitest';
import { AUTH, NOW, PID, startEmulator } from './helpers/emulator.js';
import { createManualClock, DEMO_PROJECT, type Emulator } from '../src/emulator/server.js';

const MINUTE = 60_000;

const start = startEmulator;

function get(emulator: Emulator, path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${emulator.url}${path}`, { ...init, headers: { authorization: AUTH, ...init.headers } });
}

const FUNNELS = `/api/2.0/funnels/list?project_id=${PID}`;
const QUERY_DOCS =
  'For more information, please consult our documentation at https://help.mixpanel.com/hc/en-us/articles/115004602563-Rate-Limits-for-Export-API-Endpoints';

describe('Query limits', () => {
  it('refuses the 61st call in a rolling hour, then admits once the oldest call leaves the window', async () => {
    const clock = createManualClock(NOW);
    const emulator = await start({ clock });
    for (let k = 0; k < 60; k++) {
      expect((await get(emulator, FUNNELS)).status).toBe(200);
      clock.advance(MINUTE - 1_000); // 60 calls over 59 emulated minutes
    }
    const refused = await get(emulator, FUNNELS);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBeNull();
    expect(await refused.json()).toEqual({
      request: FUNNELS,
      error: `Query rate limit exceeded for project_id: ${PID}. 1/5 queries running concurrently and 61/60 queries running in the last hour. ${QUERY_DOCS}`,
    });
    // The refused call consumed nothing: one emulated minute later the first call has left the window.
    clock.advance(MINUTE);
    expect((await get(emulator, FUNNELS)).status).toBe(200);
    expect((await get(emulator, FUNNELS)).status).toBe(429);
    expect(emulator.calls('/api/query/funnels/list')).toBe(63);
  });

  it('runs an hour in real seconds with a scaled clock', async () => {
    const emulator = await start({ timeScale: 3_600, limits: { query: { perHour: 3 } } });
    for (let k = 0; k < 3; k++) expect((await get(emulator, FUNNELS)).status).toBe(200);
    expect((await get(emulator, FUNNELS)).status).toBe(429);
    await emulator.clock.sleep(3_600_000); // one real second
    expect((await get(emulator, FUNNELS)).status).toBe(200);
  });

  it('refuses the 6th concurrent query with the counters in the body', async () => {
    const emulator = await start({ latencyMs: 800 });
    const responses = await Promise.all(Array.from({ length: 6 }, () => get(emulator, FUNNELS)));
    const statuses = responses.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    const refused = responses.find((r) => r.status === 429)!;
    const body = (await refused.json()) as { error: string };
    expect(body.error).toContain('6/5 queries running concurrently and 6/60 queries running in the last hour');
    // The refused call consumed nothing: a later 429 still reports 5 admitted calls plus itself.
    emulator.setLatency(0);
    emulator.faults.inject({ path: '/api/query', kind: 'rate-limit', times: 1 });
    const forced = await get(emulator, FUNNELS);
    expect(forced.status).toBe(429);
    expect(((await forced.json()) as { error: string }).error).toContain('1/5 queries running concurrently and 6/60');
  });

  it('does not count engage follow-on pages when countEngageFollowOnPages is false', async () => {
    const emulator = await start({ countEngageFollowOnPages: false, limits: { query: { perHour: 2 } } });
    const engage = (form: Record<string, string>) => get(emulator, `/api/query/engage?project_id=${PID}`, { method: 'POST', body: new URLSearchParams(form) });
    const first = (await (await engage({ page_size: '50' })).json()) as { session_id: string };
    for (let page = 1; page <= 4; page++) {
      expect((await engage({ page_size: '50', page: String(page), session_id: first.session_id })).status).toBe(200);
    }
    expect((await get(emulator, FUNNELS)).status).toBe(200);
    expect((await get(emulator, FUNNELS)).status).toBe(429);
  });

  it('counts engage follow-on pages by default', async () => {
    const emulator = await start({ limits: { query: { perHour: 2 } } });
    const engage = (form: Record<string, string>) => get(emulator, `/api/query/engage?project_id=${PID}`, { method: 'POST', body: new URLSearchParams(form) });
    const first = (await (await engage({ page_size: '50' })).json()) as { session_id: string };
    expect((await engage({ page_size: '50', page: '1', session_id: first.session_id })).status).toBe(200);
    expect((await engage({ page_size: '50', page: '2', session_id: first.session_id })).status).toBe(429);
  });
});

describe('Export limits', () => {
  const exportPath = `/api/2.0/export?project_id=${PID}&from_date=2025-05-15&to_date=2025-05-15&limit=1`;

  it('refuses the 4th call within a second with a plain-text 429 and Retry-After', async () => {
    const clock = createManualClock(NOW);
    const emulator = await start({ clock });
    for (let k = 0; k < 3; k++) expect((await get(emulator, exportPath)).status).toBe(200);
    const refused = await get(emulator, exportPath);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(refused.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await refused.text()).toMatch(/^Export rate limit exceeded for project_id: 1000001\. .* 4\/3 queries in the last second\.$/);
    clock.advance(1_000);
    expect((await get(emulator, exportPath)).status).toBe(200);
  });

  it('refuses the 61st call in an hour', async () => {
    const clock = createManualClock(NOW);
    const emulator = await start({ clock });
    for (let k = 0; k < 60; k++) {
      expect((await get(emulator, exportPath)).status).toBe(200);
      clock.advance(30_000);
    }
    const refused = await get(emulator, exportPath);
    expect(refused.status).toBe(429);
    expect(await refused.text()).toContain('61/60 queries in the last hour');
    expect(Number(refused.headers.get('retry-after'))).toBe(30 * 60);
  });
});

describe('Lexicon limits', () => {
  it('refuses the 6th request in a minute with the App error shape', async () => {
    const clock = createManualClock(NOW);
    const emulator = await start({ clock });
    const path = `/api/app/projects/${PID}/schemas`;
    for (let k = 0; k < 5; k++) expect((await get(emulator, path)).status).toBe(200);
    const refused = await get(emulator, path);
    expect(refused.status).toBe(429);
    expect(await refused.json()).toEqual({ error: expect.stringContaining('6/5'), status: 'error' });
    clock.advance(MINUTE);
    expect((await get(emulator, path)).status).toBe(200);
  });
});

describe('Ingestion limits', () => {
  it('refuses a request past the bytes-per-minute budget with the ingestion 429 body', async () => {
    const clock = createManualClock(NOW);
    const emulator = await start({ clock, limits: { ingestion: { bytesPerMinute: 600 } } });
    const body = JSON.stringify([{ event: 'Log In', properties: { token: DEMO_PROJECT.token, distinct_id: 'u1', time: Math.floor(NOW / 1000) } }]);
    const track = () => fetch(`${emulator.url}/track`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    let status = 200;
    let sent = 0;
    while (status === 200 && sent < 20) {
      status = (await track()).status;
      sent++;
    }
    expect(sent).toBe(Math.floor(600 / Buffer.byteLength(body)) + 1);
    const refused = await track();
    expect(refused.status).toBe(429);
    expect(await refused.json()).toEqual({
      code: 429,
      error: 'Project exceeded rate limits. Please retry the request with exponential backoff.',
      status: 'Too Many Requests',
    });
  });
});
