/**
 * Reports what a response cost upstream, in `extensions`:
 *
 * ```json
 * "mixpanel": {
 *   "upstreamCalls": 1,   // calls this request sent to Mixpanel (retries included)
 *   "cacheHits": 2,       // data served from the response cache (fresh or stale)
 *   "cacheMisses": 1,     // data not in the cache (loaded, shared, or refused by the budget)
 *   "deduplicated": 0,    // calls of other requests in flight this one joined
 *   "joined": 0,          // the same: calls other requests opened (or merged batches) this one rode on
 *   "shared": 0,          // calls this request opened that other requests joined
 *   "stale": { "answers": 1, "maxAgeSeconds": 412 },  // only when data past its TTL was served
 *   "cost": { "estimated": { "query": 2 }, "actual": 1 }, // uncached lower bound per family vs calls sent
 *   "budgetRemaining": {  // the project's budget per family, after this request
 *     "query": { "window": "hour", "limit": 60, "used": 3, "remaining": 57, "inFlight": 0, "concurrentLimit": 5 },
 *     "export": { "window": "hour", … }, "lexicon": { "window": "minute", … }
 *   }
 * },
 * "cacheControl": { "maxAge": 294 }
 * ```
 *
 * `remaining` is what the rolling window still lets through (limit − used,
 * counted by every instance sharing the budget); concurrency is reported
 * apart (`inFlight` of `concurrentLimit`), as it frees within seconds.
 * `retryAfterSeconds` appears when no call of the family can be sent now:
 * the window is full, or the budget holds calls after a Mixpanel 429.
 *
 * `cacheControl.maxAge` is the seconds until the first cached piece of the
 * response expires (0 when a stale piece was served). When the whole
 * response of a query came from fresh cache, HTTP responses also carry
 * `Cache-Control: private, max-age=N`.
 */
import { getOperationAST } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Context } from '../../schema/context.js';
import type { BudgetSnapshot, PacingSnapshot, RequestStats } from '../../limits/types.js';
import type { ApiFamily } from '../../mixpanel/types.js';

const REPORTED_FAMILIES: readonly ApiFamily[] = ['query', 'export', 'lexicon'];

/** One family's budget as `extensions.mixpanel.budgetRemaining` reports it. */
export interface BudgetReport {
  /** The rolling window `used` and `limit` count over (hour for Query and Export, minute for Lexicon); null without a limit. */
  readonly window: BudgetSnapshot['window'];
  readonly limit: number | null;
  /** Calls counted in the window, by every instance sharing the budget. */
  readonly used: number;
  /** Calls the window still lets through (limit − used); null without a limit. */
  readonly remaining: number | null;
  readonly inFlight: number;
  readonly concurrentLimit: number | null;
  /** Calls of the hourly window kept for interactive requests (background refreshes never spend them). */
  readonly reserve: number;
  /** Seconds until a call may be sent again, present only when none may be sent now. */
  readonly retryAfterSeconds?: number;
}

export interface UpstreamExtensionsOptions {
  /** Clock (epoch ms) the budget runs on. Default Date.now. */
  readonly now?: () => number;
}

/** A snapshot as users read it: the window's remaining calls, and when a blocked family frees up. */
export function budgetReport(snapshot: BudgetSnapshot & Partial<PacingSnapshot>, now: number): BudgetReport {
  const remaining = snapshot.limit === null ? null : Math.max(0, snapshot.limit - snapshot.used);
  const blockedUntil = Math.max(snapshot.backoffUntil ?? 0, remaining === 0 && snapshot.windowResetsAt !== null ? snapshot.windowResetsAt : 0);
  return {
    window: snapshot.window,
    limit: snapshot.limit,
    used: snapshot.used,
    remaining,
    inFlight: snapshot.inFlight,
    concurrentLimit: snapshot.concurrentLimit,
    reserve: snapshot.reserve ?? 0,
    ...(blockedUntil > now ? { retryAfterSeconds: Math.ceil((blockedUntil - now) / 1000) } : {}),
  };
}

/** Max-age (seconds) of a query answered entirely from fresh cache, without errors; undefined otherwise. */
function freshCacheMaxAge(stats: RequestStats, hasErrors: boolean): number | undefined {
  const fromCacheOnly = stats.upstreamCalls === 0 && stats.cacheMisses === 0 && stats.deduplicated === 0 && stats.cacheHits > 0;
  if (hasErrors || !fromCacheOnly || stats.maxAgeSeconds === undefined || stats.maxAgeSeconds <= 0) return undefined;
  return stats.maxAgeSeconds;
}

export function useUpstreamExtensions(options: UpstreamExtensionsOptions = {}): Plugin<Context> {
  const now = options.now ?? Date.now;
  const cacheableRequests = new WeakMap<Request, number>();
  return {
    onExecute({ args }) {
      const context = args.contextValue as Context;
      const request = (args.contextValue as { request?: Request }).request;
      const isQuery = getOperationAST(args.document, args.operationName)?.operation === 'query';
      return {
        async onExecuteDone({ result, setResult }) {
          if (isAsyncIterable(result)) return; // subscriptions and streams: per-event extensions would be noise
          const snapshots = await Promise.all(
            REPORTED_FAMILIES.map(async (family) => ({ ...(await context.project.budget.snapshot(family)), ...context.project.budget.pacing(family) })),
          );
          const at = now();
          const budget = Object.fromEntries(snapshots.map((snapshot) => [snapshot.family, budgetReport(snapshot, at)]));
          const { stats } = context;
          const maxAge = isQuery ? freshCacheMaxAge(stats, (result.errors?.length ?? 0) > 0) : undefined;
          if (request && maxAge !== undefined) cacheableRequests.set(request, maxAge);
          setResult({
            ...result,
            extensions: {
              ...result.extensions,
              mixpanel: {
                upstreamCalls: stats.upstreamCalls,
                cacheHits: stats.cacheHits,
                cacheMisses: stats.cacheMisses,
                deduplicated: stats.deduplicated,
                joined: stats.deduplicated,
                shared: stats.shared ?? 0,
                ...(stats.staleAnswers ? { stale: { answers: stats.staleAnswers, maxAgeSeconds: stats.staleSeconds ?? 0 } } : {}),
                cost: { estimated: stats.estimatedCalls ?? {}, actual: stats.upstreamCalls },
                budgetRemaining: budget,
              },
              ...(stats.maxAgeSeconds === undefined ? {} : { cacheControl: { maxAge: stats.maxAgeSeconds } }),
            },
          });
        },
      };
    },
    onResponse({ request, response }) {
      const maxAge = cacheableRequests.get(request);
      if (maxAge !== undefined) response.headers.set('cache-control', `private, max-age=${maxAge}`);
    },
  };
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}
