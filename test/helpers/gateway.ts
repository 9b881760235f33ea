/**
 * Starts the Mixpanel emulator and a gateway on loopback (port 0) for one
 * test, and tears both down after it: the tservers pattern of graphql-ws.
 */
import { afterEach } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import type { Config } from '../../src/config/types.js';
import { createEmulator, DEMO_PROJECT, type Emulator, type EmulatorOptions } from '../../src/emulator/server.js';
import { createGateway, type Gateway, type GatewayOptions } from '../../src/server/gateway.js';
import { createLogger } from '../../src/observability/logger.js';
import { Secret } from '../../src/core/secret.js';

/** The Basic credentials every test gateway's webhook requires (outside demo mode the receiver is never open). */
export const WEBHOOK_CREDENTIALS = { username: 'mixpanel', password: 'test-webhook-password-0001' } as const;
/** The sender option of `createCohortSyncSender` for a test gateway. */
export const WEBHOOK_BASIC_AUTH = { username: WEBHOOK_CREDENTIALS.username, password: new Secret(WEBHOOK_CREDENTIALS.password) };
/** The `Authorization` header a test gateway's webhook accepts. */
export const WEBHOOK_AUTHORIZATION = `Basic ${Buffer.from(`${WEBHOOK_CREDENTIALS.username}:${WEBHOOK_CREDENTIALS.password}`).toString('base64')}`;

export interface GraphQLResponse<T = Record<string, any>> {
  readonly status: number;
  readonly data?: T | null;
  readonly errors?: readonly { message: string; path?: readonly (string | number)[]; extensions?: Record<string, unknown> }[];
  readonly extensions?: Record<string, any>;
}

/**
 * What a test reads of a gateway, whether it listens (startGateway) or not (createTestApp in app.ts):
 * helpers written against it serve both.
 */
export interface GatewayUnderTest {
  readonly emulator: Emulator;
  /** The gateway's parts a test inspects (runtimes, typed schemas, pub/sub, metrics). */
  readonly gateway: Pick<Gateway, 'projects' | 'lexiconTypes' | 'pubsub' | 'metrics'>;
  /** Path of the default project's GraphQL endpoint (`/graphql`). */
  readonly graphqlPath: string;
  /** A request to a path of the gateway (`/healthz`, `/webhooks/…`). */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  /** POSTs a GraphQL operation to `path` (default: `graphqlPath`) and reads the JSON answer. */
  query<T = Record<string, any>>(
    document: string,
    variables?: Record<string, unknown>,
    headers?: Record<string, string>,
    path?: string,
  ): Promise<GraphQLResponse<T>>;
  close(): Promise<void>;
}

/** POSTs one GraphQL operation through `fetchPath` and reads the JSON answer with its HTTP status. */
export async function postOperation(
  fetchPath: GatewayUnderTest['fetch'],
  path: string,
  document: string,
  variables?: Record<string, unknown>,
  headers?: Record<string, string>,
): Promise<GraphQLResponse<any>> {
  const response = await fetchPath(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...headers },
    body: JSON.stringify({ query: document, variables }),
  });
  const body = (await response.json()) as Omit<GraphQLResponse, 'status'>;
  return { status: response.status, ...body } as GraphQLResponse<any>;
}

export interface TestGateway extends GatewayUnderTest {
  readonly gateway: Gateway;
  readonly url: string;
  readonly graphqlUrl: string;
}

/** How a test gateway or app is set up; `O` are the options of what it builds. */
export interface GatewayUnderTestOptions<O> {
  /** Emulator options; default { size: 'small' }. Ignored when `emulator` is given. */
  readonly emulatorOptions?: EmulatorOptions;
  /** Reuse a running emulator (it is not closed with the gateway). */
  readonly emulator?: Emulator;
  /** Extra environment variables for loadConfig. */
  readonly env?: Record<string, string>;
  readonly gatewayOptions?: O;
}

export type StartGatewayOptions = GatewayUnderTestOptions<GatewayOptions>;

const running = new Set<TestGateway>();
afterEach(async () => {
  await Promise.all([...running].map((g) => g.close()));
  running.clear();
});

/** The configuration of a test gateway in front of `emulator` (its demo project, memory store, silent, port 0). */
export function testGatewayConfig(emulator: Emulator, env: Record<string, string> = {}): Config {
  return loadConfig({
    MIXPANEL_PROJECT_ID: DEMO_PROJECT.projectId,
    MIXPANEL_SERVICE_ACCOUNT_USERNAME: DEMO_PROJECT.username,
    MIXPANEL_SERVICE_ACCOUNT_SECRET: DEMO_PROJECT.secret,
    MIXPANEL_PROJECT_TOKEN: DEMO_PROJECT.token,
    MIXPANEL_BASE_URL: emulator.url,
    MEMBERSHIP_STORE: 'memory',
    PORT: '0',
    LOG_LEVEL: 'silent',
    WEBHOOK_USERNAME: WEBHOOK_CREDENTIALS.username,
    WEBHOOK_PASSWORD: WEBHOOK_CREDENTIALS.password,
    ...env,
  });
}

export async function startGateway(options: StartGatewayOptions = {}): Promise<TestGateway> {
  const emulator = options.emulator ?? (await createEmulator(options.emulatorOptions ?? { size: 'small' }));
  const config = testGatewayConfig(emulator, options.env);
  const gateway = await createGateway(config, { logger: createLogger('silent'), ...options.gatewayOptions });
  const ownsEmulator = options.emulator === undefined;
  let closed = false;
  const fetchPath = (path: string, init?: RequestInit) => fetch(new URL(path, gateway.url), init);
  const handle: TestGateway = {
    emulator,
    gateway,
    url: gateway.url,
    graphqlUrl: gateway.graphqlUrl,
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
