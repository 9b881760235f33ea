/**
 * The validated, frozen configuration (built by loadConfig in ./index.ts). The plain settings' types
 * are inferred from their schema (schema.ts), ApiKeyConfig from the API keys' (api-keys.ts).
 * ProjectConfig is written out: the projects file's schema must produce it (projects-file.ts), and so
 * do the MIXPANEL_* variables, the demo and tests that build one by hand; the rest of what several
 * variables make is described here.
 */
import type { z } from 'zod';
import type { ProjectLimits } from '../mixpanel/rate-limits.js';
import type { BaseUrls, Region } from '../mixpanel/types.js';
import type { Secret } from '../core/secret.js';
import type { ApiKeyEntry } from './api-keys.js';
import type {
  cacheSchema,
  documentLimitsSchema,
  economySchema,
  LOG_LEVELS,
  securitySchema,
  settingsSchema,
  STORE_KINDS,
  subscriptionsSchema,
  webhookSchema,
  writesSchema,
} from './schema.js';

/** A setting as loadConfig returns it: deeply frozen (Secrets stay Secrets). */
export type Frozen<T> = T extends Secret
  ? T
  : T extends readonly (infer U)[]
    ? readonly Frozen<U>[]
    : T extends object
      ? { readonly [K in keyof T]: Frozen<T[K]> }
      : T;

export type { FamilyLimits, ProjectLimits } from '../mixpanel/rate-limits.js';

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

export type CacheConfig = Frozen<z.output<typeof cacheSchema>>;
export type EconomyConfig = Frozen<z.output<typeof economySchema>>;
export type WritesConfig = Frozen<z.output<typeof writesSchema>>;
export type DocumentLimits = Frozen<z.output<typeof documentLimitsSchema>>;
export type SubscriptionConfig = Frozen<z.output<typeof subscriptionsSchema>>;
export type StoreKind = (typeof STORE_KINDS)[number];
export type LogLevel = (typeof LOG_LEVELS)[number];

export type WebhookConfig = Frozen<z.output<typeof webhookSchema>> & {
  readonly username?: string | undefined;
  readonly password?: Secret | undefined;
};

export type SecurityConfig = Frozen<Omit<z.output<typeof securitySchema>, 'introspection' | 'fieldSuggestions'>> & {
  /** Also allow any loopback origin (http://localhost:*, http://127.0.0.1:*, http://[::1]:*): demo mode. */
  readonly corsLoopback: boolean;
  /** Schema introspection (`__schema`, `__type`). */
  readonly introspection: boolean;
  /** "Did you mean …?" in validation errors. */
  readonly fieldSuggestions: boolean;
};

/** One client's API key (GATEWAY_API_KEYS), as its schema (api-keys.ts) makes it. */
export type ApiKeyConfig = Frozen<ApiKeyEntry>;

export type Config = Frozen<Omit<z.output<typeof settingsSchema>, 'store'>> & {
  readonly graphqlPath: string;
  readonly projects: readonly ProjectConfig[];
  /** Key of the project served at `graphqlPath`. */
  readonly defaultProjectKey: string;
  /** True when no Mixpanel credentials were given: the gateway runs on the in-process emulator. */
  readonly demo: boolean;
  readonly redisUrl?: Secret | undefined;
  readonly store: { readonly kind: StoreKind; readonly sqlitePath: string };
  readonly webhook: WebhookConfig;
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
};
