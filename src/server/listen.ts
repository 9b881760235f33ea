/**
 * The gateway app on a socket: a Node HTTP server for every route, a graphql-ws server per GraphQL
 * endpoint on the same port, and their graceful shutdown.
 *
 * Shutdown (close()) is graceful and bounded by `config.shutdownTimeoutMs`:
 * /readyz turns 503 and no new connection is accepted; SSE subscriptions
 * complete, graphql-ws sockets close with 1001 (going away); requests in
 * flight finish; what is still open at the bound is cut. Redis being
 * unreachable never holds it up.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocketServer } from 'ws';
import type { Config } from '../config/types.js';
import type { Logger } from '../observability/logger.js';
import type { GatewayApp } from './app.js';
import { pathOf } from './route.js';
import { settledWithin } from './settle.js';
import { attachGraphqlWs } from './websocket.js';

export interface ListeningGateway {
  /** http://host:port of the listening server. */
  readonly url: string;
  readonly server: Server;
  /** Shuts the server and the app down (see the file's comment). Once; later calls return the same promise. */
  close(): Promise<void>;
}

/** Listens on `port` (0 = any free port) at `config.host`; a failed start closes the app and throws a readable error. */
export async function listenGateway(app: GatewayApp, config: Config, port: number, logger: Logger): Promise<ListeningGateway> {
  const requests = createRequestCounter();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    requests.started(res);
    // While shutting down, keep-alive connections are told to close after this response.
    if (app.shuttingDown.aborted) res.setHeader('connection', 'close');
    app.handle(req, res);
  });

  const wsServers = new Map<string, WebSocketServer>();
  for (const [endpoint, { yoga, projectKey }] of app.endpoints) {
    wsServers.set(
      endpoint,
      attachGraphqlWs(yoga, {
        endpoint,
        fanOut: app.webSocket.fanOut,
        maxBufferedBytes: config.subscriptions.maxBufferedBytes,
        apiKeys: app.webSocket.apiKeys,
        projectKey,
        maxPayloadBytes: config.security.wsMaxPayloadBytes,
        maxSubscriptions: config.security.wsMaxSubscriptions,
        persisted: app.webSocket.persisted,
      }),
    );
  }
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const wss = wsServers.get(pathOf(req.url));
    if (!wss) {
      socket.end('HTTP/1.1 404 Not Found\r\n\r\n');
      return;
    }
    // CORS does not apply to WebSockets: a page on another origin could otherwise open one.
    if (!app.webSocket.allowsOrigin(req.headers.origin, req.headers.host)) {
      socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      // ws closes a socket whose frame exceeds maxPayload (1009) on reading its header, then emits the
      // error, which graphql-ws would print: a client can cause that at will, so it is only a debug line.
      const emit = ws.emit.bind(ws);
      ws.emit = ((event: string, ...args: unknown[]) => {
        if (event === 'error' && (args[0] as { code?: string } | undefined)?.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
          logger.debug('WebSocket closed: message over WS_MAX_PAYLOAD_BYTES');
          return true;
        }
        return emit(event, ...args);
      }) as typeof ws.emit;
      wss.emit('connection', ws, req);
    });
  });

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      const deadline = Date.now() + config.shutdownTimeoutMs;
      // No new connection; SSE streams complete; idle keep-alive connections close.
      const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
      app.beginShutdown();
      server.closeIdleConnections();
      const sockets = [...wsServers.values()].flatMap((wss) => [...wss.clients]);
      const socketsClosed = Promise.all(sockets.map((socket) => new Promise((resolve) => socket.once('close', resolve))));
      for (const socket of sockets) socket.close(CLOSE_GOING_AWAY, 'Gateway shutting down');
      await Promise.all([requests.done(Math.max(0, deadline - Date.now())), settledWithin(socketsClosed, Math.max(0, deadline - Date.now()))]);
      // Past the bound: whatever is still open is cut.
      for (const wss of wsServers.values()) {
        for (const client of wss.clients) client.terminate();
        wss.close();
      }
      server.closeAllConnections();
      await serverClosed;
      await app.close();
    })());

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, config.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    // Stores, Redis connections and Lexicon timers are already open: a failed start must not leave them behind.
    await close();
    throw listenError(error, config.host, port);
  }
  const address = server.address();
  const boundPort = typeof address === 'object' && address ? address.port : config.port;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${boundPort}`;
  return { url, server, close };
}

/** WebSocket close code 1001: the server is going away (RFC 6455 §7.4.1); graphql-ws clients reconnect. */
const CLOSE_GOING_AWAY = 1001;

/** Counts HTTP requests in flight, so shutdown can let them finish. */
function createRequestCounter() {
  let inFlight = 0;
  const drained = new Set<() => void>();
  return {
    started(res: ServerResponse) {
      inFlight++;
      res.once('close', () => {
        inFlight--;
        if (inFlight === 0) for (const wake of drained) wake();
      });
    },
    /** Resolves once no HTTP request is in flight, or after `ms`. */
    done(ms: number): Promise<void> {
      return inFlight === 0 ? Promise.resolve() : settledWithin(new Promise<void>((resolve) => drained.add(resolve)), ms).finally(() => drained.clear());
    },
  };
}

function listenError(error: unknown, host: string, port: number): Error {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const reason = code === 'EADDRINUSE' ? 'the address is already in use (set PORT to a free port)' : error instanceof Error ? error.message : String(error);
  return new Error(`Cannot listen on ${host}:${port}: ${reason}`, { cause: error });
}
