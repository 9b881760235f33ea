/**
 * Picks the membership backend named by the configuration.
 */
import type { Redis } from 'ioredis';
import type { StoreKind } from '../config/types.js';
import { createMemoryMembershipStore } from './memory-store.js';
import { createRedisMembershipStore } from './redis-store.js';
import { createSqliteMembershipStore } from './sqlite-store.js';
import type { MembershipStore } from './types.js';

export interface MembershipStoreOptions {
  /** SQLite database file; required for `sqlite`. */
  readonly sqlitePath?: string | undefined;
  /** Redis connection (the caller keeps ownership); required for `redis`. */
  readonly redis?: Redis | undefined;
  /** Prefix of the Redis keys; default `mpgw:cohorts:`. */
  readonly redisKeyPrefix?: string | undefined;
}

export async function createMembershipStore(kind: StoreKind, options: MembershipStoreOptions = {}): Promise<MembershipStore> {
  switch (kind) {
    case 'memory':
      return createMemoryMembershipStore();
    case 'sqlite':
      if (!options.sqlitePath) throw new Error('The sqlite membership store needs a database path');
      return createSqliteMembershipStore({ path: options.sqlitePath });
    case 'redis':
      if (!options.redis) throw new Error('The redis membership store needs a Redis connection (set the Redis URL)');
      return createRedisMembershipStore({ redis: options.redis, keyPrefix: options.redisKeyPrefix });
  }
}
