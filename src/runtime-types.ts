/**
 * A project's runtime: its client, budget, cache and membership store, and the
 * one path every upstream call takes (cache -> in-flight sharing -> budget -> client).
 */
import type { ProjectConfig } from './config-types.js';
import type { Budget, RequestStats } from './limits/types.js';
import type { MembershipStore } from './membership/types.js';
import type { ApiFamily, MixpanelClient } from './mixpanel/types.js';

/** Kinds of cached data; each has its own TTL (CacheConfig.ttlMs). */
export type CacheKind =
  | 'lexicon'
  | 'cohorts'
  | 'profiles'
  | 'analyticsClosed'
  | 'analyticsToday'
  | 'events'
  | 'annotations'
  | 'none';

export interface UpstreamRequest<T> {
  readonly family: ApiFamily;
  /** Which TTL applies; 'none' bypasses the cache (writes, export streams) but still shares in-flight calls when `params` is set. */
  readonly kind: CacheKind;
  /** Stable endpoint name, part of the cache key (e.g. "engage", "segmentation"). */
  readonly endpoint: string;
  /** Normalised into the cache key (sorted keys, undefined dropped). */
  readonly params: unknown;
  /** False for engage follow-on pages when the project says they are free. */
  readonly countsAgainstHourly?: boolean;
  /**
   * Retries of this call on 429/5xx/timeout; 0 for a write that must not be sent twice
   * once it may have reached Mixpanel. Default: the budget's `maxRetries`.
   */
  readonly maxRetries?: number;
  /** Sends the call; `signal` aborts it. */
  readonly send: (signal: AbortSignal) => Promise<T>;
}

export interface CallContext {
  /** Epoch ms by which the call must have started, or it fails fast (RateLimitedError). */
  readonly deadline: number;
  readonly signal: AbortSignal;
  readonly stats: RequestStats;
  readonly priority?: number;
  /** API-key id of the caller (undefined = anonymous): the per-client share of the budget. */
  readonly clientId?: string;
}

export interface ProjectRuntime {
  readonly config: ProjectConfig;
  /** Raw client: call it only inside `send` of an UpstreamRequest. */
  readonly client: MixpanelClient;
  readonly budget: Budget;
  readonly membership: MembershipStore;
  /** The one path to Mixpanel. */
  call<T>(request: UpstreamRequest<T>, context: CallContext): Promise<T>;
  /** Drops cached entries of one kind (after a write through the gateway). */
  invalidate(kind: CacheKind): void;
  close(): Promise<void>;
}
