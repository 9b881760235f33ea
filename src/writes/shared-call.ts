/**
 * The call context of a batch that carries the writes of several requests:
 * it must not be aborted when one client goes away (the others still wait),
 * it may start as late as the latest deadline, and each request's stats
 * report the calls the batch made for it.
 */
import type { RequestStats } from '../limits/types.js';
import type { CallContext } from '../runtime/types.js';

const freshStats = (): RequestStats => ({ upstreamCalls: 0, cacheHits: 0, cacheMisses: 0, deduplicated: 0, maxAgeSeconds: undefined });

export function batchCallContext(contexts: readonly CallContext[], signal: AbortSignal): CallContext {
  const deadline = contexts.reduce((latest, context) => Math.max(latest, context.deadline), Number.NEGATIVE_INFINITY);
  const priority = contexts.reduce((lowest, context) => Math.min(lowest, context.priority ?? 0), Number.POSITIVE_INFINITY);
  return {
    deadline: Number.isFinite(deadline) ? deadline : Date.now(),
    signal,
    stats: freshStats(),
    priority: Number.isFinite(priority) ? priority : 0,
  };
}

/** Adds the batch's calls to every request it served (once per request). */
export function creditCalls(contexts: readonly CallContext[], batch: CallContext): void {
  for (const stats of new Set(contexts.map((context) => context.stats))) {
    stats.upstreamCalls += batch.stats.upstreamCalls;
    stats.cacheHits += batch.stats.cacheHits;
    stats.cacheMisses += batch.stats.cacheMisses;
  }
}
