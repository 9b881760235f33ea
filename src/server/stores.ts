/**
 * What every project of one gateway shares: the Redis connections, the membership store, the budget
 * store (with its local share while Redis is away), pubsub, and the two byte-bounded caches with
 * their Redis level. Keys carry the project and credentials, so one of each serves every project.
 */
import type { Config } from '../config/types.js';
import type { Logger } from '../observability/logger.js';
import { createMembershipStore } from '../membership/create-store.js';
import type { MembershipStore } from '../membership/types.js';
import type { Metrics } from '../observability/metrics.js';
import { createGatewayPubSub } from '../pubsub/create-pubsub.js';
import type { GatewayPubSub } from '../pubsub/types.js';
import { createMemoryBudgetStore, type BudgetStore } from '../limits/store.js';
import { createRedisBudgetStore } from '../limits/redis-store.js';
import { createFallbackBudgetStore, type FallbackBudgetStore } from '../limits/fallback-store.js';
import { createResponseCache, type ResponseCache } from '../cache/response-cache.js';
import { createEntityCache, createMemoryEntityStorage, type EntityCache, type EntityStorage } from '../cache/entity-cache.js';
import { createRedisEntityStorage } from '../cache/redis-entity-storage.js';
import { createRedisResponseLevel } from '../cache/redis-response-level.js';
import { createSharedReads, type SharedReads } from '../cache/shared-reads.js';
import { ENGAGE_PAGE_SIZE } from '../upstream/endpoints.js';
import { createRedisConnections, createThrottledWarning, type RedisConnections } from '../redis/connections.js';
import { settledWithin } from './settle.js';

export interface SharedStoresOptions {
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly now: () => number;
  /** Used instead of the store `config.store` describes; then the caller closes it. */
  readonly membership?: MembershipStore | undefined;
}

export interface SharedStores {
  readonly redis: RedisConnections | undefined;
  readonly membership: MembershipStore;
  /** Set with Redis: says when the local share decides because Redis did not answer. */
  readonly fallbackBudget: FallbackBudgetStore | undefined;
  readonly budgetStore: BudgetStore;
  readonly pubsub: GatewayPubSub;
  readonly cache: ResponseCache;
  readonly entities: EntityCache;
  /** The cross-instance single flight of entity reads (with Redis and REDIS_SHARED_CACHE). */
  readonly sharedReads: SharedReads | undefined;
  /** Closes what these stores opened (not a membership store given in the options). */
  close(): Promise<void>;
}

