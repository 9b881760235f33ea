/**
 * graphql-ws over WebSocket on the GraphQL path. Operations go through
 * yoga.getEnveloped, so WebSocket subscriptions see the same plugins,
 * context and masking as HTTP.
 */
import { useServer } from 'graphql-ws/use/ws';
import { GraphQLError, type DocumentNode, type ExecutionArgs } from 'graphql';
import { WebSocketServer, type WebSocket } from 'ws';
import type { GatewayYoga } from './gateway.js';

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

export function attachGraphqlWs(yoga: GatewayYoga, isAuthorized: (authorization: string | undefined) => boolean): WebSocketServer {
  const wss = new WebSocketServer({ noServer: true });
  useServer(
    {
      execute: (args) => (args as EnvelopedArgs).execute(args) as never,
      subscribe: (args) => (args as EnvelopedArgs).subscribe(args) as never,
      onConnect: (ctx) => {
        const authorization = ctx.connectionParams?.['authorization'];
        // false closes the socket with CloseCode.Forbidden (4403).
        return isAuthorized(typeof authorization === 'string' ? authorization : undefined);
      },
      onSubscribe: async (ctx, _id, payload) => {
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          ...ctx,
          req: ctx.extra.request,
          socket: ctx.extra.socket,
          params: payload,
          signal: closedSignalOf(ctx.extra.socket),
        });
        let document: DocumentNode;
        try {
          document = parse(payload.query);
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
