/**
 * A budget store that keeps working when its shared store (Redis) does not.
 *
 * Every call granted by the shared store is also recorded in a local memory
 * store, so the instance always knows what it sent itself. While the shared
 * store is unavailable (its connection is not ready, or an operation fails),
 * decisions are taken locally against a conservative share of each limit:
 * `floor(limit × localShare)` per window and `floor(concurrent × localShare)`
 * in flight (at least 1 each). The other instances, which this one cannot
 * see during the outage, are assumed to take at most the rest. Once the
 * shared store answers again it decides again; what was sent locally in the
 * meantime was never counted there, which the share leaves room for.
 */
import type { ApiFamily } from '../mixpanel/types.js';
import { createMemoryBudgetStore, type AcquireRequest, type BudgetStore, type StoreUsage } from './store.js';

export interface FallbackBudgetStoreOptions {
  /** The store shared by every instance (Redis). Left open by close(). */
  readonly shared: BudgetStore;
  /** Whether the shared store can be asked now (its connection is ready); asked before every operation. */
  readonly available: () => boolean;
  /** Fraction of each limit this instance may use on its own, above 0 and at most 1. */
  readonly localShare: number;
  /** Told when an operation of the shared store failed and the local store answered instead. Default: ignore. */
  readonly onFallback?: (error: unknown) => void;
}

export interface FallbackBudgetStore extends BudgetStore {
  /** True while decisions are taken locally. */
  readonly degraded: boolean;
}

export function createFallbackBudgetStore(options: FallbackBudgetStoreOptions): FallbackBudgetStore {
  const { shared, localShare } = options;
  if (!(localShare > 0 && localShare <= 1)) throw new RangeError(`localShare must be in (0, 1], got ${localShare}`);
  const local = createMemoryBudgetStore();
  const onFallback = options.onFallback ?? (() => undefined);
  let failing = false;

  /** Runs `sharedOp` when the shared store can answer, `localOp` otherwise or when it fails. */
  const either = async <T>(sharedOp: () => Promise<T>, localOp: () => Promise<T>): Promise<T> => {
    if (!options.available()) {
      failing = true;
      return localOp();
    }
    try {
      const result = await sharedOp();
      failing = false;
      return result;
    } catch (error) {
      failing = true;
      onFallback(error);
      return localOp();
    }
  };

  const shareOf = (request: AcquireRequest): AcquireRequest => ({
    ...request,
    windows: request.windows.map((window) => ({ ...window, limit: Math.max(1, Math.floor(window.limit * localShare)) })),
    concurrent: request.concurrent === undefined ? undefined : Math.max(1, Math.floor(request.concurrent * localShare)),
  });

  return {
    get degraded() {
      return failing || !options.available();
    },
    tryAcquire: (request) =>
      either(
        async () => {
          const result = await shared.tryAcquire(request);
          // Local counts are a subset of the shared ones, so under the same limits this always records.
          if (result.granted) await local.tryAcquire(request);
          return result;
        },
        () => local.tryAcquire(shareOf(request)),
      ),
    release: async (scope: string, family: ApiFamily, leaseId: string) => {
      await local.release(scope, family, leaseId);
      await either(
        () => shared.release(scope, family, leaseId),
        async () => undefined,
      );
    },
    renew: async (scope, family, leaseId, leaseUntil, now) => {
      await local.renew(scope, family, leaseId, leaseUntil, now);
      await either(
        () => shared.renew(scope, family, leaseId, leaseUntil, now),
        async () => undefined,
      );
    },
    backoff: async (scope, family, until, now) => {
      await local.backoff(scope, family, until, now);
      await either(
        () => shared.backoff(scope, family, until, now),
        async () => undefined,
      );
    },
    usage: (scope, family, windows, now): Promise<StoreUsage> =>
      either(
        () => shared.usage(scope, family, windows, now),
        () => local.usage(scope, family, windows, now),
      ),
    async close() {
      await local.close();
    },
  };
}
