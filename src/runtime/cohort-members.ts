/**
 * Whole-cohort member reads: every member of a cohort, read through the runtime's `fetch` (so on the one
 * path to Mixpanel), shared by concurrent requests, kept queued past a first read's deadline, and served
 * stale when the Query window is scarce or the read fails. Separate from the runtime because its waiting
 * rules (first-read patience, background reads, stale fallback) concern cohorts alone.
 */
import type { EntityCache } from '../cache/entity-cache.js';
import type { CacheConfig, EconomyConfig } from '../config/types.js';
import type { Clock } from '../limits/clock.js';
import { BACKGROUND_PRIORITY } from '../limits/defaults.js';
import { MixpanelError, RateLimitedError } from '../mixpanel/errors.js';
import type { ApiFamily, EngagePage, EngageParams } from '../mixpanel/types.js';
import type { Metrics } from '../observability/metrics.js';
import type { CallContext, CohortMembersRead } from './types.js';

/**
 * How long the first read of a cohort's members stays queued for a budget slot after the request that
 * asked gave up (its own deadline): a cohort someone just opened is about to be opened again, and a slot
 * spent on it then answers every later view, where a refused request alone would leave nothing queued.
 */
const FIRST_READ_PATIENCE_MS = 10 * 60_000;

export interface CohortMembersOptions {
  /** The project's key (entity cache and metrics). */
  readonly project: string;
  /** One engage page, through the runtime's `fetch`. */
  readonly readPage: (params: EngageParams, context: CallContext) => Promise<EngagePage>;
  readonly entities: EntityCache;
  readonly cacheConfig: CacheConfig;
  readonly economy: EconomyConfig;
  readonly clock: Clock;
  readonly scarce: (family: ApiFamily) => boolean;
  readonly metrics?: Metrics | undefined;
}

export interface CohortMembers {
  /** Every member of a cohort (engage `filter_by_cohort`), cached for the project. */
  read(cohortId: string, context: CallContext): Promise<CohortMembersRead>;
  /** Whether a background read of a cohort's members is under way (a request should not wait behind it). */
  isReadInBackground(cohortId: string): boolean;
}

export function createCohortMembers(options: CohortMembersOptions): CohortMembers {
  const { project, readPage, entities, cacheConfig, economy, clock, scarce, metrics } = options;

  /** In-flight whole-cohort reads, so concurrent requests share one; `background` when no request waits for it. */
  const memberReads = new Map<string, { readonly promise: Promise<CohortMembersRead>; readonly background: boolean }>();

  /**
   * Every member of a cohort: engage with `filter_by_cohort` alone, the way
   * https://developer.mixpanel.com/reference/cohorts-list documents for
   * listing a cohort's users, paged as
   * https://developer.mixpanel.com/reference/engage-query describes.
   */
  const readMembers = async (cohortId: string, context: CallContext): Promise<CohortMembersRead> => {
    const base: EngageParams = { filterByCohort: cohortId, outputProperties: ['$email'] };
    const members = new Set<string>();
    let page: EngagePage = await readPage(base, context);
    for (;;) {
      for (const profile of page.results) members.add(String(profile.$distinct_id));
      const done =
        page.results.length < page.page_size || page.results.length === 0 || (page.total !== undefined && page.total <= page.page_size * (page.page + 1));
      if (done) break;
      page = await readPage({ ...base, sessionId: page.session_id, page: page.page + 1 }, context);
    }
    const ids = [...members];
    entities.store('cohortMembers', project, cohortId, ids, cacheConfig.ttlMs.cohorts, cacheConfig.staleMs + economy.lastResortMs);
    return { members, fetchedAt: clock.now(), stale: false };
  };

  const cohortMembers = async (cohortId: string, context: CallContext): Promise<CohortMembersRead> => {
    // Another instance may have read them (with a shared entity level).
    await entities.fill('cohortMembers', project, [cohortId]);
    const found = entities.lookup<string[]>('cohortMembers', project, cohortId);
    if (found.state === 'fresh') {
      context.stats.cacheHits++;
      return { members: new Set(found.entry.value), fetchedAt: found.entry.fetchedAt, stale: false };
    }
    const staleRead = (): CohortMembersRead | undefined => {
      if (found.state !== 'stale') return undefined;
      context.stats.staleAnswers = (context.stats.staleAnswers ?? 0) + 1;
      context.stats.staleSeconds = Math.max(context.stats.staleSeconds ?? 0, Math.floor((clock.now() - found.entry.fetchedAt) / 1000));
      context.stats.maxAgeSeconds = 0;
      metrics?.staleAnswers.inc({ project, kind: 'cohortMembers' });
      return { members: new Set(found.entry.value), fetchedAt: found.entry.fetchedAt, stale: true };
    };
    if (scarce('query')) {
      const stale = staleRead();
      if (stale) return stale;
    }
    let pending = memberReads.get(cohortId)?.promise;
    if (pending) context.stats.deduplicated++;
    else {
      // Shared by every request that asks meanwhile: the first one going away must not cancel it. A cohort
      // never read stays queued past its request's deadline: the next slot brings it for whoever asks next.
      // Once that request has gone it waits as background work, behind every live call and off their reserves.
      const patient = found.state === 'missing' && clock.now() + FIRST_READ_PATIENCE_MS > context.deadline;
      const readContext: CallContext = patient
        ? {
            ...context,
            deadline: clock.now() + FIRST_READ_PATIENCE_MS,
            backgroundAfter: Math.min(context.backgroundAfter ?? Number.POSITIVE_INFINITY, context.deadline),
          }
        : context;
      const read = readMembers(cohortId, { ...readContext, signal: new AbortController().signal }).finally(() => memberReads.delete(cohortId));
      read.catch(() => undefined);
      memberReads.set(cohortId, { promise: read, background: (context.priority ?? 0) >= BACKGROUND_PRIORITY });
      pending = read;
    }
    try {
      // A read started in the background may queue behind interactive calls: a request waits for it only until its own deadline.
      return await untilDeadline(untilAborted(pending, context.signal), context.deadline, clock);
    } catch (error) {
      const stale =
        !context.signal.aborted && (error instanceof RateLimitedError || (error instanceof MixpanelError && error.retryable)) ? staleRead() : undefined;
      if (stale) return stale;
      throw error;
    }
  };

  return {
    read: cohortMembers,
    isReadInBackground: (cohortId) => memberReads.get(cohortId)?.background === true,
  };
}

/** `promise`, or the signal's reason as soon as it aborts (the promise itself runs on for others). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** `promise`, or RateLimitedError once `deadline` (epoch ms on `clock`) has passed without it settling. */
function untilDeadline<T>(promise: Promise<T>, deadline: number, clock: Clock): Promise<T> {
  const left = deadline - clock.now();
  if (!Number.isFinite(left)) return promise;
  return new Promise<T>((resolve, reject) => {
    const timer = clock.setTimeout(
      () => reject(new RateLimitedError('query', undefined, 'The members of this cohort are still being read within the Query budget; retry shortly')),
      Math.max(0, left),
    );
    promise.then(resolve, reject).finally(() => clock.clearTimeout(timer));
  });
}
