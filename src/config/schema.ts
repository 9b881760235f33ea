/**
 * Every plain environment variable of the gateway, as one declarative schema: each section is a zod
 * object whose fields are the configuration's, each leaf the variable it reads with its default and
 * range (variables.ts). Types are inferred from it (types.ts); .env.example documents each variable.
 * What depends on several variables (the MIXPANEL_* project, webhook credentials, the store's and
 * the schema policy's defaults) is read beside it, in environment.ts and index.ts; the JSON settings
 * have their own schemas (projects-file.ts, api-keys.ts).
 */
import { z } from 'zod';
import { DOCUMENTED_LIMITS } from '../limits/defaults.js';
import { REGIONS } from '../mixpanel/hosts.js';
import { Secret } from '../core/secret.js';
import {
  baseUrl,
  flag,
  integer,
  matching,
  oneOf,
  optionalFlag,
  optionalOneOf,
  optionalText,
  originList,
  quote,
  secretUrl,
  text,
  timezone,
  urlPath,
} from './variables.js';

const MIB = 1024 * 1024;
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export const DEFAULT_INTEGRATION_ID = 'mixpanel-graphql-gateway';
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export const STORE_KINDS = ['memory', 'sqlite', 'redis'] as const;
const LIMIT_RANGE = [1, 1_000_000] as const;

/** What every project starts from: region, hosts, the documented limits adjusted by LIMIT_*, timezone. */
export const projectDefaultsSchema = z.object({
  region: oneOf('MIXPANEL_REGION', REGIONS, 'US', { normalize: 'upper' }),
  /** Per-family base-URL overrides. */
  overrides: z.object({
    query: baseUrl('MIXPANEL_QUERY_BASE_URL'),
    export: baseUrl('MIXPANEL_EXPORT_BASE_URL'),
    ingestion: baseUrl('MIXPANEL_INGESTION_BASE_URL'),
    app: baseUrl('MIXPANEL_APP_BASE_URL'),
  }),
  baseUrl: baseUrl('MIXPANEL_BASE_URL'),
  /** Shaped as ProjectLimits; each defaults to Mixpanel's documented limit (limits/defaults.ts). */
  limits: z.object({
    query: z.object({
      perHour: integer('LIMIT_QUERY_PER_HOUR', DOCUMENTED_LIMITS.query.perHour!, ...LIMIT_RANGE),
      concurrent: integer('LIMIT_QUERY_CONCURRENT', DOCUMENTED_LIMITS.query.concurrent!, ...LIMIT_RANGE),
    }),
    export: z.object({
      perHour: integer('LIMIT_EXPORT_PER_HOUR', DOCUMENTED_LIMITS.export.perHour!, ...LIMIT_RANGE),
      perSecond: integer('LIMIT_EXPORT_PER_SECOND', DOCUMENTED_LIMITS.export.perSecond!, ...LIMIT_RANGE),
      concurrent: integer('LIMIT_EXPORT_CONCURRENT', DOCUMENTED_LIMITS.export.concurrent!, ...LIMIT_RANGE),
    }),
    lexicon: z.object({ perMinute: integer('LIMIT_LEXICON_PER_MINUTE', DOCUMENTED_LIMITS.lexicon.perMinute!, ...LIMIT_RANGE) }),
    // No variable: Mixpanel documents no call limit for them.
    app: z.object({}),
    ingestion: z.object({}),
  }),
  /** Whether engage pages after the first of a session count against the hourly Query limit. */
  countEngageFollowOnPages: flag('COUNT_ENGAGE_FOLLOW_ON_PAGES', true),
  timezone: timezone('MIXPANEL_TIMEZONE', 'UTC'),
});

export const redisUrlSchema = z.object({
  redisUrl: secretUrl('REDIS_URL', ['redis:', 'rediss:'], (raw) => new Secret(raw)),
});

export const graphqlPathSchema = z.object({ graphqlPath: urlPath('GRAPHQL_PATH', '/graphql') });

