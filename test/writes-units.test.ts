/**
 * The pieces of the write path that need no gateway: the batcher's limits,
 * the deterministic `$insert_id`, and the gzip body of /import as it reaches
 * a real HTTP server.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { createMixpanelClient } from '../src/mixpanel/client.js';
import { resolveBaseUrls } from '../src/mixpanel/hosts.js';
import { Secret } from '../src/core/secret.js';
import { createBatcher } from '../src/writes/batcher.js';
import { deterministicInsertId, prepareEvent } from '../src/writes/events.js';

describe('batcher', () => {
  it('splits by items and by bytes, keeps each caller its own outcomes, and fails only the items of a failed batch', async () => {
    const batches: number[][] = [];
    const batcher = createBatcher<number, number>({
      maxItems: 3,
      maxBytes: 12, // "[1,2,3]" is 7 bytes; items of 4 bytes fit two a batch
      sizeOf: (item) => (item >= 1000 ? 4 : 1),
      windowMs: 5,
      async send(items) {
        batches.push([...items]);
        if (items.includes(13)) throw new Error('batch lost');
        return items.map((item) => ({ ok: true as const, value: item * 2 }));
      },
    });
    const [a, b, c] = await Promise.all([batcher.submit([1, 2]), batcher.submit([3, 4, 5, 6]), batcher.submit([1000, 2000, 3000])]);
    expect(batches).toEqual([[1, 2, 3], [4, 5, 6], [1000, 2000], [3000]]);
    expect(a.map((o) => o.ok && o.value)).toEqual([2, 4]);
    expect(b.map((o) => o.ok && o.value)).toEqual([6, 8, 10, 12]);
    expect(c.map((o) => o.ok && o.value)).toEqual([2000, 4000, 6000]);
    const failed = await Promise.all([batcher.submit([11, 12]), batcher.submit([13])]);
    expect(failed[0].every((o) => !o.ok)).toBe(true);
    expect(failed[1].every((o) => !o.ok)).toBe(true);
  });
});

describe('events', () => {
  it('derives the same $insert_id from the same event, and another from any change', () => {
    const now = Date.now();
    const base = { event: 'Buy', distinctId: 'u1', time: new Date(now - 1000), properties: { amount: 5, nested: { b: 1, a: 2 } } };
    const first = prepareEvent(base, now);
    const again = prepareEvent({ ...base, properties: { nested: { a: 2, b: 1 }, amount: 5 } }, now);
    expect('record' in first && 'record' in again && first.insertId === again.insertId).toBe(true);
    expect((first as { insertId: string }).insertId).toMatch(/^[0-9a-f]{32}$/);
    expect(deterministicInsertId('Buy', 'u1', now - 1000, { amount: 6 })).not.toBe((first as { insertId: string }).insertId);
    expect((first as { record: { properties: Record<string, unknown> } }).record.properties).toMatchObject({ ip: 0, distinct_id: 'u1', time: now - 1000 });
    const ownIp = prepareEvent({ ...base, properties: { ip: '10.0.0.1' } }, now);
    expect((ownIp as { record: { properties: Record<string, unknown> } }).record.properties['ip']).toBe('10.0.0.1');
  });
});

describe('/import body', () => {
  it('is gzipped with Content-Encoding: gzip, with strict=1 and the project id', async () => {
    const seen: { encoding?: string | undefined; url?: string | undefined; body?: unknown } = {};
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        seen.encoding = req.headers['content-encoding'];
        seen.url = req.url;
        seen.body = JSON.parse(gunzipSync(Buffer.concat(chunks)).toString('utf8'));
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 200, num_records_imported: 1, status: 'OK' }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const client = createMixpanelClient({
      projectId: '42',
      serviceAccount: { username: 'sa', secret: new Secret('s') },
      baseUrls: resolveBaseUrls('US', { baseUrl: url }),
      integrationId: 'writes-test',
    });
    try {
      const result = await client.importEvents([{ event: 'E', properties: { time: 1, distinct_id: 'u', $insert_id: 'x1' } }]);
      expect(result.num_records_imported).toBe(1);
      expect(seen.encoding).toBe('gzip');
      expect(seen.url).toMatch(/^\/import\?strict=1&project_id=42&ip=0$/);
      expect(seen.body).toEqual([{ event: 'E', properties: { time: 1, distinct_id: 'u', $insert_id: 'x1', $source: 'writes-test' } }]);
    } finally {
      await client.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
