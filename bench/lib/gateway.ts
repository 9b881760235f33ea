/**
 * Starts the real gateway on loopback (port 0) against an emulator, with the
 * emulator's demo credentials and otherwise the defaults a deployment gets.
 */
import { loadConfig } from '../../src/config/index.js';
import { DEMO_PROJECT } from '../../src/emulator/server.js';
import { createLogger } from '../../src/observability/logger.js';
import type { MembershipStore } from '../../src/membership/types.js';
import { createGateway, type Gateway, type GatewayOptions } from '../../src/server/gateway.js';
import { Secret } from '../../src/core/secret.js';

/** The webhook's Basic credentials on a bench gateway. */
export const BENCH_WEBHOOK_AUTH = { username: 'mixpanel', password: new Secret('bench-webhook-password-01') };
/** `Authorization` header for BENCH_WEBHOOK_AUTH. */
export const BENCH_WEBHOOK_AUTHORIZATION = `Basic ${Buffer.from(`mixpanel:${BENCH_WEBHOOK_AUTH.password.reveal()}`).toString('base64')}`;

export interface BenchGatewayOptions {
  /** Base URL of the emulator every host family points at. */
  readonly emulatorUrl: string;
  /** A store to use instead of an in-memory one (the caller closes it). */
  readonly membership?: MembershipStore;
  /** Extra environment variables for loadConfig. */
  readonly env?: Readonly<Record<string, string>>;
  /** Clock and timers of the gateway (a scaled clock to run a simulated hour). Default: the system's. */
  readonly clock?: Pick<GatewayOptions, 'now' | 'timers'>;
}

export async function startBenchGateway(options: BenchGatewayOptions): Promise<Gateway> {
  const config = loadConfig({
    MIXPANEL_PROJECT_ID: DEMO_PROJECT.projectId,
    MIXPANEL_SERVICE_ACCOUNT_USERNAME: DEMO_PROJECT.username,
    MIXPANEL_SERVICE_ACCOUNT_SECRET: DEMO_PROJECT.secret,
    MIXPANEL_PROJECT_TOKEN: DEMO_PROJECT.token,
    MIXPANEL_BASE_URL: options.emulatorUrl,
    MEMBERSHIP_STORE: 'memory',
    HOST: '127.0.0.1',
    PORT: '0',
    GRAPHIQL: 'false',
    LOG_LEVEL: 'silent',
    WEBHOOK_USERNAME: BENCH_WEBHOOK_AUTH.username,
    WEBHOOK_PASSWORD: BENCH_WEBHOOK_AUTH.password.reveal(),
    ...options.env,
  });
  return createGateway(config, {
    logger: createLogger('silent'),
    port: 0,
    ...options.clock,
    ...(options.membership ? { membership: options.membership } : {}),
  });
}

export interface GraphQLResult {
  readonly status: number;
  readonly data?: Record<string, unknown> | null;
  readonly errors?: readonly { message: string; extensions?: Record<string, unknown> }[];
}

/** One GraphQL POST; transport failures come back as status 0 with one error. */
export async function postGraphQL(url: string, query: string, variables?: Record<string, unknown>): Promise<GraphQLResult> {
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json' },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as Omit<GraphQLResult, 'status'>;
    return { status: response.status, ...body };
  } catch (error) {
    return { status: 0, errors: [{ message: error instanceof Error ? error.message : String(error) }] };
  }
}
