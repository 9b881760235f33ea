/**
 * createGateway(config) -> { url, yoga, server, close }: the gateway app (app.ts) listening on
 * `config.host` and a port (listen.ts), with graphql-ws on every GraphQL endpoint and a graceful,
 * bounded shutdown. Tests that need no socket use createGatewayApp and its `fetch` instead.
 */
import type { Server } from 'node:http';
import type { Config } from '../config/types.js';
import type { LexiconTypes } from '../lexicon-types/registry.js';
import { createLogger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { GatewayPubSub } from '../pubsub/types.js';
import type { ProjectRuntime } from '../runtime/types.js';
import { createGatewayApp, type GatewayApp, type GatewayAppOptions } from './app.js';
import { listenGateway } from './listen.js';
import type { GatewayYoga } from './project-yoga.js';

export type { GatewayYoga } from './project-yoga.js';

export interface GatewayOptions extends GatewayAppOptions {
  /** Listen on this port instead of config.port (0 = any free port). */
  readonly port?: number;
}

export interface Gateway {
  /** http://host:port of the listening server. */
  readonly url: string;
  /** URL of the default project's GraphQL endpoint, Lexicon-typed schema (GraphiQL in a browser). */
  readonly graphqlUrl: string;
  /** URL of the default project's endpoint with the generic schema (`<graphqlPath>/generic`). */
  readonly genericGraphqlUrl: string;
  /** The default project's yoga app (tests may call `yoga.fetch`). */
  readonly yoga: GatewayYoga;
  /** The app the server listens with (`app.fetch` answers without the socket). */
  readonly app: GatewayApp;
  readonly server: Server;
  readonly projects: ReadonlyMap<string, ProjectRuntime>;
  /** Each project's Lexicon-typed schema, by project key. */
  readonly lexiconTypes: ReadonlyMap<string, LexiconTypes>;
  readonly pubsub: GatewayPubSub;
  readonly metrics: Metrics;
  close(): Promise<void>;
}

export async function createGateway(config: Config, options: GatewayOptions = {}): Promise<Gateway> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const app = await createGatewayApp(config, { ...options, logger });
  const listening = await listenGateway(app, config, options.port ?? config.port, logger);
  return {
    url: listening.url,
    graphqlUrl: `${listening.url}${config.graphqlPath}`,
    genericGraphqlUrl: `${listening.url}${app.genericGraphqlPath}`,
    yoga: app.yoga,
    app,
    server: listening.server,
    projects: app.projects,
    lexiconTypes: app.lexiconTypes,
    pubsub: app.pubsub,
    metrics: app.metrics,
    close: listening.close,
  };
}