/** The cohort-sync receiver, but its credentials (read together in index.ts). */
export const webhookSchema = z.object({
  path: urlPath('WEBHOOK_PATH', '/webhooks/mixpanel/cohorts'),
  maxBodyBytes: integer('WEBHOOK_MAX_BODY_BYTES', 5 * MIB, 1024, 1024 * MIB),
  /** A staged full sync whose pages stop arriving is dropped after this long. */
  sessionTtlMs: integer('WEBHOOK_SESSION_TTL_MS', 6 * HOUR, SECOND, 7 * DAY),
  /** Failed authentications one source address may make per `authFailureWindowMs` before it gets 429. */
  maxAuthFailures: integer('WEBHOOK_MAX_AUTH_FAILURES', 10, 1, 1_000_000),
  /** Window of `maxAuthFailures`: a failure stops counting after this long. */
  authFailureWindowMs: integer('WEBHOOK_AUTH_FAILURE_WINDOW_MS', MINUTE, SECOND, DAY),
});

export const cacheSchema = z.object({
  /** Upper bound of the shared response cache, in bytes of serialised JSON. */
  maxBytes: integer('CACHE_MAX_BYTES', 64 * MIB, 0, 64 * 1024 * MIB),
  /** TTLs per kind of data, in ms. */
  ttlMs: z.object({
    lexicon: integer('CACHE_TTL_LEXICON_MS', 10 * MINUTE, 0, 30 * DAY),
    cohorts: integer('CACHE_TTL_COHORTS_MS', 5 * MINUTE, 0, 30 * DAY),
    profiles: integer('CACHE_TTL_PROFILES_MS', 60 * SECOND, 0, 30 * DAY),
    analyticsClosed: integer('CACHE_TTL_ANALYTICS_CLOSED_MS', 6 * HOUR, 0, 30 * DAY),
    analyticsToday: integer('CACHE_TTL_ANALYTICS_TODAY_MS', 60 * SECOND, 0, 30 * DAY),
    events: integer('CACHE_TTL_EVENTS_MS', 60 * SECOND, 0, 30 * DAY),
    annotations: integer('CACHE_TTL_ANNOTATIONS_MS', 5 * MINUTE, 0, 30 * DAY),
  }),
  /** How long past its TTL an entry may still be served while it refreshes or while Mixpanel fails. */
  staleMs: integer('CACHE_STALE_MS', 5 * MINUTE, 0, 30 * DAY),
});

/** How the gateway spends Mixpanel calls across requests (README, "Rate limits"). */
export const economySchema = z.object({
  /** Whether reads of different requests merge into one call (COALESCE). */
  coalesce: flag('COALESCE', true),
  /**
   * How long a merged batch stays open after its latest id, in ms, when the
   * family's budget is untouched; it grows up to 4× as the window is spent,
   * and is 0 for families without a per-hour or per-minute limit.
   */
  coalesceWindowMs: integer('COALESCE_WINDOW_MS', 50, 0, 10 * SECOND),
  /** The most a batch is held past its first id, in ms. */
  coalesceMaxWaitMs: integer('COALESCE_MAX_WAIT_MS', 500, 0, 60 * SECOND),
  /** Upper bound of the entity cache (profiles, activity, cohort members), in bytes. */
  entityCacheMaxBytes: integer('CACHE_ENTITY_MAX_BYTES', 32 * MIB, 0, 64 * 1024 * MIB),
  /** How long an id Mixpanel does not know is remembered as absent, in ms. */
  absentTtlMs: integer('CACHE_TTL_ABSENT_MS', 10 * SECOND, 0, DAY),
  /** How long past CACHE_STALE_MS data is kept to stand in, marked stale, for a read the budget refuses. */
  lastResortMs: integer('CACHE_LAST_RESORT_MS', HOUR, 0, 7 * DAY),
  /** Whether hourly calls are paced: a burst, then the rest of the hour spread evenly. */
  pacing: flag('BUDGET_PACING', true),
  /** Percent of each hourly window background refreshes never spend. */
  interactiveReservePercent: integer('BUDGET_INTERACTIVE_RESERVE_PERCENT', 20, 0, 90),
  /** Percent of each hourly window a lone API-key client leaves for the next one. */
  newcomerReservePercent: integer('FAIR_SHARE_NEWCOMER_RESERVE_PERCENT', 25, 0, 90),
  /** Most cohort reads one operation's `Profile.cohorts` may start; the rest load in the background. */
  profileCohortsMaxCalls: integer('PROFILE_COHORTS_MAX_CALLS', 4, 1, 1000),
  /**
   * Most engage pages (1,000 profiles each) a read-ahead of the whole user-profile listing may send,
   * page 0 included: the first profile missing from the entity cache lists them all when page 0's
   * `total` says they fit this and what the Query budget can spare. 0 turns read-ahead off.
   */
  profileReadAheadMaxPages: integer('PROFILE_READ_AHEAD_MAX_PAGES', 20, 0, 1000),
});

