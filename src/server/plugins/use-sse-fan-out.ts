/**
 * Subscriptions over SSE (`Accept: text/event-stream`) served through the
 * fan-out (src/pubsub/fan-out.ts), as graphql-ws subscriptions are: the
 * request's subscribe function is replaced by joining the operation's group,
 * and the stream yoga writes yields the group's results, each carrying its
 * JSON (yoga's SSE writer uses a result's `stringify` when it has one), so the
 * `data:` of an event is serialised once per group, not once per stream.
 *
 * Slow consumers: yoga pulls the next result only when the response can be
 * written, so what a stalled client has not read queues here, bounded by
 * `maxQueuedBytes`; past it the stream leaves its group, its queue is
 * dropped, and the client is sent one last result with a `SLOW_CONSUMER`
 * error, then `complete`.
 */
import type { ExecutionArgs, ExecutionResult } from 'graphql';
import { createGraphQLError, type Plugin } from 'graphql-yoga';
import { fanOutKey, type FanOut, type FanOutMember, type SerializedResult } from '../../pubsub/fan-out.js';

/** `extensions.code` of the error ending a stream whose client read too slowly. */
export const SLOW_CONSUMER = 'SLOW_CONSUMER';

/** Marks the context a group runs on, so its own subscribe is not grouped again. */
const GROUP_SOURCE = Symbol('fan-out group source');

type GetEnveloped = (initial: Record<string | symbol, unknown>) => {
  subscribe: (args: ExecutionArgs) => unknown;
  contextFactory: () => unknown;
};

export interface SseFanOutOptions {
  readonly fanOut: FanOut;
  /** The yoga app's getEnveloped (bound late: the plugin is created before the app). */
  readonly getEnveloped: () => GetEnveloped;
  /**
   * Bytes of serialised events a stream may have waiting for its client before it is ended as a slow
   * consumer. Default 4 MiB.
   */
  readonly maxQueuedBytes?: number;
}

export function useSseFanOut(options: SseFanOutOptions): Plugin {
  const { fanOut } = options;
  const maxQueuedBytes = options.maxQueuedBytes ?? 4 * 1024 * 1024;
  return {
    onSubscribe({ args, setSubscribeFn }) {
      const context = args.contextValue as unknown as Record<string | symbol, unknown>;
      const request = context['request'] as Request | undefined;
      if (!request || context[GROUP_SOURCE] || !request.headers.get('accept')?.includes('text/event-stream')) return;
      const key = fanOutKey({
        endpoint: new URL(request.url).pathname,
        schema: args.schema,
        document: args.document,
        operationName: args.operationName,
        variables: args.variableValues,
        authorization: request.headers.get('authorization'),
      });
      // The group runs the operation once, on a context of its own: it outlives any one member's request.
      const start = async (signal: AbortSignal) => {
        const enveloped = options.getEnveloped()({ request, params: context['params'], signal, [GROUP_SOURCE]: true });
        const contextValue = await enveloped.contextFactory();
        return enveloped.subscribe({ ...args, contextValue }) as Promise<AsyncIterable<ExecutionResult> | ExecutionResult>;
      };
      setSubscribeFn(async () => {
        const subscription = createStreamSubscription(maxQueuedBytes, () => fanOut.slowConsumerClosed('sse'));
        const outcome = await fanOut.join(key, start, subscription.member);
        if (outcome.kind === 'result') return outcome.result;
        subscription.joined(outcome.leave);
        return subscription.stream;
      });
    },
  };
}

/** The result yoga writes for an event, shared by every stream of the group. */
const streamResults = new WeakMap<SerializedResult, ExecutionResult>();
function streamResultOf(event: SerializedResult): ExecutionResult {
  let result = streamResults.get(event);
  if (!result) {
    const json = event.json;
    result = { ...event.result, stringify: () => json } as ExecutionResult;
    streamResults.set(event, result);
  }
  return result;
}

function slowConsumerResult(): ExecutionResult {
  return {
    errors: [
      createGraphQLError('Subscription ended: the client read events slower than they arrived; subscribe again', {
        extensions: { code: SLOW_CONSUMER },
      }),
    ],
  };
}

/** One SSE subscription served by a group: the member the group writes to and the stream yoga pulls from. */
function createStreamSubscription(maxQueuedBytes: number, onSlowConsumer: () => void) {
  const queue: SerializedResult[] = [];
  let queuedBytes = 0;
  let last: ExecutionResult | undefined;
  let finished: { readonly error?: unknown } | undefined;
  let waiting: { resolve(result: IteratorResult<ExecutionResult>): void; reject(error: unknown): void } | undefined;
  let leave: (() => void) | undefined;

  const settle = () => {
    if (!waiting) return;
    const { resolve, reject } = waiting;
    if (queue.length > 0) {
      const event = queue.shift()!;
      queuedBytes -= event.json.length;
      waiting = undefined;
      resolve({ done: false, value: streamResultOf(event) });
    } else if (last) {
      const value = last;
      last = undefined;
      waiting = undefined;
      resolve({ done: false, value });
    } else if (finished) {
      waiting = undefined;
      if (finished.error === undefined) resolve({ done: true, value: undefined });
      else reject(finished.error);
    }
  };

  const finish = (error?: unknown) => {
    if (finished) return;
    finished = { error };
    leave?.();
    settle();
  };

  const member: FanOutMember = {
    transport: 'sse',
    deliver(event) {
      queue.push(event);
      queuedBytes += event.json.length;
      if (queuedBytes > maxQueuedBytes) {
        queue.length = 0;
        queuedBytes = 0;
        last = slowConsumerResult();
        onSlowConsumer();
        finish();
      }
      settle();
    },
    end: (error) => finish(error),
  };

  const stream = {
    [Symbol.asyncIterator](): AsyncIterableIterator<ExecutionResult> {
      return stream;
    },
    next(): Promise<IteratorResult<ExecutionResult>> {
      return new Promise((resolve, reject) => {
        waiting = { resolve, reject };
        settle();
      });
    },
    return(): Promise<IteratorResult<ExecutionResult>> {
      queue.length = 0;
      last = undefined;
      finish();
      return Promise.resolve({ done: true, value: undefined });
    },
    throw(error: unknown): Promise<IteratorResult<ExecutionResult>> {
      finish();
      return Promise.reject(error);
    },
  } satisfies AsyncIterableIterator<ExecutionResult>;

  return {
    member,
    stream,
    /** Called once the group accepted the member; a stream returned meanwhile leaves at once. */
    joined(leaveGroup: () => void) {
      leave = leaveGroup;
      if (finished) leaveGroup();
    },
  };
}
