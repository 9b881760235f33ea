/**
 * Counts subscriptions in progress, so the gateway's close() can let them end
 * (and unsubscribe from Redis) before it closes the connections they use.
 */
import { isAsyncIterable, type Plugin } from 'graphql-yoga';

/** Longest wait in close() for subscriptions to end (they end as soon as their connection closes). */
export const SUBSCRIPTION_DRAIN_MS = 1000;

/** Counts subscriptions in progress, so close() can let them finish before closing what they use. */
export function createSubscriptionTracker() {
  let active = 0;
  const waiters = new Set<() => void>();
  const plugin: Plugin = {
    onSubscribe: () => ({
      onSubscribeResult: ({ result }) => {
        if (!isAsyncIterable(result)) return;
        active += 1;
        return {
          onEnd: () => {
            active -= 1;
            if (active === 0) for (const wake of waiters) wake();
          },
        };
      },
    }),
  };
  /** Resolves once no subscription is active (or after `timeoutMs`) and their cleanup has run. */
  const ended = async (timeoutMs: number): Promise<void> => {
    if (active > 0) {
      let wake: (() => void) | undefined;
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        wake = resolve;
        waiters.add(resolve);
        timer = setTimeout(resolve, timeoutMs);
      });
      if (wake) waiters.delete(wake);
      clearTimeout(timer);
    }
    // onEnd runs as the iterator returns; the pubsub removes its listener a few microtasks later.
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { plugin, ended };
}
