/**
 * Where idempotency records live: the backend the membership store uses
 * (memory, the embedded SQLite file, or Redis to share keys between
 * instances), picked the same way (config `MEMBERSHIP_STORE`). Every record
 * expires: a pending claim after PENDING_TTL_MS (its instance may have died),
 * a finished write after the configured TTL.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { Redis } from 'ioredis';
import type { StoreKind } from '../config/types.js';

/** What a finished write answered: its result, or the failure replays report. */
export type StoredOutcome = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly code: string; readonly message: string };

export interface IdempotencyRecord {
  /** Hash of the write's input: the same key with another input is a conflict. */
  readonly fingerprint: string;
  readonly state: 'pending' | 'done';
  readonly outcome?: StoredOutcome | undefined;
}

export interface IdempotencyStore {
  /**
   * Claims `key` as a pending write of `fingerprint`, atomically. Resolves
   * undefined when claimed, or with the live record that holds the key.
   */
  claim(key: string, fingerprint: string, ttlMs: number, now: number): Promise<IdempotencyRecord | undefined>;
  /** Stores the finished write under `key` for `ttlMs`. */
  complete(key: string, record: IdempotencyRecord, ttlMs: number, now: number): Promise<void>;
  /** Drops the key (the write failed before anything was sent: a retry may send it). */
  release(key: string): Promise<void>;
  /** Reads the live record, if any. */
  get(key: string, now: number): Promise<IdempotencyRecord | undefined>;
  close(): Promise<void>;
}

export interface IdempotencyStoreOptions {
  readonly sqlitePath?: string | undefined;
  /** Redis connection, owned by the caller. */
  readonly redis?: Redis | undefined;
  /** Prefix of the Redis keys. Default `mpgw:idempotency:`. */
  readonly redisKeyPrefix?: string | undefined;
}

export function createIdempotencyStore(kind: StoreKind, options: IdempotencyStoreOptions = {}): IdempotencyStore {
  switch (kind) {
    case 'memory':
      return createMemoryIdempotencyStore();
    case 'sqlite':
      if (!options.sqlitePath) throw new Error('The sqlite idempotency store needs a database path');
      return createSqliteIdempotencyStore(options.sqlitePath);
    case 'redis':
      if (!options.redis) throw new Error('The redis idempotency store needs a Redis connection (set the Redis URL)');
      return createRedisIdempotencyStore(options.redis, options.redisKeyPrefix ?? 'mpgw:idempotency:');
  }
}

export function createMemoryIdempotencyStore(): IdempotencyStore {
  const records = new Map<string, { record: IdempotencyRecord; expiresAt: number }>();
  const live = (key: string, now: number) => {
    const entry = records.get(key);
    if (entry && entry.expiresAt <= now) records.delete(key);
    return entry && entry.expiresAt > now ? entry.record : undefined;
  };
  const sweep = (now: number) => {
    for (const [key, entry] of records) if (entry.expiresAt <= now) records.delete(key);
  };
  let claims = 0;
  return {
    async claim(key, fingerprint, ttlMs, now) {
      if (++claims % 1000 === 0) sweep(now);
      const existing = live(key, now);
      if (existing) return existing;
      records.set(key, { record: { fingerprint, state: 'pending' }, expiresAt: now + ttlMs });
      return undefined;
    },
    async complete(key, record, ttlMs, now) {
      records.set(key, { record, expiresAt: now + ttlMs });
    },
    async release(key) {
      records.delete(key);
    },
    async get(key, now) {
      return live(key, now);
    },
    async close() {
      records.clear();
    },
  };
}

interface Row {
  fingerprint: string;
  state: string;
  outcome: string | null;
}

const fromRow = (row: Row): IdempotencyRecord => ({
  fingerprint: row.fingerprint,
  state: row.state === 'done' ? 'done' : 'pending',
  outcome: row.outcome === null ? undefined : (JSON.parse(row.outcome) as StoredOutcome),
});

/** Its own connection to the membership file (WAL lets both connections write). */
export function createSqliteIdempotencyStore(path: string): IdempotencyStore {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 5000');
  db.exec(`CREATE TABLE IF NOT EXISTS write_idempotency (
    key TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, state TEXT NOT NULL, outcome TEXT, expires_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS write_idempotency_by_expiry ON write_idempotency (expires_at);`);
  const sql = {
    expire: db.prepare('DELETE FROM write_idempotency WHERE expires_at <= ?'),
    insert: db.prepare("INSERT OR IGNORE INTO write_idempotency (key, fingerprint, state, outcome, expires_at) VALUES (?, ?, 'pending', NULL, ?)"),
    get: db.prepare<[string, number], Row>('SELECT fingerprint, state, outcome FROM write_idempotency WHERE key = ? AND expires_at > ?'),
    put: db.prepare('INSERT OR REPLACE INTO write_idempotency (key, fingerprint, state, outcome, expires_at) VALUES (?, ?, ?, ?, ?)'),
    remove: db.prepare('DELETE FROM write_idempotency WHERE key = ?'),
  };
  const claim = db.transaction((key: string, fingerprint: string, expiresAt: number, now: number): IdempotencyRecord | undefined => {
    sql.expire.run(now);
    if (sql.insert.run(key, fingerprint, expiresAt).changes === 1) return undefined;
    const row = sql.get.get(key, now);
    return row ? fromRow(row) : undefined;
  });
  return {
    async claim(key, fingerprint, ttlMs, now) {
      return claim(key, fingerprint, now + ttlMs, now);
    },
    async complete(key, record, ttlMs, now) {
      sql.put.run(key, record.fingerprint, record.state, record.outcome === undefined ? null : JSON.stringify(record.outcome), now + ttlMs);
    },
    async release(key) {
      sql.remove.run(key);
    },
    async get(key, now) {
      const row = sql.get.get(key, now);
      return row ? fromRow(row) : undefined;
    },
    async close() {
      db.close();
    },
  };
}

/** SET NX claims atomically across instances; PX makes Redis expire the record itself. */
export function createRedisIdempotencyStore(redis: Redis, keyPrefix: string): IdempotencyStore {
  const parse = (text: string | null): IdempotencyRecord | undefined => (text === null ? undefined : (JSON.parse(text) as IdempotencyRecord));
  return {
    async claim(key, fingerprint, ttlMs) {
      const claimed = await redis.set(keyPrefix + key, JSON.stringify({ fingerprint, state: 'pending' }), 'PX', ttlMs, 'NX');
      if (claimed === 'OK') return undefined;
      return parse(await redis.get(keyPrefix + key));
    },
    async complete(key, record, ttlMs) {
      await redis.set(keyPrefix + key, JSON.stringify(record), 'PX', ttlMs);
    },
    async release(key) {
      await redis.del(keyPrefix + key);
    },
    async get(key) {
      return parse(await redis.get(keyPrefix + key));
    },
    async close() {
      // The connection belongs to the caller.
    },
  };
}
