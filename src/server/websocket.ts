/**
 * graphql-ws over WebSocket on the GraphQL path. Operations go through
 * yoga.getEnveloped, so WebSocket subscriptions see the same plugins,
 * context and masking as HTTP.
 *
 * Subscriptions are served through the fan-out (src/pubsub/fan-out.ts):
 * graphql-ws's `subscribe` joins the operation's group instead of running it,
 * and gets back a stream that yields nothing itself; the group writes each
 * event's `next` message straight to the socket, with the payload serialised
 * once for the group and only this subscription's id spliced in (the frame
 * is built once per event and id, and written to the TCP socket without
 * copying the payload: see `writeNext`). graphql-ws
 * still owns the protocol: `complete` from the client returns that stream
 * (leaving the group), the group's end completes it (graphql-ws sends
 * `complete`), and its failure throws from it (graphql-ws sends `error`).
 */
import type { Socket } from 'node:net';
import { useServer } from 'graphql-ws/use/ws';
import { GraphQLError, getOperationAST, type DocumentNode, type ExecutionArgs } from 'graphql';
import { createGraphQLError } from 'graphql-yoga';
import { WebSocketServer, WebSocket } from 'ws';
import type { GatewayClient } from '../schema/context.js';
import { fanOutKey, type FanOut, type FanOutMember, type SerializedResult } from '../pubsub/fan-out.js';
import type { GatewayYoga } from './project-yoga.js';
import { mayReadProject, type ApiKeyCheck } from './plugins/use-api-keys.js';
import type { PersistedOperations } from './plugins/use-persisted-operations.js';

/** The client each socket authenticated as on `connection_init`. */
const clientsBySocket = new WeakMap<WebSocket, GatewayClient>();

/** Close codes the gateway adds to graphql-ws's `CloseCode`. */
export const RealtimeCloseCode = {
  /**
   * 1013 "Try Again Later" (RFC 6455 §7.4.1, IANA registry): the socket's send buffer passed
   * `maxBufferedBytes` because the client reads slower than events arrive. graphql-ws clients retry it.
   */
  SlowConsumer: 1013,
} as const;

/** Default bound of a socket's send buffer (`bufferedAmount`): 4 MiB. */
export const DEFAULT_MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

export interface GraphqlWsOptions {
  /** The GraphQL endpoint this server answers (part of the fan-out group key). */
  readonly endpoint: string;
  /** API keys, checked on `connection_init` (`{ "authorization": "Bearer <key>" }`); a refused key closes the socket with 4403. */
  readonly apiKeys: ApiKeyCheck;
  /** Project the endpoint serves: the client must be allowed to read it. */
  readonly projectKey: string;
  /** Largest message, in bytes: ws closes the socket (1009) on reading a larger frame's header, before buffering it. */
  readonly maxPayloadBytes: number;
  /** Most operations running at once on one socket; more are refused with an error. */
  readonly maxSubscriptions: number;
  /** Persisted-operations mode: only the manifest's operations run. */
  readonly persisted?: PersistedOperations | undefined;
  /** Groups subscriptions; one per gateway, shared with SSE. */
  readonly fanOut: FanOut;
  /**
   * A socket whose `bufferedAmount` passes this many bytes after an event is written is closed with
   * `RealtimeCloseCode.SlowConsumer` (the close frame follows what is buffered; ws destroys the
   * connection 30 s later if the client still reads nothing). Default `DEFAULT_MAX_BUFFERED_BYTES`.
   */
  readonly maxBufferedBytes?: number;
}

/** The enveloped execute/subscribe travel with the args, as in yoga's graphql-ws example. */
interface EnvelopedArgs extends ExecutionArgs {
  readonly execute: (args: ExecutionArgs) => unknown;
  readonly subscribe: (args: ExecutionArgs) => unknown;
  /** Set for subscriptions: the group to join, and how to start it when it has no member. */
  readonly fanOut?: {
    readonly key: string;
    readonly socket: WebSocket;
    readonly id: string;
    readonly start: (signal: AbortSignal) => Promise<unknown>;
  };
}

/**
 * Aborted when the connection closes; one per socket, because a listener per operation would
 * pile up on a long-lived connection running many operations.
 */
const closedSignals = new WeakMap<WebSocket, AbortSignal>();
function closedSignalOf(socket: WebSocket): AbortSignal {
  let signal = closedSignals.get(socket);
  if (!signal) {
    const controller = new AbortController();
    socket.once('close', () => controller.abort());
    signal = controller.signal;
    closedSignals.set(socket, signal);
  }
  return signal;
}

