/**
 * createGateway(config) -> { url, yoga, server, close }.
 *
 * One yoga instance per configured project: the default project answers at
 * `config.graphqlPath` with the generic schema (the one printed in
 * schema/schema.graphql), every project at `/projects/{key}/graphql` with its
 * Lexicon-typed schema (src/lexicon-types), swapped without a restart when
 * its Lexicon changes. HTTP, SSE and graphql-ws share one context path
 * (yoga.getEnveloped), and the webhook receiver, /metrics and /health sit
 * beside them on the same port.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { createYoga, type YogaServerInstance } from 'graphql-yoga';
import { Redis } from 'ioredis';
import { WebSocketServer } from 'ws';
import type { Config, ProjectConfig } from '../config-types.js';
import type { Context } from '../context.js';
import { createLogger, type Logger } from '../logger.js';
import { createMembershipStore } from '../membership/create-store.js';
import type { MembershipStore } from '../membership/types.js';
import { createMetrics, type Metrics } from '../metrics.js';
import { createMixpanelClient } from '../mixpanel/client.js';
import { createGatewayPubSub } from '../pubsub/create-pubsub.js';
import type { GatewayPubSub } from '../pubsub/types.js';
import { createMemoryBudgetStore, type BudgetStore } from '../limits/store.js';
import { createRedisBudgetStore } from '../limits/redis-store.js';
import { createResponseCache } from '../cache/response-cache.js';
import { createLexiconTypes, type LexiconTypes } from '../lexicon-types/registry.js';
import { useTypedSchema } from '../lexicon-types/use-typed-schema.js';
import { createProjectRuntime } from '../runtime.js';
import { createEntityCache } from '../cache/entity-cache.js';
import type { Clock } from '../limits/budget.js';
import type { ProjectRuntime } from '../runtime-types.js';
import { schema } from '../schema/index.js';
import { useCohortWebhooks } from '../webhooks/receiver.js';
import { createContextFactory } from './context.js';
import { graphiqlDefaultQuery } from './graphiql.js';
import { gatewayMaskedErrors } from './mask-error.js';
import { createApiKeyCheck, useApiKeys } from './plugins/use-api-keys.js';
import { useAdmissionControl } from './plugins/use-admission-control.js';
import { createSubscriptionTracker, SUBSCRIPTION_DRAIN_MS } from './plugins/subscription-tracker.js';
import { useUpstreamExtensions } from './plugins/use-upstream-extensions.js';
import { attachGraphqlWs } from './websocket.js';

export interface GatewayOptions {
  /** Log sink; default: stderr at `config.logLevel`. */
  readonly logger?: Logger;
  /** Membership store to use instead of the one `config.store` describes (tests share one between gateways). */
  readonly membership?: MembershipStore;
  /** Clock for budgets, caches and webhooks; default Date.now. */
  readonly now?: () => number;
  /**
   * Timers of the budgets, on the same clock as `now` (a scaled clock runs them faster).
   * Default: the system's setTimeout and clearTimeout.
   */
  readonly timers?: Pick<Clock, 'setTimeout' | 'clearTimeout'>;
  /** Listen on this port instead of config.port (0 = any free port). */
  readonly port?: number;
}

export type GatewayYoga = YogaServerInstance<Record<string, unknown>, Context>;

export interface Gateway {
  /** http://host:port of the listening server. */
  readonly url: string;
  /** URL of the default project's GraphQL endpoint (GraphiQL in a browser). */
  readonly graphqlUrl: string;
  /** The default project's yoga app (tests may call `yoga.fetch`). */
  readonly yoga: GatewayYoga;
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
  const now = options.now ?? Date.now;
  const metrics = createMetrics();
  const redis = config.redisUrl ? createRedisConnections(config.redisUrl.reveal(), logger) : undefined;

  const ownsMembership = options.membership === undefined;
  const membership =
    options.membership ??
    (await createMembershipStore(config.store.kind, {
      sqlitePath: config.store.sqlitePath,
      redis: redis?.commands,
      redisKeyPrefix: `${config.redisKeyPrefix}cohorts:`,
    }));
  const budgetStore: BudgetStore = redis
    ? createRedisBudgetStore(redis.commands, { keyPrefix: `${config.redisKeyPrefix}budget:` })
    : createMemoryBudgetStore();
  const pubsub = createGatewayPubSub(
    redis ? { redis: { publish: redis.publish, subscribe: redis.subscribe }, channelPrefix: `${config.redisKeyPrefix}pubsub:` } : {},
  );

