/**
 * Says in a response's `extensions` when it was served degraded, so a client
 * can tell a conservative budget from a spent one:
 *
 * ```json
 * "degraded": { "redis": "unreachable", "budget": "local-share", "localShare": 0.2 }
 * ```
 *
 * Present only while the shared budget store (Redis) cannot be reached and
 * each instance spends its local share of every limit (limits/fallback-store.ts).
 */
import { isAsyncIterable, type Plugin } from 'graphql-yoga';

export interface DegradedNoticeOptions {
  /** True while the budget is decided locally. */
  readonly degraded: () => boolean;
  readonly localShare: number;
}

export function useDegradedNotice(options: DegradedNoticeOptions): Plugin {
  return {
    onExecute: () => ({
      onExecuteDone({ result, setResult }) {
        if (isAsyncIterable(result) || !options.degraded()) return;
        setResult({
          ...result,
          extensions: { ...result.extensions, degraded: { redis: 'unreachable', budget: 'local-share', localShare: options.localShare } },
        });
      },
    }),
  };
}
