/**
 * A project's runtime: its client, budget, cache and membership store, and the
 * one path every upstream call takes (cache -> in-flight sharing -> budget -> client).
 */
import type { EconomyConfig, ProjectConfig } from '../config/types.js';
import type { Budget, RequestStats } from '../limits/types.js';
import type { MembershipStore } from '../membership/types.js';
import type { FairShareSnapshot } from '../limits/fair-share.js';
import type { ApiFamily, EngageProfile, StreamEvent } from '../mixpanel/types.js';
import type { EndpointName, ParamsOf, ResultOf } from '../upstream/endpoints.js';
import type { ReadResult } from '../upstream/sources.js';

import type { CacheKind } from '../cache/kinds.js';

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
  /** Epoch ms from which the call, if still queued, waits as background work (ScheduleOptions.backgroundAfter). Default: never. */
  readonly backgroundAfter?: number;
  /** The API-key id of the caller, for the per-client fair share; undefined = anonymous (one shared id). */
  readonly clientId?: string;
}

/** A cohort's members as last read, and whether that read is past its TTL. */
export interface CohortMembersRead {
  readonly members: ReadonlySet<string>;
  readonly fetchedAt: number;
  readonly stale: boolean;
}

export interface FetchOptions {
  /** Most retries of this one call; overrides the endpoint's `maxRetries` (a write batch that is idempotent may be retried). */
  readonly maxRetries?: number | undefined;
}

export interface ProjectRuntime {
  readonly config: ProjectConfig;
  readonly budget: Budget;
  readonly membership: MembershipStore;
  /** One call of a described endpoint (src/upstream/endpoints.ts): cache, in-flight sharing, budget. The schema's way to Mixpanel. */
  fetch<E extends EndpointName>(endpoint: E, params: ParamsOf<E>, context: CallContext, options?: FetchOptions): Promise<ResultOf<E>>;
  /** Profiles by distinct id, shared with every request of the project (entity cache, merged engage calls). */
  profiles(distinctIds: readonly string[], groupKey: string | undefined, context: CallContext): Promise<Map<string, ReadResult<EngageProfile>>>;
  /** Activity of profiles over a date range, merged across requests into /stream/query calls. */
  activity(distinctIds: readonly string[], fromDate: string, toDate: string, context: CallContext): Promise<Map<string, StreamEvent[]>>;
  /** Every member of a cohort (engage `filter_by_cohort`), cached for the project. */
  cohortMembers(cohortId: string, context: CallContext): Promise<CohortMembersRead>;
  /** Calls of the family's hourly window one expensive field may still start: half of what is left above the interactive reserve. */
  spareCalls(family: ApiFamily): number;
  /** Whether a background read of a cohort's members is under way (a request should not wait behind it). */
  isCohortReadInBackground(cohortId: string): boolean;
  /** Whether a cohort's member set is cached (fresh or stale): reading it costs no call. */
  isCohortCached(cohortId: string): boolean;
  /** Merging, entity cache, reserve and fair-share settings. */
  readonly economy: EconomyConfig;
  /** Each client's part of the family's hourly budget now. */
  fairShare(family: ApiFamily): FairShareSnapshot;
  /** The generic path (`send` is the caller's): cache -> in-flight sharing -> budget. */
  call<T>(request: UpstreamRequest<T>, context: CallContext): Promise<T>;
  /** Drops cached entries of one kind (after a write through the gateway). */
  invalidate(kind: CacheKind): void;
  close(): Promise<void>;
}