  // One byte-bounded cache for every project: keys carry the project and credentials.
  const cache = createResponseCache({ maxBytes: config.cache.maxBytes, metrics, clock: { now } });
  // Profiles, activity and cohort members per entity, for every project likewise.
  const entities = createEntityCache({ maxBytes: config.economy.entityCacheMaxBytes, metrics, clock: { now } });
  const projects = new Map<string, ProjectRuntime>();
  const lexiconTypes = new Map<string, LexiconTypes>();
  for (const project of config.projects) {
    projects.set(project.key, createProjectRuntime({
      config: project,
      client: createMixpanelClient({
        projectId: project.projectId,
        workspaceId: project.workspaceId,
        serviceAccount: project.serviceAccount,
        projectToken: project.projectToken,
        baseUrls: project.baseUrls,
        integrationId: config.integrationId,
        timeoutMs: config.upstreamTimeoutMs,
      }),
      membership,
      cacheConfig: config.cache,
      economy: config.economy,
      cache,
      entities,
      budgetStore,
      metrics,
      clock: { now, ...options.timers },
      // A Lexicon edit through the gateway drops the cached Lexicon: retype at once.
      onInvalidate: (kind) => {
        if (kind === 'lexicon') void lexiconTypes.get(project.key)?.refresh();
      },
    }));
  }
  for (const [key, runtime] of projects) {
    lexiconTypes.set(key, createLexiconTypes({ project: runtime, generic: schema, refreshMs: config.lexiconRefreshMs, logger, now }));
  }
  // Typed schemas are served from the first request on when Lexicon answers promptly; an unreachable or
  // slow Mixpanel must not hold the start-up, so past a few seconds the generic schema serves until a read succeeds.
  await settledWithin(Promise.all([...lexiconTypes.values()].map((types) => types.refresh())), STARTUP_LEXICON_WAIT_MS);

  const subscriptions = createSubscriptionTracker();
  const isAuthorized = createApiKeyCheck(config.apiKeys);
  const yogas = new Map<string, GatewayYoga>();
  const endpointOf = (key: string) => `/projects/${encodeURIComponent(key)}/graphql`;
  const defaultQuery = graphiqlDefaultQuery();
  const projectByMixpanelId = (mixpanelProjectId: string) => config.projects.find((p) => p.projectId === mixpanelProjectId);

  const buildYoga = (project: ProjectConfig, endpoint: string, typed: boolean, extraPlugins: GatewayPluginList = []): GatewayYoga => {
    const runtime = projects.get(project.key)!;
    const contextFor = createContextFactory({ project: runtime, pubsub, requestDeadlineMs: config.requestDeadlineMs, now });
    const schemaPlugins: GatewayPluginList = typed ? [useTypedSchema(lexiconTypes.get(project.key)!)] : [];
    return createYoga<Record<string, unknown>, Context>({
      ...(typed ? {} : { schema }),
      graphqlEndpoint: endpoint,
      logging: logger,
      maskedErrors: gatewayMaskedErrors(!config.maskErrors),
      landingPage: false,
      graphiql: config.graphiql ? { title: `Mixpanel GraphQL gateway: ${project.key}`, defaultQuery, subscriptionsProtocol: 'WS' } : false,
      context: (initial) => contextFor(signalOf(initial)),
      plugins: [...schemaPlugins, useApiKeys(isAuthorized, () => [endpoint], { graphiql: config.graphiql }), useUpstreamExtensions({ now }), useAdmissionControl({ now }), subscriptions.plugin, ...extraPlugins],
    });
  };

  const defaultProject = config.projects.find((p) => p.key === config.defaultProjectKey) ?? config.projects[0];
  if (!defaultProject) throw new Error('No Mixpanel project configured');
  const webhookPlugin = useCohortWebhooks({
    config: config.webhook,
    resolveProject: (mixpanelProjectId: string) => {
      const project = projectByMixpanelId(mixpanelProjectId);
      return project ? { projectId: project.projectId, store: membership } : undefined;
    },
    pubsub,
    now,
    onError: (error: unknown) => logger.error('cohort webhook failed', error),
  });
  const defaultYoga = buildYoga(defaultProject, config.graphqlPath, false, [webhookPlugin]);
  for (const project of config.projects) yogas.set(endpointOf(project.key), buildYoga(project, endpointOf(project.key), true));

