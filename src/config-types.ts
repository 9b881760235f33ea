/**
 * The validated, frozen configuration (built by src/config.ts).
 */
import type { ApiFamily, BaseUrls, Region } from './mixpanel/types.js';
import type { Secret } from './secret.js';

/** One limit of one family; any field left out means "no such limit". */
export interface FamilyLimits {
  readonly perHour?: number | undefined;
  readonly perMinute?: number | undefined;
  readonly perSecond?: number | undefined;
  readonly concurrent?: number | undefined;
}

export type ProjectLimits = Readonly<Record<ApiFamily, FamilyLimits>>;

export interface ProjectConfig {
  /** Short name used in URLs and metrics (`default` for the env-var project). */
  readonly key: string;
  /** Mixpanel project id. */
  readonly projectId: string;
  readonly region: Region;
  readonly workspaceId?: string | undefined;
  readonly serviceAccount: { readonly username: string; readonly secret: Secret };
  /** Project token, needed only for ingestion (/track, /engage, /groups). */
  readonly projectToken?: Secret | undefined;
  /** Resolved base URL per host family (region default, MIXPANEL_BASE_URL, or per-family override). */
  readonly baseUrls: BaseUrls;
  readonly limits: ProjectLimits;
  /** Whether engage pages after the first of a session count against the hourly Query limit (default true). */
  readonly countEngageFollowOnPages: boolean;
  /**
   * The project's timezone, an IANA name (default "UTC"): Mixpanel reads Query API dates and cuts
   * buckets in it, so the gateway's "today" and date checks use it too. Undefined means UTC.
   */
  readonly timezone?: string | undefined;
}

export interface CacheConfig {
  /** Upper bound of the shared response cache, in bytes of serialised JSON. */
  readonly maxBytes: number;
  /** TTLs per kind of data, in ms. */
  readonly ttlMs: {
    readonly lexicon: number;
    readonly cohorts: number;
    readonly profiles: number;
    readonly analyticsClosed: number;
    readonly analyticsToday: number;
    readonly events: number;
    readonly annotations: number;
  };
  /** How long past its TTL an entry may still be served while it refreshes or while Mixpanel fails. */
  readonly staleMs: number;
}

/** How the gateway spends Mixpanel calls across requests (README, "Rate limits"). */
export interface EconomyConfig {
  /** Whether reads of different requests merge into one call (COALESCE). Default true. */
  readonly coalesce: boolean;
  /**
   * How long a merged batch stays open after its latest id, in ms, when the
   * family's budget is untouched; it grows up to 4× as the window is spent,
   * and is 0 for families without a per-hour or per-minute limit. Default 50.
   */
  readonly coalesceWindowMs: number;
  /** The most a batch is held past its first id, in ms. Default 500. */
  readonly coalesceMaxWaitMs: number;
  /** Upper bound of the entity cache (profiles, activity, cohort members), in bytes. Default 32 MiB. */
  readonly entityCacheMaxBytes: number;
  /**
   * How long past CACHE_STALE_MS data is kept to stand in, marked stale, for
   * a read the budget refuses (CACHE_LAST_RESORT_MS). Default 1 hour.
   */
  readonly lastResortMs: number;
  /** How long an id Mixpanel does not know is remembered as absent, in ms. Default 10 s. */
  readonly absentTtlMs: number;
  /** Whether hourly calls are paced: a burst, then the rest of the hour spread evenly (BUDGET_PACING). Default true. */
  readonly pacing: boolean;
  /** Percent of each hourly window background refreshes never spend. Default 20. */
  readonly interactiveReservePercent: number;
  /** Percent of each hourly window a lone API-key client leaves for the next one. Default 25. */
  readonly newcomerReservePercent: number;
  /** Most cohort reads one operation's `Profile.cohorts` may start; the rest load in the background. Default 4. */
  readonly profileCohortsMaxCalls: number;
  /**
   * Most engage pages (1,000 profiles each) a read-ahead of the whole user-profile listing may send,
   * page 0 included: the first profile missing from the entity cache lists them all when page 0's
   * `total` says they fit this and what the Query budget can spare. 0 turns read-ahead off. Default 20.
   */
  readonly profileReadAheadMaxPages: number;
}

export interface WebhookConfig {
  readonly path: string;
  readonly username?: string | undefined;
  readonly password?: Secret | undefined;
  readonly maxBodyBytes: number;
  /** A staged full sync whose pages stop arriving is dropped after this long. */
  readonly sessionTtlMs: number;
  /** Failed authentications one source address may make per `authFailureWindowMs` before it gets 429 (default 10). */
  readonly maxAuthFailures: number;
  /** Window of `maxAuthFailures` (default 60000 ms): a failure stops counting after this long. */
  readonly authFailureWindowMs: number;
}

export type StoreKind = 'memory' | 'sqlite' | 'redis';

/** Writes through the gateway (src/writes). */
export interface WritesConfig {
  /** How long a write batch that is not full waits for the next write of any client, in ms (WRITE_BATCH_WINDOW_MS, default 20); at most 10 times that in all. */
  readonly batchWindowMs: number;
  /** How long Lexicon edits wait to be merged into one upload, in ms (LEXICON_EDIT_WINDOW_MS, default 200). */
  readonly lexiconWindowMs: number;
  /** How long an idempotency key remembers its write's result, in ms (IDEMPOTENCY_TTL_MS, default 24 h). */
  readonly idempotencyTtlMs: number;
  /**
   * Which ID Merge API the projects use (MIXPANEL_ID_MERGE_API): `original` accepts `$merge`;
   * `simplified` (the default, as for new Mixpanel projects) has no merge call, so `mergeProfiles` is refused.
   */
  readonly idMergeApi: 'original' | 'simplified';
}

