/**
 * Builds the gateway app in front of the Mixpanel emulator without listening: requests go to
 * `app.fetch` as Fetch Requests, so a test that needs no socket (no WebSocket, no streamed download,
 * no Node-only route) opens no gateway port. Torn down after each test like startGateway.
 */
import { afterEach } from 'vitest';
import { createEmulator, type Emulator, type EmulatorOptions } from '../../src/emulator/server.js';
import { createGatewayApp, type GatewayApp, type GatewayAppOptions } from '../../src/server/app.js';
import { createLogger } from '../../src/observability/logger.js';
import { testGatewayConfig, type GraphQLResponse } from './gateway.js';

/** The origin app requests are addressed to; nothing listens there (loopback, like a test gateway's HOST). */
export const APP_ORIGIN = 'http://127.0.0.1';

export interface TestApp {
  readonly emulator: Emulator;
  readonly app: GatewayApp;
  /** `app.fetch` on a path of the gateway (`/graphql`, `/healthz` …). */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  /** POSTs a GraphQL operation to `path` (default: the default project's endpoint). */
  query<T = Record<string, any>>(
    document: string,
    variables?: Record<string, unknown>,
    headers?: Record<string, string>,
    path?: string,
  ): Promise<GraphQLResponse<T>>;
  close(): Promise<void>;
}

export interface CreateTestAppOptions {
  /** Emulator options; default { size: 'small' }. Ignored when `emulator` is given. */
  readonly emulatorOptions?: EmulatorOptions;
  /** Reuse a running emulator (it is not closed with the app). */
  readonly emulator?: Emulator;
  /** Extra environment variables for loadConfig. */
  readonly env?: Record<string, string>;
  readonly appOptions?: GatewayAppOptions;
}

const running = new Set<TestApp>();
afterEach(async () => {
  await Promise.all([...running].map((a) => a.close()));
  running.clear();
});

export async function createTestApp(options: CreateTestAppOptions = {}): Promise<TestApp> {
  const emulator = options.emulator ?? (await createEmulator(options.emulatorOptions ?? { size: 'small' }));
  const config = testGatewayConfig(emulator, options.env);
  const app = await createGatewayApp(config, { logger: createLogger('silent'), ...options.appOptions });
  const ownsEmulator = options.emulator === undefined;
  let closed = false;
  // A Request carries no Host header of itself; a browser or HTTP client always sends the URL's.
  const fetchPath = (path: string, init?: RequestInit) => {
    const headers = new Headers(init?.headers);
    if (!headers.has('host')) headers.set('host', new URL(APP_ORIGIN).host);
    return app.fetch(new Request(new URL(path, APP_ORIGIN), { ...init, headers }));
  };
  const handle: TestApp = {
    emulator,
    app,
    fetch: fetchPath,
    async query(document, variables, headers, path = config.graphqlPath) {
      const response = await fetchPath(path, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...headers },
        body: JSON.stringify({ query: document, variables }),
      });
      const body = (await response.json()) as Omit<GraphQLResponse, 'status'>;
      return { status: response.status, ...body } as GraphQLResponse<any>;
    },
    async close() {
      if (closed) return;
      closed = true;
      running.delete(handle);
      await app.close();
      if (ownsEmulator) await emulator.close();
    },
  };
  running.add(handle);
  return handle;
}
