import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { createEmulator, DEMO_PROJECT, type Emulator, type EmulatorOptions } from '../src/emulator/server.js';
import { createMixpanelClient, type MixpanelClientOptions } from '../src/mixpanel/client.js';
import { UpstreamError, UpstreamTimeoutError } from '../src/mixpanel/errors.js';
import type { BaseUrls, ExportedEvent, MixpanelClient } from '../src/mixpanel/types.js';
import { Secret } from '../src/core/secret.js';

const today = new Date().toISOString().slice(0, 10);
const daysAgo = (days: number) => new Date(Date.now() - days * 86_400_000).toISOString().slice(0, 10);
const RANGE = { fromDate: daysAgo(40), toDate: today };

const clients = new Set<MixpanelClient>();
const closers = new Set<() => Promise<void>>();
afterEach(async () => {
  await Promise.all([...clients].map((c) => c.close()));
  clients.clear();
  await Promise.all([...closers].map((close) => close()));
  closers.clear();
});

async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const emulator = await createEmulator({ size: 'small', ...options });
  closers.add(() => emulator.close());
  return emulator;
}

function client(baseUrls: BaseUrls, overrides: Partial<MixpanelClientOptions> = {}): MixpanelClient {
  const created = createMixpanelClient({
    projectId: DEMO_PROJECT.projectId,
    serviceAccount: { username: DEMO_PROJECT.username, secret: new Secret(DEMO_PROJECT.secret) },
    baseUrls,
    integrationId: 'export-test',
    ...overrides,
  });
  clients.add(created);
  return created;
}

/** Collects what an export yields and what it throws at the end, if anything. */
async function drain(events: AsyncIterable<ExportedEvent>): Promise<{ events: ExportedEvent[]; error: unknown }> {
  const collected: ExportedEvent[] = [];
  try {
    for await (const event of events) collected.push(event);
    return { events: collected, error: undefined };
  } catch (error) {
    return { events: collected, error };
  }
}

const line = (i: number) => `${JSON.stringify({ event: 'Synthetic', properties: { time: 1_700_000_000 + i, distinct_id: `u${i}` } })}\n`;

