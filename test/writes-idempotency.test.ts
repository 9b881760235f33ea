/**
 * The idempotency keys of writes on each backend (memory, SQLite, Redis on
 * 6379 under a prefix of its own): the first result is replayed without
 * running the write again, another input is refused, expiry frees the key,
 * and a write that may have reached Mixpanel is not sent twice.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../src/core/errors.js';
import { UpstreamError } from '../src/mixpanel/errors.js';
import { IdempotencyConflictError, WriteOutcomeUnknownError } from '../src/writes/errors.js';
import { createIdempotency } from '../src/writes/idempotency.js';
import {
  createMemoryIdempotencyStore,
  createRedisIdempotencyStore,
  createSqliteIdempotencyStore,
  type IdempotencyStore,
} from '../src/writes/idempotency-store.js';
import { REDIS, redisSkip } from './helpers/redis.js';

const dir = mkdtempSync(join(tmpdir(), 'writes-idempotency-'));
const prefix = `test:writes:${randomUUID()}:`;
const redis = new Redis({ ...REDIS, lazyConnect: true, maxRetriesPerRequest: 1 });
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  if (redis.status === 'ready') {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  } else redis.disconnect();
});

const backends: [string, () => Promise<IdempotencyStore | undefined>][] = [
  ['memory', async () => createMemoryIdempotencyStore()],
  ['sqlite', async () => createSqliteIdempotencyStore(join(dir, `${randomUUID()}.sqlite`))],
  [
    'redis',
    async () => {
      if (await redisSkip('the Redis idempotency store')) return undefined;
      if (redis.status !== 'ready') await redis.connect();
      return createRedisIdempotencyStore(redis, prefix);
    },
  ],
];

describe.each(backends)('idempotency keys on %s', (_name, open) => {
  const request = (key: string, input: unknown, replaySafe = true) => ({
    scope: ['default', undefined, 'importEvents'],
    idempotencyKey: key,
    input,
    replaySafe,
    deadline: Date.now() + 2_000,
  });

  it('replays the first result without running the write again, and refuses the key with another input', async () => {
    const store = await open();
    if (!store) return;
    let clock = Date.now();
    const idempotency = createIdempotency({ store, ttlMs: 60_000, now: () => clock });
    let runs = 0;
    const write = async () => ({ imported: ++runs });
    expect(await idempotency.once(request('k1', { a: 1 }), write)).toEqual({ imported: 1 });
    expect(await idempotency.once(request('k1', { a: 1 }), write)).toEqual({ imported: 1 });
    // Two concurrent replays of a new key: one write.
    const both = await Promise.all([idempotency.once(request('k2', [1]), write), idempotency.once(request('k2', [1]), write)]);
    expect(both).toEqual([{ imported: 2 }, { imported: 2 }]);
    await expect(idempotency.once(request('k1', { a: 2 }), write)).rejects.toBeInstanceOf(IdempotencyConflictError);
    expect(runs).toBe(2);
    // The same key in another scope is another key.
    expect(await idempotency.once({ ...request('k1', { a: 1 }), scope: ['default', 'other-client', 'importEvents'] }, write)).toEqual({ imported: 3 });
    // The record expires: the key is free again (memory and SQLite follow the injected clock; Redis its own).
    if (_name !== 'redis') {
      clock += 61_000;
      expect(await idempotency.once(request('k1', { a: 2 }), write)).toEqual({ imported: 4 });
    }
    await idempotency.close();
  });

  it('frees the key of a write that failed before sending, and keeps the key of one that may have reached Mixpanel', async () => {
    const store = await open();
    if (!store) return;
    const idempotency = createIdempotency({ store, ttlMs: 60_000 });
    await expect(idempotency.once(request('early', 1, false), async () => Promise.reject(new InvalidArgumentError('bad', 'x')))).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    expect(await idempotency.once(request('early', 1, false), async () => 'sent')).toBe('sent');

    let sends = 0;
    const lost = async () => {
      sends += 1;
      throw new UpstreamError('connection reset', 'ingestion');
    };
    await expect(idempotency.once(request('lost', 1, false), lost)).rejects.toBeInstanceOf(UpstreamError);
    await expect(idempotency.once(request('lost', 1, false), lost)).rejects.toBeInstanceOf(WriteOutcomeUnknownError);
    expect(sends).toBe(1);
    // A replay-safe write (events with $insert_id) is simply sent again.
    await expect(idempotency.once(request('safe', 1, true), lost)).rejects.toBeInstanceOf(UpstreamError);
    await expect(idempotency.once(request('safe', 1, true), lost)).rejects.toBeInstanceOf(UpstreamError);
    expect(sends).toBe(3);
    await idempotency.close();
  });
});

it('refuses a malformed key before anything runs', async () => {
  const idempotency = createIdempotency({ store: createMemoryIdempotencyStore() });
  await expect(idempotency.once({ scope: [], idempotencyKey: 'has space', input: 1, replaySafe: true, deadline: 0 }, async () => 1)).rejects.toMatchObject({
    argument: 'idempotencyKey',
  });
});