/** Writes through the gateway (src/writes). */
export const writesSchema = z.object({
  /** How long a write batch that is not full waits for the next write of any client, in ms; at most 10 times that in all. */
  batchWindowMs: integer('WRITE_BATCH_WINDOW_MS', 20, 0, 10 * SECOND),
  /** How long Lexicon edits wait to be merged into one upload, in ms. */
  lexiconWindowMs: integer('LEXICON_EDIT_WINDOW_MS', 200, 0, 10 * SECOND),
  /** How long an idempotency key remembers its write's result, in ms. */
  idempotencyTtlMs: integer('IDEMPOTENCY_TTL_MS', 24 * HOUR, SECOND, 30 * 24 * HOUR),
  /**
   * Which ID Merge API the projects use: `original` accepts `$merge`; `simplified` (as for new
   * Mixpanel projects) has no merge call, so `mergeProfiles` is refused.
   */
  idMergeApi: oneOf('MIXPANEL_ID_MERGE_API', ['original', 'simplified'], 'simplified', { normalize: 'lower' }),
});

/** Limits checked on every document before validation and execution (src/server/plugins/use-document-limits.ts). */
export const documentLimitsSchema = z.object({
  /** Bytes of the `query` text. */
  maxBytes: integer('MAX_DOCUMENT_BYTES', 64 * 1024, 1024, 16 * MIB),
  maxTokens: integer('MAX_TOKENS', 2_000, 100, 1_000_000),
  maxAliases: integer('MAX_ALIASES', 100, 1, 100_000),
  /** Depth of nested selections (fragments flattened, introspection ignored). */
  maxDepth: integer('MAX_DEPTH', 12, 2, 1_000),
  maxDirectives: integer('MAX_DIRECTIVES', 50, 1, 100_000),
  /** Field selections once every fragment spread is expanded (what a fragment bomb inflates). */
  maxSelections: integer('MAX_SELECTIONS', 2_000, 10, 1_000_000),
});

/** The security settings read from plain variables; index.ts fills the defaults that depend on demo mode and keys. */
export const securitySchema = z.object({
  /** Origins (scheme://host[:port]) a browser page may call from, besides the gateway's own. */
  corsOrigins: originList('CORS_ORIGINS'),
  /** Schema introspection (`__schema`, `__type`); default: open in demo mode or keyless on loopback. */
  introspection: optionalFlag('INTROSPECTION'),
  /** "Did you mean …?" in validation errors; default as `introspection`. */
  fieldSuggestions: optionalFlag('FIELD_SUGGESTIONS'),
  /** Persisted-operations manifest (`{ "<sha256>": "<document>" }`): when set, only those operations run. */
  persistedOperationsFile: optionalText('PERSISTED_OPERATIONS_FILE'),
  documentLimits: documentLimitsSchema,
  /** Largest WebSocket message accepted, in bytes (larger: the socket is closed with 1009 before parsing). */
  wsMaxPayloadBytes: integer('WS_MAX_PAYLOAD_BYTES', MIB, 1024, 64 * MIB),
  /** Most operations running at once on one WebSocket. */
  wsMaxSubscriptions: integer('WS_MAX_SUBSCRIPTIONS', 50, 1, 10_000),
  /** Largest HTTP request body, in bytes (by Content-Length; larger: 413). */
  maxBodyBytes: integer('MAX_BODY_BYTES', MIB, 1024, 64 * MIB),
});

