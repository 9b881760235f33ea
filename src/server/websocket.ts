/**
 * graphql-ws over WebSocket on the GraphQL path. Operations go through
 * yoga.getEnveloped, so WebSocket subscriptions see the same plugins,
 * context and masking as HTTP.
 */
import { useServer } from 'graphql-ws/use/ws';
import { GraphQLError, type DocumentNode, type ExecutionArgs } from 'graphql';
import { createGraphQLError } from 'graphql-yoga';
import { WebSocketServer, type WebSocket } from 'ws';
import type { GatewayClient } from '../context.js';
import type { GatewayYoga } from './gateway.js';
import { mayReadProject, type ApiKeyCheck } from './plugins/use-api-keys.js';
import type { PersistedOperations } from './plugins/use-persisted-operations.js';

export interface GraphqlWsOptions {
  /** API keys, checked on `connection_init` (`{ "authorization": "Bearer <key>" }`). */
  readonly apiKeys: ApiKeyCheck;
  /** Project the endpoint serves: the client must be allowed to read it. */
  readonly projectKey: string;
  /** Largest message, in bytes: ws closes the socket (1009) on reading a larger frame's header, before buffering it. */
  readonly maxPayloadBytes: number;
  /** Most operations running at once on one socket; more are refused with an error. */
  readonly maxSubscriptions: number;
  /** Persisted-operations mode: only the manifest's operations run. */
  readonly persisted?: PersistedOperations | undefined;
}

/** The client each socket authenticated as on `connection_init`. */
const clientsBySocket = new WeakMap<WebSocket, GatewayClient>();

/** The enveloped execute/subscribe travel with the args, as in yoga's graphql-ws example. */
interface EnvelopedArgs extends ExecutionArgs {
  readonly execute: (args: ExecutionArgs) => unknown;
  readonly subscribe: (args: ExecutionArgs) => unknown;
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
  const wss = new WebSocketServer({ noServer: true, maxPayload: options.maxPayloadBytes });
  useServer(
    {
      execute: (args) => (args as EnvelopedArgs).execute(args) as never,
      subscribe: (args) => (args as EnvelopedArgs).subscribe(args) as never,
      onConnect: (ctx) => {
        if (!options.apiKeys.required) return true;
        const authorization = ctx.connectionParams?.['authorization'];
        const client = options.apiKeys.authenticate(typeof authorization === 'string' ? authorization : undefined);
        // false closes the socket with CloseCode.Forbidden (4403).
        if (!client || !mayReadProject(client, options.projectKey)) return false;
        clientsBySocket.set(ctx.extra.socket, client);
        return true;
      },
      onSubscribe: async (ctx, _id, payload) => {
        // The new operation is already listed in ctx.subscriptions.
        if (Object.keys(ctx.subscriptions).length > options.maxSubscriptions) {
          return [createGraphQLError(`At most ${options.maxSubscriptions} operations may run at once on one connection`, { extensions: { code: 'TOO_MANY_SUBSCRIPTIONS' } })];
        }
        let query = payload.query;
        if (options.persisted) {
          const resolved = options.persisted.resolve(payload);
          if (typeof resolved !== 'string') return [resolved];
          query = resolved;
        }
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          ...ctx,
          req: ctx.extra.request,
          socket: ctx.extra.socket,
          params: { ...payload, query },
          signal: closedSignalOf(ctx.extra.socket),
          client: clientsBySocket.get(ctx.extra.socket),
        });
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
        const args: EnvelopedArgs = {
          schema,
          document,
          operationName: payload.operationName,
          variableValues: payload.variables,
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
