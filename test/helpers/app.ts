/**
 * Builds the gateway app in front of the Mixpanel emulator without listening: requests go to
 * `app.fetch` as Fetch Requests, so a test that needs no socket (no WebSocket, no streamed download,
 * no Node-only route) opens no gateway port. The emulator still listens on loopback: it stands for
 * Mixpanel, which the gateway reaches over HTTP. Torn down after each test like startGateway, and
 * offers the same surface (GatewayUnderTest), so a test moves from one to the other by its setup line.
 *
 * The same plugins answer as over a socket (one route table, one yoga per endpoint); what a socket
 * would add is the `Host` header an HTTP client sends of itself. The test gateway is bound to
 * loopback, where the origin policy refuses a request whose Host is not a loopback name (DNS
 * rebinding), so every request here carries `Host: 127.0.0.1`, the value a client of a test
 * gateway sends bar the port. A test may set its own Host to see it refused.
 */
import { afterEach } from 'vitest';
import { createEmulator } from '../../src/emulator/server.js';
import { createGatewayApp, type GatewayApp, type GatewayAppOptions } from '../../src/server/app.js';
import { createLogger } from '../../src/observability/logger.js';
import { postOperation, testGatewayConfig, type GatewayUnderTest, type GatewayUnderTestOptions } from './gateway.js';

/** The origin app requests are addressed to; nothing listens there (loopback, like a test gateway's HOST). */
export const APP_ORIGIN = 'http://127.0.0.1';

export interface TestApp extends GatewayUnderTest {
  /** The gateway app itself (`fetch`, `handle`, its runtimes …). */
  readonly gateway: GatewayApp;
}

export type CreateTestAppOptions = GatewayUnderTestOptions<GatewayAppOptions>;

const running = new Set<TestApp>();
afterEach(async () => {
  await Promise.all([...running].map((a) => a.close()));
  running.clear();
});

export async function createTestApp(options: CreateTestAppOptions = {}): Promise<TestApp> {
  const emulator = options.emulator ?? (await createEmulator(options.emulatorOptions ?? { size: 'small' }));
  const config = testGatewayConfig(emulator, options.env);
  const gateway = await createGatewayApp(config, { logger: createLogger('silent'), ...options.gatewayOptions });
  const ownsEmulator = options.emulator === undefined;
  let closed = false;
  // A Request carries no Host header of itself; an HTTP client always sends the URL's (see above).
  const fetchPath = (path: string, init?: RequestInit) => {
    const headers = new Headers(init?.headers);
    if (!headers.has('host')) headers.set('host', new URL(APP_ORIGIN).host);
    return gateway.fetch(new Request(new URL(path, APP_ORIGIN), { ...init, headers }));
  };
  const handle: TestApp = {
    emulator,
    gateway,
    graphqlPath: config.graphqlPath,
    fetch: fetchPath,
    query: (document, variables, headers, path = config.graphqlPath) => postOperation(fetchPath, path, document, variables, headers),
    async close() {
      if (closed) return;
      closed = true;
      running.delete(handle);
      await gateway.close();
      if (ownsEmulator) await emulator.close();
    },
  };
  running.add(handle);
  return handle;
}