/** A loopback export host whose body the test writes by hand; reports when the client hangs up. */
async function startStreamServer(write: (response: ServerResponse) => void) {
  let resolveClosed!: () => void;
  const closed = new Promise<void>((resolve) => (resolveClosed = resolve));
  const server = createServer((_request, response) => {
    response.on('close', resolveClosed);
    write(response);
  });
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  closers.add(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { baseUrls: { query: url, export: url, ingestion: url, app: url } as BaseUrls, closed };
}

/** Writes lines forever (while the client reads), in small batches. */
function endless(response: ServerResponse): void {
  response.writeHead(200, { 'content-type': 'text/plain' });
  let i = 0;
  const pump = (): void => {
    while (!response.destroyed && response.write(line(i++)) && i % 1000 !== 0);
    if (!response.destroyed) setImmediate(pump);
  };
  pump();
}

describe('exportEvents', () => {
  it('streams 200,000 gzip-compressed events with bounded memory', { timeout: 90_000 }, async () => {
    const emulator = await startEmulator({ size: { profiles: 200, events: 200_000, days: 30, groups: 1 } });
    const mixpanel = client(emulator.baseUrls);
    const baseline = process.memoryUsage().heapUsed;
    let peakGrowth = 0;
    let count = 0;
    // The export promises no order: the events are checked by the sum of their times instead.
    let timeSum = 0;
    for await (const event of mixpanel.exportEvents(RANGE)) {
      timeSum += event.properties.time;
      count += 1;
      if (count % 5_000 === 0) peakGrowth = Math.max(peakGrowth, process.memoryUsage().heapUsed - baseline);
    }
    expect(count).toBe(200_000);
    expect(timeSum).toBe(emulator.data().events.reduce((sum, e) => sum + e.time, 0));
    // Buffering the export would need well over 100 MB (~58 MB of JSON text, far more as objects).
    expect(peakGrowth).toBeLessThan(50 * 1024 * 1024);
    expect(emulator.calls('/api/2.0/export')).toBe(1);
  });

  it('passes the export parameters (event list as a JSON array, limit, time_in_ms)', async () => {
    const emulator = await startEmulator();
    const { events, error } = await drain(client(emulator.baseUrls).exportEvents({ ...RANGE, events: ['View Page', 'Log In'], limit: 25, timeInMs: true }));
    expect(error).toBeUndefined();
    expect(events.length).toBeGreaterThan(0);
    expect(events.length).toBeLessThanOrEqual(25);
    expect(events.every((e) => e.event === 'View Page' || e.event === 'Log In')).toBe(true);
    // Milliseconds: after 2001-09-09 in ms, i.e. > 1e12.
    expect(events[0]!.properties.time).toBeGreaterThan(1e12);
    const params = emulator.callLog.find((c) => c.path === '/api/2.0/export')?.params;
    expect(params).toMatchObject({ project_id: DEMO_PROJECT.projectId, event: '["View Page","Log In"]', limit: '25', time_in_ms: 'true' });
  });

  it('yields the good records, then raises when Mixpanel ends with "terminated early"', async () => {
    const emulator = await startEmulator();
    emulator.faults.inject({ path: '/api/2.0/export', kind: 'truncate', afterLines: 100, times: 1 });
    const { events, error } = await drain(client(emulator.baseUrls).exportEvents(RANGE));
    expect(events).toHaveLength(100);
    expect(error).toBeInstanceOf(UpstreamError);
    expect((error as Error).message).toMatch(/cut the export short \("terminated early"\) after 100 events/);
  });

  it('raises on a record split across two lines, after the records before it', async () => {
    const emulator = await startEmulator();
    emulator.faults.inject({ path: '/api/2.0/export', kind: 'split-record', afterLines: 40, times: 1 });
    const { events, error } = await drain(client(emulator.baseUrls).exportEvents(RANGE));
    expect(events).toHaveLength(40);
    expect(error).toBeInstanceOf(UpstreamError);
    expect((error as Error).message).toMatch(/export was cut short: line 41 is not a complete event record \(after 40 events\)/);
  });

  it('raises when the connection drops mid-stream, after the records received', async () => {
    const stream = await startStreamServer((response) => {
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.write(line(0) + line(1) + line(2).slice(0, 20));
      setTimeout(() => response.destroy(), 20);
    });
    const { events, error } = await drain(client(stream.baseUrls).exportEvents(RANGE));
    expect(events).toHaveLength(2);
    expect(error).toBeInstanceOf(UpstreamError);
    expect((error as Error).message).toMatch(/export was cut short after 2 events/);
  });

  it('accepts a gzip body whose last line has no newline; rejects a line that is not an event', async () => {
    const good = await startStreamServer((response) => {
      response.writeHead(200, { 'content-type': 'text/plain', 'content-encoding': 'gzip' });
      response.end(gzipSync(line(0) + line(1).trimEnd()));
    });
    expect((await drain(client(good.baseUrls).exportEvents(RANGE))).events).toHaveLength(2);

    const bad = await startStreamServer((response) => {
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.end(`${line(0)}{"unexpected":true}\n${line(2)}`);
    });
    const { events, error } = await drain(client(bad.baseUrls).exportEvents(RANGE));
    expect(events).toHaveLength(1);
    expect(error).toBeInstanceOf(UpstreamError);
  });

  it('breaking out of the loop closes the connection', async () => {
    const stream = await startStreamServer(endless);
    let count = 0;
    for await (const _ of client(stream.baseUrls).exportEvents(RANGE)) if (++count === 10) break;
    expect(count).toBe(10);
    await stream.closed; // resolves only when the client hung up; the test times out otherwise
  });

  it('aborting the signal mid-stream rejects with the reason and closes the connection', async () => {
    const stream = await startStreamServer(endless);
    const controller = new AbortController();
    const reason = new Error('request cancelled');
    let count = 0;
    const run = (async () => {
      for await (const _ of client(stream.baseUrls).exportEvents(RANGE, { signal: controller.signal })) {
        if (++count === 50) controller.abort(reason);
      }
    })();
    await expect(run).rejects.toBe(reason);
    await stream.closed;
  });

  it('a slow first byte beyond timeoutMs → UpstreamTimeoutError', async () => {
    const emulator = await startEmulator();
    emulator.faults.inject({ path: '/api/2.0/export', kind: 'slow-first-byte', delayMs: 2_000, times: 1 });
    const { events, error } = await drain(client(emulator.baseUrls, { timeoutMs: 200 }).exportEvents(RANGE));
    expect(events).toHaveLength(0);
    expect(error).toBeInstanceOf(UpstreamTimeoutError);
  });

  it('a stream that stalls longer than timeoutMs between chunks → UpstreamTimeoutError', async () => {
    const stream = await startStreamServer((response) => {
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.write(line(0));
    });
    const { events, error } = await drain(client(stream.baseUrls, { timeoutMs: 300 }).exportEvents(RANGE));
    expect(events).toHaveLength(1);
    expect(error).toBeInstanceOf(UpstreamTimeoutError);
  });
});
