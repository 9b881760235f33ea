/**
 * GET /projects/{key}/events.ndjson: a range's raw events streamed as NDJSON,
 * behind the API keys, one export call through the Export budget, read from
 * Mixpanel no faster than the client takes it (so memory does not grow with the range).
 */
import { once } from 'node:events';
import { get } from 'node:http';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createEmulator } from '../src/emulator/server.js';
import { startGateway } from './helpers/gateway.js';
import { restExport } from './helpers/schema.js';

const KEY = 'download-test-key-0123456789';
const LIMITS = { export: { perSecond: 1_000, perHour: 10_000 } };
const dayOf = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

function download(url: string, headers: Record<string, string> = {}): Promise<{ status: number; type: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    get(url, { headers }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, type: response.headers['content-type'], body }));
      response.on('error', reject);
    }).on('error', reject);
  });
}

describe('NDJSON download', () => {
  it('streams every event of the range, filtered like export, behind the API keys, in one export call', async () => {
    const emulator = await createEmulator({ size: 'small', limits: LIMITS });
    const gw = await startGateway({ emulator, env: { GATEWAY_API_KEYS: KEY } });
    try {
      const from = dayOf(emulator.clock.now() - 3 * 86_400_000);
      const to = dayOf(emulator.clock.now());
      const expected = await restExport(emulator, { from_date: from, to_date: to, event: '["Purchase","Log In"]' });
      emulator.resetCalls();
      const url = `${gw.url}/projects/default/events.ndjson?from=${from}&to=${to}&event=Purchase&event=Log%20In`;

      expect((await download(url)).status).toBe(401);
      // A page on another origin cannot trigger one, key or not.
      expect((await download(url, { authorization: `Bearer ${KEY}`, origin: 'https://evil.example' })).status).toBe(403);
      expect((await download(url, { authorization: `Bearer ${KEY}`, 'sec-fetch-site': 'cross-site' })).status).toBe(403);
      expect(emulator.calls('/api/2.0/export')).toBe(0);

      const ok = await download(url, { authorization: `Bearer ${KEY}` });
      expect(ok.status).toBe(200);
      expect(ok.type).toMatch(/^application\/x-ndjson/);
      const records = ok.body
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as { event: string; properties: Record<string, unknown> });
      expect(records.map((r) => r.properties['$insert_id']).sort()).toEqual(expected.map((r) => r.properties['$insert_id']).sort());
      expect(records.every((r) => r.event === 'Purchase' || r.event === 'Log In')).toBe(true);
      expect(emulator.calls('/api/2.0/export')).toBe(1);

      const bad = await download(`${gw.url}/projects/default/events.ndjson?from=${to}&to=${from}`, { authorization: `Bearer ${KEY}` });
      expect(bad.status).toBe(400);
      expect(JSON.parse(bad.body).errors[0].extensions).toEqual({ code: 'INVALID_ARGUMENT', argument: 'from' });
      // Mixpanel refuses a `where` it cannot evaluate: the client's error, passed on as 400.
      const refused = await download(
        `${gw.url}/projects/default/events.ndjson?from=${from}&to=${to}&where=${encodeURIComponent('properties["$browser"] and true')}`,
        {
          authorization: `Bearer ${KEY}`,
        },
      );
      expect(refused.status).toBe(400);
      expect(emulator.calls('/api/2.0/export')).toBe(2);
      const unknown = await download(`${gw.url}/projects/nope/events.ndjson?from=${from}&to=${to}`, { authorization: `Bearer ${KEY}` });
      expect(unknown.status).toBe(404);
      expect(emulator.calls('/api/2.0/export')).toBe(2);
    } finally {
      await gw.close();
      await emulator.close();
    }
  });

  it('spends the Export budget: past it, a download is refused with 429 before any call', async () => {
    const emulator = await createEmulator({ size: 'small', limits: LIMITS });
    const gw = await startGateway({ emulator, env: { LIMIT_EXPORT_PER_HOUR: '1', REQUEST_DEADLINE_MS: '200' } });
    try {
      const today = dayOf(emulator.clock.now());
      const url = `${gw.url}/projects/default/events.ndjson?from=${today}&to=${today}`;
      expect((await download(url)).status).toBe(200);
      const refused = await download(url);
      expect(refused.status).toBe(429);
      expect(JSON.parse(refused.body).errors[0].extensions.code).toBe('MIXPANEL_RATE_LIMITED');
      expect(emulator.calls('/api/2.0/export')).toBe(1);
    } finally {
      await gw.close();
      await emulator.close();
    }
  });

  it('holds one socket buffer, not the range, while a slow client reads a large range', async () => {
    const emulator = await createEmulator({ size: { profiles: 2_000, events: 150_000, days: 10, groups: 10 }, limits: LIMITS });
    // A TCP relay between the gateway and Mixpanel counts what the gateway has read upstream.
    let upstreamBytes = 0;
    const relay = createServer((inbound) => {
      const outbound = connect(Number(new URL(emulator.url).port), '127.0.0.1');
      inbound.pipe(outbound);
      outbound.on('data', (chunk: Buffer) => (upstreamBytes += chunk.length));
      outbound.pipe(inbound);
      inbound.on('error', () => outbound.destroy());
      outbound.on('error', () => inbound.destroy());
    });
    relay.listen(0, '127.0.0.1');
    await once(relay, 'listening');
    const gw = await startGateway({ emulator, env: { MIXPANEL_BASE_URL: `http://127.0.0.1:${(relay.address() as AddressInfo).port}` } });
    try {
      const from = dayOf(emulator.clock.now() - 10 * 86_400_000);
      const to = dayOf(emulator.clock.now());
      let lines = 0;
      let bytes = 0;
      let upstreamDuringPause = 0;
      let heldDuringPause = 0;
      const sockets = new Set<Socket>();
      gw.gateway.server.on('connection', (socket: Socket) => sockets.add(socket));
      await new Promise<void>((resolve, reject) => {
        get(`${gw.url}/projects/default/events.ndjson?from=${from}&to=${to}`, (response) => {
          expect(response.statusCode).toBe(200);
          let paused = false;
          response.on('data', (chunk: Buffer) => {
            bytes += chunk.length;
            for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines += 1;
            if (!paused) {
              // A client that stops reading: the gateway must stop reading Mixpanel too, not buffer the range.
              paused = true;
              response.pause();
              // Wait until the gateway stops reading upstream (no growth for 750 ms), then take the rest.
              let last = -1;
              let still = 0;
              const poll = setInterval(() => {
                still = upstreamBytes === last ? still + 1 : 0;
                last = upstreamBytes;
                if (still < 3) return;
                clearInterval(poll);
                upstreamDuringPause = upstreamBytes;
                // Bytes the gateway holds in memory for the client (the kernel's socket buffers aside).
                heldDuringPause = Math.max(0, ...[...sockets].map((socket) => socket.writableLength));
                response.resume();
              }, 250);
            }
          });
          response.on('end', () => resolve());
          response.on('error', reject);
        }).on('error', reject);
      });
      expect(lines).toBe(150_000);
      expect(bytes).toBeGreaterThan(30 * 1024 * 1024);
      // While the client waited, the gateway held no more than a socket's high-water mark: the rest sat in
      // the kernel's buffers or still upstream. (Whether Mixpanel's side was still sending depends on how
      // much loopback's autotuned kernel buffers absorb, several MiB each way, so only the gateway's own
      // memory is asserted; without backpressure it holds tens of MiB here.)
      expect(upstreamDuringPause).toBeGreaterThan(0);
      expect(heldDuringPause).toBeLessThan(1024 * 1024);
      expect(emulator.calls('/api/2.0/export')).toBe(1);
    } finally {
      await gw.close();
      relay.close();
      await emulator.close();
    }
  }, 60_000);
});