export async function createSharedStores(config: Config, options: SharedStoresOptions): Promise<SharedStores> {
  const { logger, metrics, now } = options;
  const redis = config.redisUrl ? createRedisConnections(config.redisUrl.reveal(), logger) : undefined;
  // Without this wait the first requests would find Redis "unavailable" while it is still connecting; an
  // unreachable Redis holds the start-up no longer than this.
  if (redis)
    await settledWithin(
      redis.ping(STARTUP_REDIS_WAIT_MS).then((up) => up || waitForReady(redis.commands)),
      STARTUP_REDIS_WAIT_MS,
    );
  const localBudgetShare = config.redisOutageBudgetPercent / 100;

  const ownsMembership = options.membership === undefined;
  const membership =
    options.membership ??
    (await createMembershipStore(config.store.kind, {
      sqlitePath: config.store.sqlitePath,
      redis: redis?.commands,
      redisKeyPrefix: `${config.redisKeyPrefix}cohorts:`,
    }));
  const fallbackBudget = redis
    ? createFallbackBudgetStore({
        shared: createRedisBudgetStore(redis.commands, { keyPrefix: `${config.redisKeyPrefix}budget:` }),
        available: () => redis.health().available,
        localShare: localBudgetShare,
        onFallback: createThrottledWarning(logger, 'budget: Redis did not answer, the local share decides meanwhile'),
      })
    : undefined;
  const budgetStore: BudgetStore = fallbackBudget ?? createMemoryBudgetStore();
  const pubsub = createGatewayPubSub(
    redis
      ? {
          redis: { publish: redis.publish, subscribe: redis.subscribe },
          channelPrefix: `${config.redisKeyPrefix}pubsub:`,
          onError: createThrottledWarning(logger, 'pubsub: a Redis publish failed and its event was dropped'),
        }
      : {},
  );

  // One byte-bounded cache for every project: keys carry the project and credentials.
  // With Redis, charts, lists and pages one instance loaded serve the others too.
  const sharedHealth = redis && config.redisSharedCache ? createSharedHealth(redis, logger) : undefined;
  const sharedResponses =
    redis && sharedHealth
      ? createRedisResponseLevel({
          redis: redis.shared,
          keyPrefix: `${config.redisKeyPrefix}responses:`,
          available: sharedHealth.available,
          waitMs: config.sharedReadWaitMs,
          onError: sharedHealth.onError,
          now,
        })
      : undefined;
  const cache = createResponseCache({ maxBytes: config.cache.maxBytes, metrics, clock: { now }, shared: sharedResponses });
  // Profiles, activity and cohort members per entity, for every project likewise.
  // With Redis, a second level shared by every instance beside it, and one read per entity between instances.
  const shared = redis && sharedHealth ? createSharedLevel(redis, config, sharedHealth, now) : undefined;
  const entities = createEntityCache({
    maxBytes: config.economy.entityCacheMaxBytes,
    metrics,
    clock: { now },
    ...(shared ? { storage: shared.storage } : {}),
  });

  return {
    redis,
    membership,
    fallbackBudget,
    budgetStore,
    pubsub,
    cache,
    entities,
    sharedReads: shared?.reads,
    async close() {
      if (ownsMembership) await membership.close();
      await budgetStore.close?.();
      await redis?.close();
    },
  };
}

interface SharedHealth {
  readonly available: () => boolean;
  readonly onError: (error: unknown) => void;
}

/**
 * Whether the shared cache level may use Redis now (its connection is ready). A failed command is not a reason to stop
 * using it: under a burst a busy event loop reads replies late and commands time out while Redis is fine;
 * each request gives up the shared level at its first failure instead, so a hung Redis costs it one command timeout.
 */
function createSharedHealth(redis: RedisConnections, logger: Logger): SharedHealth {
  return {
    available: () => redis.shared.status === 'ready',
    onError: createThrottledWarning(logger, 'shared cache: a Redis command failed; the request read alone'),
  };
}

/** The entity cache's storage with a Redis level, and the cross-instance single flight on top of it. */
function createSharedLevel(redis: RedisConnections, config: Config, health: SharedHealth, now: () => number): { storage: EntityStorage; reads: SharedReads } {
  const { available, onError } = health;
  const entityKeyPrefix = `${config.redisKeyPrefix}entities:`;
  const storage = createRedisEntityStorage({
    redis: redis.shared,
    keyPrefix: entityKeyPrefix,
    local: createMemoryEntityStorage(config.economy.entityCacheMaxBytes),
    available,
    onError,
    now,
  });
  const reads = createSharedReads({
    redis: redis.shared,
    keyPrefix: `${config.redisKeyPrefix}reads:`,
    storage,
    entityKeyPrefix,
    available,
    windowMs: () => config.economy.coalesceWindowMs,
    maxWaitMs: config.economy.coalesceMaxWaitMs,
    maxIds: ENGAGE_PAGE_SIZE,
    waitMs: config.sharedReadWaitMs,
    onError,
    now,
  });
  return { storage, reads };
}

/** Longest wait at start-up for a first Redis connection. */
const STARTUP_REDIS_WAIT_MS = 2_000;

function waitForReady(redis: { status: string; once(event: 'ready', listener: () => void): unknown }): Promise<boolean> {
  return redis.status === 'ready' ? Promise.resolve(true) : new Promise((resolve) => redis.once('ready', () => resolve(true)));
}