  // yoga matches its endpoint by suffix, so anything else must be turned away here: an unknown
  // project key is a 404, not the default project answering under another name.
  const defaultPaths = new Set([config.graphqlPath, config.webhook.path, '/health']);
  const route = (path: string): GatewayYoga | undefined => yogas.get(path) ?? (defaultPaths.has(path) ? defaultYoga : undefined);
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = pathOf(req.url);
    if (path === '/metrics' && req.method === 'GET') {
      // Metrics name projects and endpoints: behind the same keys as GraphQL (Prometheus sends a bearer token).
      if (!isAuthorized(req.headers.authorization)) {
        res.writeHead(401, { 'www-authenticate': 'Bearer' }).end();
        return;
      }
      void metrics.registry.metrics().then(
        (body) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(body),
        (error: unknown) => {
          logger.error('metrics failed', error);
          res.writeHead(500).end();
        },
      );
      return;
    }
    const yoga = route(path);
    if (yoga) {
      void yoga(req, res);
      return;
    }
    const known = [config.graphqlPath, ...yogas.keys()].join(', ');
    res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ message: `No endpoint at ${path}; GraphQL is served at ${known}` }] }));
  });

  const wsServers = new Map<string, WebSocketServer>();
  for (const [endpoint, yoga] of [[config.graphqlPath, defaultYoga] as const, ...yogas]) {
    wsServers.set(endpoint, attachGraphqlWs(yoga, isAuthorized));
  }
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const wss = wsServers.get(pathOf(req.url));
    if (!wss) {
      socket.end('HTTP/1.1 404 Not Found\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      for (const types of lexiconTypes.values()) types.close();
      for (const wss of wsServers.values()) {
        for (const client of wss.clients) client.terminate();
        wss.close();
      }
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      // Ended subscriptions unsubscribe from Redis asynchronously; quitting first would fail those commands.
      await subscriptions.ended(SUBSCRIPTION_DRAIN_MS);
      for (const runtime of projects.values()) await runtime.close();
      if (ownsMembership) await membership.close();
      await budgetStore.close?.();
      await redis?.close();
    })());

  const listenPort = options.port ?? config.port;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(listenPort, config.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    // Stores, Redis connections and Lexicon timers are already open: a failed start must not leave them behind.
    await close();
    throw listenError(error, config.host, listenPort);
  }
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;

  return {
    url,
    graphqlUrl: `${url}${config.graphqlPath}`,
    yoga: defaultYoga,
    server,
    projects,
    lexiconTypes,
    pubsub,
    metrics,
    close,
  };
}

function listenError(error: unknown, host: string, port: number): Error {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const reason = code === 'EADDRINUSE' ? 'the address is already in use (set PORT to a free port)' : error instanceof Error ? error.message : String(error);
  return new Error(`Cannot listen on ${host}:${port}: ${reason}`, { cause: error });
}

type GatewayPluginList = NonNullable<Parameters<typeof createYoga<Record<string, unknown>, Context>>[0]['plugins']>;

/** Longest wait at start-up for the projects' first Lexicon read. */
const STARTUP_LEXICON_WAIT_MS = 5_000;

async function settledWithin(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([work.catch(() => undefined), new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

function pathOf(url: string | undefined): string {
  const raw = url ?? '/';
  const query = raw.indexOf('?');
  return query === -1 ? raw : raw.slice(0, query);
}

/** HTTP and SSE carry a Fetch Request; graphql-ws passes its own signal (see websocket.ts). */
function signalOf(initial: Record<string, unknown>): AbortSignal {
  const fromWs = initial['signal'];
  if (fromWs instanceof AbortSignal) return fromWs;
  const request = initial['request'] as Request | undefined;
  return request?.signal ?? new AbortController().signal;
}

interface RedisConnections {
  readonly commands: Redis;
  readonly publish: Redis;
  readonly subscribe: Redis;
  close(): Promise<void>;
}

/** Three connections: a subscribed connection can run no other command. */
function createRedisConnections(url: string, logger: Logger): RedisConnections {
  const open = (role: string, maxRetriesPerRequest: number | null) => {
    const redis = new Redis(url, { maxRetriesPerRequest, lazyConnect: false });
    redis.on('error', (error: Error) => logger.warn(`redis (${role}) connection error`, error));
    return redis;
  };
  const commands = open('commands', 3);
  const publish = open('publish', 3);
  // The Redis event target ignores the promise of SUBSCRIBE/UNSUBSCRIBE: keep them queued across
  // a Redis outage (replayed on reconnect) rather than rejected into unhandled rejections.
  const subscribe = open('subscribe', null);
  return {
    commands,
    publish,
    subscribe,
    close: async () => {
      await Promise.allSettled([commands.quit(), publish.quit(), subscribe.quit()]);
    },
  };
}