export function attachGraphqlWs(yoga: GatewayYoga, options: GraphqlWsOptions): WebSocketServer {
  const { fanOut } = options;
  const maxBufferedBytes = options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
  const wss = new WebSocketServer({ noServer: true, maxPayload: options.maxPayloadBytes });
  useServer(
    {
      execute: (args) => (args as EnvelopedArgs).execute(args) as never,
      subscribe: async (args) => {
        const grouped = (args as EnvelopedArgs).fanOut;
        if (!grouped) return (args as EnvelopedArgs).subscribe(args) as never;
        const subscription = createSocketSubscription(grouped.socket, grouped.id, maxBufferedBytes, () => fanOut.slowConsumerClosed('ws'));
        const outcome = await fanOut.join(grouped.key, grouped.start as never, subscription.member);
        if (outcome.kind === 'result') return outcome.result as never;
        subscription.joined(outcome.leave);
        return subscription.stream as never;
      },
      onConnect: (ctx) => {
        if (!options.apiKeys.required) return true;
        const authorization = ctx.connectionParams?.['authorization'];
        const client = options.apiKeys.authenticate(typeof authorization === 'string' ? authorization : undefined);
        // false closes the socket with CloseCode.Forbidden (4403).
        if (!client || !mayReadProject(client, options.projectKey)) return false;
        clientsBySocket.set(ctx.extra.socket, client);
        return true;
      },
      onSubscribe: async (ctx, id, payload) => {
        // The new operation is already listed in ctx.subscriptions.
        if (Object.keys(ctx.subscriptions).length > options.maxSubscriptions) {
          return [
            createGraphQLError(`At most ${options.maxSubscriptions} operations may run at once on one connection`, {
              extensions: { code: 'TOO_MANY_SUBSCRIPTIONS' },
            }),
          ];
        }
        let query = payload.query;
        if (options.persisted) {
          const resolved = options.persisted.resolve(payload);
          if (typeof resolved !== 'string') return [resolved];
          query = resolved;
        }
        const initial = {
          ...ctx,
          req: ctx.extra.request,
          socket: ctx.extra.socket,
          params: { ...payload, query },
          client: clientsBySocket.get(ctx.extra.socket),
        };
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({ ...initial, signal: closedSignalOf(ctx.extra.socket) });
        let document: DocumentNode;
        try {
          document = parse(query);
        } catch (error) {
          // Thrown, a syntax error would close the whole socket (4500) and every operation on it.
          if (error instanceof GraphQLError) return [error];
          throw error;
        }
        const errors = validate(schema, document);
        if (errors.length > 0) return errors;
        const operationName = payload.operationName;
        const variableValues = payload.variables;
        if (getOperationAST(document, operationName)?.operation === 'subscription') {
          const authorization = ctx.connectionParams?.['authorization'];
          const key = fanOutKey({
            endpoint: options.endpoint,
            schema,
            document,
            operationName,
            variables: variableValues,
            authorization: typeof authorization === 'string' ? authorization : undefined,
          });
          // The group runs the operation once, on a context of its own: it outlives any one member's socket.
          const start = async (signal: AbortSignal) => {
            const enveloped = yoga.getEnveloped({ ...initial, signal });
            return enveloped.subscribe({ schema, document, operationName, variableValues, contextValue: await enveloped.contextFactory() });
          };
          const args: EnvelopedArgs = {
            schema,
            document,
            operationName,
            variableValues,
            contextValue: undefined,
            execute,
            subscribe,
            fanOut: { key, socket: ctx.extra.socket, id, start },
          };
          return args;
        }
        const args: EnvelopedArgs = {
          schema,
          document,
          operationName,
          variableValues,
          contextValue: await contextFactory(),
          execute,
          subscribe,
        };
        return args;
      },
    },
    wss,
  );
  return wss;
}

/** Socket closed (or closing) before an event could be written: the member leaves its group. */
class SocketClosedError extends Error {
  readonly code = 'SOCKET_CLOSED';
  constructor() {
    super('The WebSocket closed');
    this.name = 'SocketClosedError';
  }
}

/**
 * The frames of one event's `next` message, built once for the group: the shared tail
 * `,"type":"next","payload":<json>}`, and per subscription id the frame's start (WebSocket header and
 * `{"id":<id>`), then the whole frame once a second socket uses the same id. So writing a socket copies
 * no payload: it is one write of a shared frame, or a header and the shared tail in one `writev`.
 */
interface EventFrames {
  readonly tail: Buffer;
  readonly starts: Map<string, Buffer>;
  readonly wholes: Map<string, Buffer>;
}
const framesOfEvents = new WeakMap<SerializedResult, EventFrames>();
function framesOf(event: SerializedResult): EventFrames {
  let frames = framesOfEvents.get(event);
  if (!frames) {
    frames = { tail: Buffer.from(`,"type":"next","payload":${event.json}}`), starts: new Map(), wholes: new Map() };
    framesOfEvents.set(event, frames);
  }
  return frames;
}

