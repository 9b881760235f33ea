/**
 * Ends every subscription served over HTTP (SSE) when `signal` aborts: its
 * event stream completes (yoga sends the `complete` event and ends the
 * response) instead of being cut. graphql-ws subscriptions end with their
 * socket, which the gateway closes with 1001 (going away).
 */
import { isAsyncIterable, type Plugin } from 'graphql-yoga';

export function useGracefulShutdown(signal: AbortSignal): Plugin {
  return {
    onSubscribe: () => ({
      onSubscribeResult: ({ result, setResult }) => {
        if (isAsyncIterable(result)) setResult(endOnAbort(result, signal));
      },
    }),
  };
}

function endOnAbort<T>(source: AsyncIterable<T>, signal: AbortSignal): AsyncIterableIterator<T> {
  const iterator = source[Symbol.asyncIterator]();
  const finished: IteratorResult<T> = { done: true, value: undefined };
  const aborted = new Promise<IteratorResult<T>>((resolve) => {
    if (signal.aborted) resolve(finished);
    else signal.addEventListener('abort', () => resolve(finished), { once: true });
  });
  const stop = async (): Promise<IteratorResult<T>> => {
    await iterator.return?.();
    return finished;
  };
  const wrapped: AsyncIterableIterator<T> = {
    [Symbol.asyncIterator]: () => wrapped,
    async next() {
      if (signal.aborted) return stop();
      const result = await Promise.race([iterator.next(), aborted]);
      return result === finished ? stop() : result;
    },
    return: () => stop(),
    throw: async (error: unknown) => {
      if (iterator.throw) return iterator.throw(error);
      throw error;
    },
  };
  return wrapped;
}
