/**
 * Reports what a response cost upstream in `extensions.mixpanel`: calls
 * sent, cache hits, shared in-flight calls, and the budget left per family.
 * Also a Cache-Control-like hint (`cacheControl.maxAge`, seconds) taken from
 * the freshest-expiring cached data the response used.
 */
import type { Plugin } from 'graphql-yoga';
import type { Context } from '../../context.js';
import type { ApiFamily } from '../../mixpanel/types.js';

const REPORTED_FAMILIES: readonly ApiFamily[] = ['query', 'export', 'lexicon'];

export function useUpstreamExtensions(): Plugin<Context> {
  return {
    onExecute({ args }) {
      const context = args.contextValue as Context;
      return {
        async onExecuteDone({ result, setResult }) {
          if (isAsyncIterable(result)) return; // subscriptions and streams: per-event extensions would be noise
          const budget: Record<string, number> = {};
          for (const family of REPORTED_FAMILIES) {
            budget[family] = await context.project.budget.remaining(family);
          }
          const { stats } = context;
          setResult({
            ...result,
            extensions: {
              ...result.extensions,
              mixpanel: {
                upstreamCalls: stats.upstreamCalls,
                cacheHits: stats.cacheHits,
                cacheMisses: stats.cacheMisses,
                deduplicated: stats.deduplicated,
                budgetRemaining: budget,
              },
              ...(stats.maxAgeSeconds === undefined ? {} : { cacheControl: { maxAge: stats.maxAgeSeconds } }),
            },
          });
        },
      };
    },
  };
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}