/** Header of an unmasked, final text frame (RFC 6455 §5.2) carrying `length` bytes, as a server sends it. */
function textFrameHeader(length: number): Buffer {
  if (length < 126) return Buffer.from([0x81, length]);
  if (length < 65_536) return Buffer.from([0x81, 126, length >> 8, length & 0xff]);
  const header = Buffer.alloc(10);
  header[0] = 0x81;
  header[1] = 127;
  header.writeBigUInt64BE(BigInt(length), 2);
  return header;
}

/** The parts of ws's WebSocket a pre-built frame needs: its TCP socket, and whether its sender holds frames back. */
interface WsInternals {
  readonly _socket?: Socket;
  readonly _sender?: { readonly _state?: number; readonly _queue?: readonly unknown[] };
}

/**
 * The TCP socket to write a pre-built frame to, when that keeps the stream in order: ws's sender is idle
 * (state 0, nothing queued behind a compression or a Blob). Otherwise undefined, and the message goes
 * through `send`. ws has no API to send a frame built beforehand; these fields are checked, not assumed.
 */
function rawSocketOf(socket: WebSocket): Socket | undefined {
  const { _socket: raw, _sender: sender } = socket as unknown as WsInternals;
  if (!raw?.writable || sender?._state !== 0 || sender._queue?.length !== 0) return undefined;
  return raw;
}

/** Writes one event's `next` message for subscription `id` (`head` = `{"id":<id>`). */
function writeNext(socket: WebSocket, event: SerializedResult, id: string, head: Buffer): void {
  const frames = framesOf(event);
  const raw = rawSocketOf(socket);
  if (!raw) {
    socket.send(Buffer.concat([head, frames.tail]), { binary: false });
    return;
  }
  const whole = frames.wholes.get(id);
  if (whole) {
    raw.write(whole);
    return;
  }
  const start = frames.starts.get(id);
  if (start) {
    // A second socket with this id: from now on they share one frame.
    const built = Buffer.concat([start, frames.tail]);
    frames.wholes.set(id, built);
    raw.write(built);
    return;
  }
  const first = Buffer.concat([textFrameHeader(head.length + frames.tail.length), head]);
  frames.starts.set(id, first);
  raw.cork();
  raw.write(first);
  raw.write(frames.tail);
  raw.uncork();
}

/**
 * One graphql-ws subscription served by a group: the member the group writes to, and the stream
 * graphql-ws iterates (it yields nothing; it ends when the group ends, and leaves it when returned).
 */
function createSocketSubscription(socket: WebSocket, id: string, maxBufferedBytes: number, onSlowConsumer: () => void) {
  const head = Buffer.from(`{"id":${JSON.stringify(id)}`);
  let leave: (() => void) | undefined;
  let finished: { readonly error?: unknown } | undefined;
  let wake: ((result: IteratorResult<never>) => void) | undefined;
  let fail: ((error: unknown) => void) | undefined;

  const finish = (error?: unknown) => {
    if (finished) return;
    finished = { error };
    leave?.();
    if (error === undefined) wake?.({ done: true, value: undefined });
    else fail?.(error);
    wake = undefined;
    fail = undefined;
  };

  const member: FanOutMember = {
    transport: 'ws',
    deliver(event) {
      if (socket.readyState !== WebSocket.OPEN) throw new SocketClosedError();
      writeNext(socket, event, id, head);
      if (socket.bufferedAmount > maxBufferedBytes) {
        onSlowConsumer();
        // graphql-ws returns every subscription of the socket once it has closed.
        socket.close(RealtimeCloseCode.SlowConsumer, 'Subscriber too slow: its send buffer passed the limit');
      }
    },
    end: (error) => finish(error),
  };

  // graphql-ws returns a subscription only when it looks like an async generator (has `return`).
  const stream = {
    [Symbol.asyncIterator](): AsyncIterableIterator<never> {
      return stream;
    },
    next(): Promise<IteratorResult<never>> {
      if (finished) return finished.error === undefined ? Promise.resolve({ done: true, value: undefined }) : Promise.reject(finished.error);
      return new Promise((resolve, reject) => {
        wake = resolve;
        fail = reject;
      });
    },
    return(): Promise<IteratorResult<never>> {
      finish();
      return Promise.resolve({ done: true, value: undefined });
    },
    throw(error: unknown): Promise<IteratorResult<never>> {
      finish();
      return Promise.reject(error);
    },
  } satisfies AsyncIterableIterator<never> & { return(): Promise<IteratorResult<never>> };

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