export interface Config {
  readonly host: string;
  readonly port: number;
  readonly graphqlPath: string;
  readonly integrationId: string;
  readonly projects: readonly ProjectConfig[];
  /** Key of the project served at `graphqlPath`. */
  readonly defaultProjectKey: string;
  /** True when no Mixpanel credentials were given: the gateway runs on the in-process emulator. */
  readonly demo: boolean;
  /** Each GraphQL request's budget deadline: a call that cannot start before it fails fast. */
  readonly requestDeadlineMs: number;
  readonly upstreamTimeoutMs: number;
  readonly redisUrl?: Secret | undefined;
  /** Prefix of every Redis key and pub/sub channel (default `mpgw:`): deployments sharing one Redis use different ones. */
  readonly redisKeyPrefix: string;
  /**
   * Percentage of each budget limit (per window and in flight) one instance may use on its own while Redis is
   * unreachable (default 20): the other instances, unseen during the outage, are assumed to use at most the rest.
   */
  readonly redisOutageBudgetPercent: number;
  /**
   * With a Redis URL: whether instances share what they read (entities and responses in Redis beside the
   * in-process caches, and one read per entity between them). Default true; false keeps each instance's caches its own.
   */
  readonly redisSharedCache: boolean;
  /** Longest an instance waits for another instance's read of the same data before sending its own (default 2000 ms). */
  readonly sharedReadWaitMs: number;
  /**
   * Lifetime of a budget concurrency slot unless renewed (default 60000 ms): a crashed instance holds a slot of
   * the shared budget no longer than this. Slots are renewed every third of it while their call runs.
   */
  readonly budgetLeaseMs: number;
  /** Longest a graceful shutdown waits for requests in flight before cutting connections (default 10000 ms). */
  readonly shutdownTimeoutMs: number;
  readonly store: { readonly kind: StoreKind; readonly sqlitePath: string };
  readonly webhook: WebhookConfig;
  readonly cache: CacheConfig;
  readonly economy: EconomyConfig;
  /** How often each project's typed schema re-reads Lexicon (through the cache); an edit through the gateway refreshes at once. */
  readonly lexiconRefreshMs: number;
  readonly writes: WritesConfig;
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  /** GraphiQL and the landing page; on by default. */
  readonly graphiql: boolean;
  /** Whether unexpected errors are masked (always on unless NODE_ENV=development). */
  readonly maskErrors: boolean;
  /**
   * Keys clients must present (`Authorization: Bearer <key>` over HTTP and SSE,
   * `{ "authorization": "Bearer <key>" }` in graphql-ws `connection_init`),
   * held as SHA-256 digests only. Empty: the endpoint is open (fine on
   * loopback, not on a network).
   */
  readonly apiKeys: readonly ApiKeyConfig[];
  /** How many of `apiKeys` were configured as plain keys rather than digests (start-up warns). */
  readonly plainApiKeys: number;
  readonly security: SecurityConfig;
  readonly subscriptions: SubscriptionConfig;
}

/** One client's API key (GATEWAY_API_KEYS). */
export interface ApiKeyConfig {
  /** Non-secret name of the client: `Context.client.id`, `CallContext.clientId`, logs. */
  readonly id: string;
  /** SHA-256 of the key, lowercase hex (the key itself is never kept). */
  readonly sha256: string;
  /** Project keys the client may read, or '*' for every project. */
  readonly projects: readonly string[] | '*';
  /** Whether the client may run mutations. */
  readonly canWrite: boolean;
}

/** Limits checked on every document before validation and execution (src/server/plugins/use-document-limits.ts). */
export interface DocumentLimits {
  /** Bytes of the `query` text. */
  readonly maxBytes: number;
  readonly maxTokens: number;
  readonly maxAliases: number;
  /** Depth of nested selections (fragments flattened, introspection ignored). */
  readonly maxDepth: number;
  readonly maxDirectives: number;
  /** Field selections once every fragment spread is expanded (what a fragment bomb inflates). */
  readonly maxSelections: number;
}

export interface SecurityConfig {
  /** Origins (scheme://host[:port]) a browser page may call from, besides the gateway's own. */
  readonly corsOrigins: readonly string[];
  /** Also allow any loopback origin (http://localhost:*, http://127.0.0.1:*, http://[::1]:*): demo mode. */
  readonly corsLoopback: boolean;
  /** Schema introspection (`__schema`, `__type`). */
  readonly introspection: boolean;
  /** "Did you mean …?" in validation errors. */
  readonly fieldSuggestions: boolean;
  /** Persisted-operations manifest (`{ "<sha256>": "<document>" }`): when set, only those operations run. */
  readonly persistedOperationsFile?: string | undefined;
  readonly documentLimits: DocumentLimits;
  /** Largest WebSocket message accepted, in bytes (larger: the socket is closed with 1009 before parsing). */
  readonly wsMaxPayloadBytes: number;
  /** Most operations running at once on one WebSocket. */
  readonly wsMaxSubscriptions: number;
  /** Largest HTTP request body, in bytes (by Content-Length; larger: 413). */
  readonly maxBodyBytes: number;
}

/** How live subscriptions are fanned out (src/pubsub/fan-out.ts). */
export interface SubscriptionConfig {
  /**
   * A subscriber with more than this many bytes waiting to be written (a WebSocket's `bufferedAmount`,
   * an SSE stream's unread events) is closed as a slow consumer. Default 4 MiB.
   */
  readonly maxBufferedBytes: number;
  /** Subscribers written between two yields to the event loop during a fan-out; default 256. */
  readonly fanOutBatchSize: number;
}