/** How live subscriptions are fanned out (src/pubsub/fan-out.ts). */
export const subscriptionsSchema = z.object({
  /**
   * A subscriber with more than this many bytes waiting to be written (a WebSocket's `bufferedAmount`,
   * an SSE stream's unread events) is closed as a slow consumer.
   */
  maxBufferedBytes: integer('SUBSCRIPTION_MAX_BUFFERED_BYTES', 4 * MIB, 1024, 1024 * MIB),
  /** Subscribers written between two yields to the event loop during a fan-out. */
  fanOutBatchSize: integer('SUBSCRIPTION_FANOUT_BATCH_SIZE', 256, 1, 100_000),
});

/** The server's own settings, in the order their problems are reported. */
export const settingsSchema = z.object({
  host: text('HOST', '127.0.0.1'),
  port: integer('PORT', 4000, 0, 65_535),
  integrationId: matching(
    'MIXPANEL_INTEGRATION_ID',
    DEFAULT_INTEGRATION_ID,
    /^[\x21-\x7e][\x20-\x7e]{0,99}$/,
    (raw) => `must be 1 to 100 printable ASCII characters (got ${quote(raw)})`,
  ),
  /** Each GraphQL request's budget deadline: a call that cannot start before it fails fast. */
  requestDeadlineMs: integer('REQUEST_DEADLINE_MS', 5000, 1, HOUR),
  upstreamTimeoutMs: integer('UPSTREAM_TIMEOUT_MS', 60_000, 100, HOUR),
  /** Prefix of every Redis key and pub/sub channel: deployments sharing one Redis use different ones. */
  redisKeyPrefix: matching('REDIS_KEY_PREFIX', 'mpgw:', /^[A-Za-z0-9:_.-]{1,64}$/, () => 'must be 1 to 64 characters of letters, digits, ":", "_", "." or "-"'),
  /**
   * Percentage of each budget limit (per window and in flight) one instance may use on its own while Redis is
   * unreachable: the other instances, unseen during the outage, are assumed to use at most the rest.
   */
  redisOutageBudgetPercent: integer('REDIS_OUTAGE_BUDGET_PERCENT', 20, 1, 100),
  /**
   * With a Redis URL: whether instances share what they read (entities and responses in Redis beside the
   * in-process caches, and one read per entity between them); false keeps each instance's caches its own.
   */
  redisSharedCache: flag('REDIS_SHARED_CACHE', true),
  /** Longest an instance waits for another instance's read of the same data before sending its own. */
  sharedReadWaitMs: integer('SHARED_READ_WAIT_MS', 2 * SECOND, 0, 30 * SECOND),
  /**
   * Lifetime of a budget concurrency slot unless renewed: a crashed instance holds a slot of
   * the shared budget no longer than this. Slots are renewed every third of it while their call runs.
   */
  budgetLeaseMs: integer('BUDGET_LEASE_MS', MINUTE, SECOND, HOUR),
  /** Longest a graceful shutdown waits for requests in flight before cutting connections. */
  shutdownTimeoutMs: integer('SHUTDOWN_TIMEOUT_MS', 10 * SECOND, 0, 10 * MINUTE),
  /** The membership store; its kind defaults to redis with REDIS_URL, else sqlite (index.ts). */
  store: z.object({
    kind: optionalOneOf('MEMBERSHIP_STORE', STORE_KINDS),
    sqlitePath: text('SQLITE_PATH', './data/membership.sqlite'),
  }),
  cache: cacheSchema,
  economy: economySchema,
  /** How often each project's typed schema re-reads Lexicon (through the cache); an edit through the gateway refreshes at once. */
  lexiconRefreshMs: integer('LEXICON_REFRESH_MS', 10 * MINUTE, SECOND, 24 * HOUR),
  writes: writesSchema,
  logLevel: oneOf('LOG_LEVEL', LOG_LEVELS, 'info', { normalize: 'lower' }),
  /** GraphiQL and the landing page. */
  graphiql: flag('GRAPHIQL', true),
});
