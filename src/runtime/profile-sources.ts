/**
 * The project's profile and activity sources (ids merged across requests, src/upstream/sources.ts), the
 * profile read-ahead that lists every profile while calls are spare, and the priming of the entity cache
 * from full-profile engage pages. Separate from the runtime's one path: these only consume it (`send`,
 * `fetch`) and share one entity cache and one set of source settings.
 */
import type { EntityCache } from '../cache/entity-cache.js';
import type { SharedReads } from '../cache/shared-reads.js';
import type { CacheConfig, EconomyConfig, ProjectConfig } from '../config/types.js';
import type { Clock } from '../limits/clock.js';
import type { ApiFamily, EngagePage, EngageParams } from '../mixpanel/types.js';
import type { Metrics } from '../observability/metrics.js';
import { ENDPOINTS } from '../upstream/endpoints.js';
import { createProfileReadAhead, type ProfileReadAhead } from '../upstream/profile-read-ahead.js';
import { type ActivitySource, createActivitySource, createProfileSource, type ProfileSource, type Send, type SourceOptions } from '../upstream/sources.js';
import type { ProjectRuntime } from './types.js';

export interface ProfileSourcesOptions {
  readonly config: ProjectConfig;
  readonly cacheConfig: CacheConfig;
  readonly economy: EconomyConfig;
  readonly entities: EntityCache;
  /** The runtime's send (fair share and budget), for merged calls. */
  readonly send: Send;
  /** The runtime's fetch, for the read-ahead's engage pages (which then prime the entity cache). */
  readonly fetch: ProjectRuntime['fetch'];
  readonly windowMs: (family: ApiFamily) => number;
  readonly scarce: (family: ApiFamily) => boolean;
  readonly spareCalls: (family: ApiFamily) => number;
  readonly clock: Clock;
  readonly sharedReads?: SharedReads | undefined;
  readonly metrics?: Metrics | undefined;
}

export interface ProfileSources {
  readonly profiles: ProfileSource;
  readonly activity: ActivitySource;
  readonly readAhead: ProfileReadAhead;
  /** Feeds the profiles of a full-profile engage page to the entity cache. */
  primeProfiles(params: EngageParams, page: EngagePage): void;
}

export function createProfileSources(options: ProfileSourcesOptions): ProfileSources {
  const { config, cacheConfig, economy, entities, send, fetch, clock, metrics } = options;

  /**
   * Every full-profile engage page read (a profiles list, a cohort's members)
   * feeds the entity cache: a profile page of one of those users then costs nothing.
   */
  const primeProfiles = (params: EngageParams, page: EngagePage): void => {
    if (params.outputProperties !== undefined || params.distinctIds !== undefined || params.distinctId !== undefined) return;
    const mergeKey = JSON.stringify(params.dataGroupId === undefined ? {} : { groupKey: params.dataGroupId });
    for (const profile of page.results) {
      entities.store(
        'profile',
        config.key,
        `${mergeKey}\u0000${String(profile.$distinct_id)}`,
        profile,
        cacheConfig.ttlMs.profiles,
        cacheConfig.staleMs + economy.lastResortMs,
      );
    }
  };

  const sourceOptions = (ttlMs: number): SourceOptions => ({
    project: config.key,
    entities,
    send,
    coalesce: economy.coalesce,
    windowMs: options.windowMs,
    maxWaitMs: economy.coalesceMaxWaitMs,
    ttlMs,
    // Entities stand in for a refused read as long as the response cache's last resort does.
    staleMs: cacheConfig.staleMs + economy.lastResortMs,
    absentTtlMs: Math.min(economy.absentTtlMs, ttlMs),
    scarce: options.scarce,
    now: () => clock.now(),
    timers: { setTimeout: (callback, ms) => clock.setTimeout(callback, ms), clearTimeout: (handle) => clock.clearTimeout(handle) },
    onBatch: (endpoint, size, waitMs, requests) => {
      metrics?.mergedBatchSize.observe({ project: config.key, endpoint }, size);
      metrics?.mergedBatchRequests.observe({ project: config.key, endpoint }, requests);
      metrics?.mergedBatchWait.observe({ project: config.key, endpoint }, waitMs / 1000);
    },
    onStale: (kind) => metrics?.staleAnswers.inc({ project: config.key, kind }),
    shared: options.sharedReads,
  });
  const readAhead = createProfileReadAhead({
    maxPages: economy.profileReadAheadMaxPages,
    // Page 0 unfiltered with every property: fetch() feeds each page's profiles to the entity cache.
    readPage: (page, context) => fetch('engage', page.sessionId === undefined ? {} : { sessionId: page.sessionId, page: page.page ?? 0 }, context),
    spareCalls: () => options.spareCalls(ENDPOINTS.engage.family),
    followOnPagesCount: config.countEngageFollowOnPages,
    // Its profiles stay servable (fresh, then stale) for the last-resort window; listing them again sooner would spend the hour twice.
    everyMs: Math.max(economy.lastResortMs, cacheConfig.ttlMs.profiles),
    now: () => clock.now(),
    timers: { setTimeout: (callback, ms) => clock.setTimeout(callback, ms), clearTimeout: (handle) => clock.clearTimeout(handle) },
    onDone: (pages, complete) => metrics?.profileReadAheadPages.inc({ project: config.key, outcome: complete ? 'complete' : 'partial' }, pages),
  });
  // Read-ahead is cross-request sharing too: off with merging.
  const profiles = createProfileSource(sourceOptions(cacheConfig.ttlMs.profiles), economy.coalesce ? readAhead : undefined);
  const activity = createActivitySource(sourceOptions(cacheConfig.ttlMs.events));

  return { profiles, activity, readAhead, primeProfiles };
}
