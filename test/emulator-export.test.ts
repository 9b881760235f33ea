import { request as httpRequest } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { AUTH, PID, startEmulator } from './helpers/emulator.js';
import type { Emulator, EmulatorOptions } from '../src/emulator/server.js';

// Export's 3/second would otherwise throttle a test that makes several calls.
const start = (options: EmulatorOptions = {}): Promise<Emulator> => startEmulator({ limits: { export: { perSecond: 1_000, perHour: 1_000 } }, ...options });

function exportUrl(emulator: Emulator, params: Record<string, string> = {}): string {
  const query = new URLSearchParams({ project_id: PID, from_date: '2025-05-10', to_date: '2025-05-15', ...params });
  return `${emulator.url}/api/2.0/export?${query}`;
}

/** The raw bytes and headers, without fetch's transparent decompression. */
function rawGet(url: string, headers: Record<string, string>): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    httpRequest(url, { headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }));
      response.on('error', reject);
    })
      .on('error', reject)
      .end();
  });
}

const lines = (text: string): string[] => text.split('\n').filter((l) => l !== '');

describe('raw export', () => {
  it('streams every event of the range as JSONL, in an order that is not sorted and differs between calls', async () => {
    const emulator = await start();
    const from = Date.UTC(2025, 4, 10) / 1000;
    const expected = emulator.data().events.filter((e) => e.time >= from && e.time < from + 6 * 86_400);
    const response = await fetch(exportUrl(emulator), { headers: { authorization: AUTH } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    const records = lines(await response.text()).map((l) => JSON.parse(l));
    expect(records).toHaveLength(expected.length);
    const first = expected.find((e) => e.insertId === records[0].properties.$insert_id)!;
    expect(records[0]).toEqual({
      event: first.event,
      properties: expect.objectContaining({
        time: first.time,
        distinct_id: first.distinctId,
        $insert_id: first.insertId,
        mp_processing_time_ms: expect.any(Number),
      }),
    });
    expect(records[0].properties.$insert_id).toMatch(/^[A-Za-z0-9-]{1,36}$/);
    expect(new Set(records.map((r) => r.properties.$insert_id))).toEqual(new Set(expected.map((e) => e.insertId)));
    // The spec promises no order, and Mixpanel no longer sorts by time: neither does the emulator, nor twice alike.
    const times = records.map((r) => r.properties.time);
    expect([...times].sort((a, b) => a - b)).not.toEqual(times);
    const again = lines(await (await fetch(exportUrl(emulator), { headers: { authorization: AUTH } })).text()).map((l) => JSON.parse(l).properties.$insert_id);
    expect(again).not.toEqual(records.map((r) => r.properties.$insert_id));
    expect([...again].sort()).toEqual(records.map((r) => r.properties.$insert_id).sort());
  });

  it('gzips bodies over 1400 bytes when asked, and not small ones', async () => {
    const emulator = await start();
    const big = await rawGet(exportUrl(emulator), { authorization: AUTH, 'accept-encoding': 'gzip' });
    expect(big.headers['content-encoding']).toBe('gzip');
    expect(big.body.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    expect(lines(gunzipSync(big.body).toString('utf8')).length).toBeGreaterThan(100);
    const small = await rawGet(exportUrl(emulator, { limit: '1' }), { authorization: AUTH, 'accept-encoding': 'gzip' });
    expect(small.headers['content-encoding']).toBeUndefined();
    expect(lines(small.body.toString('utf8'))).toHaveLength(1);
    const plain = await rawGet(exportUrl(emulator), { authorization: AUTH });
    expect(plain.headers['content-encoding']).toBeUndefined();
    // The same events (each call has its own order).
    expect(lines(plain.body.toString('utf8')).sort()).toEqual(lines(gunzipSync(big.body).toString('utf8')).sort());
  });

  it('applies event, where, limit and time_in_ms', async () => {
    const emulator = await start();
    const text = await (
      await fetch(exportUrl(emulator, { event: '["Purchase","Log In"]', where: 'properties["$browser"] == "Chrome"', time_in_ms: 'true', limit: '25' }), {
        headers: { authorization: AUTH },
      })
    ).text();
    const records = lines(text).map((l) => JSON.parse(l));
    expect(records).toHaveLength(25);
    for (const r of records) {
      expect(['Purchase', 'Log In']).toContain(r.event);
      expect(r.properties.$browser).toBe('Chrome');
      expect(r.properties.time).toBeGreaterThan(1e12);
    }
  });

  it('answers errors as plain text: limit over 100000, bad dates, bad credentials', async () => {
    const emulator = await start();
    const over = await fetch(exportUrl(emulator, { limit: '100001' }), { headers: { authorization: AUTH } });
    expect(over.status).toBe(400);
    expect(over.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await over.text()).toBe('limit cannot be over 100000');
    const noDate = await fetch(`${emulator.url}/api/2.0/export?project_id=${PID}&from_date=2025-05-10`, { headers: { authorization: AUTH } });
    expect(noDate.status).toBe(400);
    expect(await noDate.text()).toBe('to_date is a required parameter');
    const unauthorized = await fetch(exportUrl(emulator), { headers: { authorization: 'Basic bm9wZTpub3Bl' } });
    expect(unauthorized.status).toBe(401);
    expect(await unauthorized.text()).toBe('Unable to authenticate request');
  });
});

describe('export faults', () => {
  it('ends a stream with the literal "terminated early" line', async () => {
    const emulator = await start();
    emulator.faults.inject({ path: '/api/2.0/export', kind: 'truncate', afterLines: 3, times: 1 });
    const cut = lines(await (await fetch(exportUrl(emulator), { headers: { authorization: AUTH } })).text());
    expect(cut).toHaveLength(4);
    expect(cut.at(-1)).toBe('terminated early');
    const whole = lines(await (await fetch(exportUrl(emulator), { headers: { authorization: AUTH } })).text());
    expect(whole.length).toBeGreaterThan(4);
    expect(whole.at(-1)).not.toBe('terminated early');
  });

  it('splits one record across two lines', async () => {
    const emulator = await start();
    emulator.faults.inject({ path: /export/, kind: 'split-record', afterLines: 1 });
    const got = lines(await (await fetch(exportUrl(emulator, { limit: '3' }), { headers: { authorization: AUTH } })).text());
    expect(got).toHaveLength(4);
    expect(() => JSON.parse(got[0]!)).not.toThrow();
    expect(() => JSON.parse(got[1]!)).toThrow();
    expect(JSON.parse(got[1]! + got[2]!)).toHaveProperty('event');
  });

  it('answers injected statuses, delays the first byte, and hangs until the client gives up', async () => {
    const emulator = await start();
    emulator.faults.inject({ path: '/api/2.0/export', kind: 'status', status: 502, body: 'Bad Gateway', times: 1 });
    const failed = await fetch(exportUrl(emulator), { headers: { authorization: AUTH } });
    expect(failed.status).toBe(502);
    expect(await failed.text()).toBe('Bad Gateway');

    emulator.faults.inject({ path: '/api/2.0/export', kind: 'slow-first-byte', delayMs: 50, times: 1 });
    const slow = await fetch(exportUrl(emulator, { limit: '2' }), { headers: { authorization: AUTH } });
    expect(lines(await slow.text())).toHaveLength(2);

    emulator.faults.inject({ path: '/api/2.0/export', kind: 'hang', times: 1 });
    await expect(fetch(exportUrl(emulator), { headers: { authorization: AUTH }, signal: AbortSignal.timeout(200) })).rejects.toThrow();
    expect(emulator.callLog.at(-1)).toMatchObject({ path: '/api/2.0/export', status: 0 });
    expect(emulator.calls('/api/2.0/export')).toBe(3);
    expect((await fetch(exportUrl(emulator, { limit: '1' }), { headers: { authorization: AUTH } })).status).toBe(200);
  });
});
