/**
 * createGateway(config) -> { url, yoga, server, close }.
 *
 * One yoga instance per configured project, at `/projects/{key}/graphql`,
 * serving its Lexicon-typed schema (src/lexicon-types), swapped without a
 * restart when its Lexicon changes (the generic schema until the first
 * Lexicon read succeeds). The default project also answers at
 * `config.graphqlPath` with its typed schema, and at `<graphqlPath>/generic`
 * with the generic schema (the one printed in schema/schema.graphql). HTTP,
 * SSE and graphql-ws share one context path (yoga.getEnveloped), and the
 * webhook receiver, /metrics, /healthz, /readyz, the landing page at `/`,
 * GraphiQL's assets and the SDL files sit beside them on the same port.
 *
 * Shutdown (close()) is graceful and bounded by `config.shutdownTimeoutMs`:
 * /readyz turns 503 and no new connection is accepted; SSE subscriptions
 * complete, graphql-ws sockets close with 1001 (going away); requests in
 * flight finish; what is still open at the bound is cut. Redis being
 * unreachable never holds it up.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { createYoga, type YogaServerInstance } from 'graphql-yoga';
import { WebSocketServer } from 'ws';
import type { Config, ProjectConfig } from '../config-types.js';
import type { Context, GatewayClient } from '../context.js';
import { createLogger, type Logger } from '../logger.js';
import { createMembershipStore } from '../membership/create-store.js';
import type { MembershipStore } from '../membership/types.js';
import { createMetrics, type Metrics } from '../metrics.js';
import { createMixpanelClient } from '../mixpanel/client.js';
import { createGatewayPubSub } from '../pubsub/create-pubsub.js';
import { createFanOut } from '../pubsub/fan-out.js';
import type { GatewayPubSub } from '../pubsub/types.js';
import { createMemoryBudgetStore, type BudgetStore } from '../limits/store.js';
import { createRedisBudgetStore } from '../limits/redis-store.js';
import { createFallbackBudgetStore } from '../limits/fallback-store.js';
import { createResponseCache } from '../cache/response-cache.js';
import { downloadProjectKey, serveEventDownload } from '../events/download.js';
import { closeEventReads, registerEventReads } from '../events/reads.js';
import { createLexiconTypes, type LexiconTypes } from '../lexicon-types/registry.js';
import { useTypedSchema } from '../lexicon-types/use-typed-schema.js';
import { createProjectRuntime } from '../runtime.js';
import { createEntityCache, createMemoryEntityStorage, type EntityStorage } from '../cache/entity-cache.js';
import { createRedisEntityStorage } from '../cache/redis-entity-storage.js';
import { createRedisResponseLevel } from '../cache/redis-response-level.js';
import { createSharedReads, type SharedReads } from '../cache/shared-reads.js';
import { ENGAGE_PAGE_SIZE } from '../upstream/endpoints.js';
import type { Clock } from '../limits/budget.js';
import type { ProjectRuntime } from '../runtime-types.js';
import { schema } from '../schema/index.js';
import { useCohortWebhooks } from '../webhooks/receiver.js';
import { createContextFactory } from './context.js';
import { createExampleTabs, createExampleValues, graphiqlOptions, readExampleOperations, renderGraphiqlPage, type ExampleValues } from './graphiql.js';
import { createFrontendRoutes } from './frontend-routes.js';
import { gatewayMaskedErrors } from './mask-error.js';
import { clientOfRequest, createApiKeyCheck, useApiKeys } from './plugins/use-api-keys.js';
import { useArgumentLimits } from './plugins/use-argument-limits.js';
import { useDocumentLimits } from './plugins/use-document-limits.js';
import { useIntrospectionPolicy } from './plugins/use-introspection-policy.js';
import { createOriginPolicy, isLoopbackHostname, useOriginPolicy } from './plugins/use-origin-policy.js';
import { loadPersistedOperations, usePersistedOperationsOnly } from './plugins/use-persisted-operations.js';
import { useAdmissionControl } from './plugins/use-admission-control.js';
import { createSubscriptionTracker, SUBSCRIPTION_DRAIN_MS } from './plugins/subscription-tracker.js';
import { useSseFanOut } from './plugins/use-sse-fan-out.js';
import { useUpstreamExtensions } from './plugins/use-upstream-extensions.js';
import { useDegradedNotice } from './plugins/use-degraded-notice.js';
import { useGracefulShutdown } from './plugins/use-graceful-shutdown.js';
import { LIVENESS_PATHS, livenessBody, READINESS_PATH, useReadiness } from './plugins/use-health.js';
import { createReadiness } from './readiness.js';
import { createRedisConnections, createThrottledWarning, type RedisConnections } from './redis-connections.js';
import { attachGraphqlWs } from './websocket.js';
import { createIdempotency } from '../writes/idempotency.js';
import { createIdempotencyStore } from '../writes/idempotency-store.js';
import { createProjectWrites, type ProjectWrites } from '../writes/project-writes.js';

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
  /** URL of the default project's GraphQL endpoint, Lexicon-typed schema (GraphiQL in a browser). */
  readonly graphqlUrl: string;
  /** URL of the default project's endpoint with the generic schema (`<graphqlPath>/generic`). */
  readonly genericGraphqlUrl: string;
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
  // Without this wait the first requests would find Redis "unavailable" while it is still connecting; an
  // unreachable Redis holds the start-up no longer than this.
  if (redis) await settledWithin(redis.ping(STARTUP_REDIS_WAIT_MS).then((up) => up || waitForReady(redis.commands)), STARTUP_REDIS_WAIT_MS);
  const localBudgetShare = config.redisOutageBudgetPercent / 100;
  const shutdown = new AbortController();

  const ownsMembership = options.membership === undefined;
  const membership =
    options.membership ??
    (await createMembershipStore(config.store.kind, {
      sqlitePath: config.store.sqlitePath,
      redis: redis?.commands,
      redisKeyPrefix: `${config.redisKeyPrefix}cohorts:`,
    }));
  const fallbackBudget = redis
    ? createFallbackBudgetStore({
        shared: createRedisBudgetStore(redis.commands, { keyPrefix: `${config.redisKeyPrefix}budget:` }),
        available: () => redis.health().available,
        localShare: localBudgetShare,
        onFallback: createThrottledWarning(logger, 'budget: Redis did not answer, the local share decides meanwhile'),
      })
    : undefined;
  const budgetStore: BudgetStore = fallbackBudget ?? createMemoryBudgetStore();
  const pubsub = createGatewayPubSub(
    redis
      ? {
          redis: { publish: redis.publish, subscribe: redis.subscribe },
          channelPrefix: `${config.redisKeyPrefix}pubsub:`,
          onError: createThrottledWarning(logger, 'pubsub: a Redis publish failed and its event was dropped'),
        }
      : {},
  );

  // One byte-bounded cache for every project: keys carry the project and credentials.
  // With Redis, charts, lists and pages one instance loaded serve the others too.
  const sharedHealth = redis && config.redisSharedCache ? createSharedHealth(redis, logger) : undefined;
  const sharedResponses =
    redis && sharedHealth
      ? createRedisResponseLevel({
          redis: redis.shared,
          keyPrefix: `${config.redisKeyPrefix}responses:`,
          available: sharedHealth.available,
          waitMs: config.sharedReadWaitMs,
          onError: sharedHealth.onError,
          now,
        })
      : undefined;
  const cache = createResponseCache({ maxBytes: config.cache.maxBytes, metrics, clock: { now }, shared: sharedResponses });
  // Profiles, activity and cohort members per entity, for every project likewise.
  // With Redis, a second level shared by every instance beside it, and one read per entity between instances.
  const shared = redis && sharedHealth ? createSharedLevel(redis, config, sharedHealth, now) : undefined;
  const entities = createEntityCache({ maxBytes: config.economy.entityCacheMaxBytes, metrics, clock: { now }, ...(shared ? { storage: shared.storage } : {}) });
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
      ...(shared ? { sharedReads: shared.reads } : {}),
      budget: { leaseMs: config.budgetLeaseMs },
      metrics,
      clock: { now, ...options.timers },
      // A Lexicon edit through the gateway drops the cached Lexicon: retype at once.
      onInvalidate: (kind) => {
        if (kind === 'lexicon') void lexiconTypes.get(project.key)?.refresh();
      },
    }));
  }
  for (const runtime of projects.values()) {
    registerEventReads(runtime, { ttlMs: config.cache.ttlMs.events, closedTtlMs: config.cache.ttlMs.analyticsClosed, now });
  }
  // Idempotency keys live in the membership store's backend, shared by every project (keys carry the project).
  const idempotency = createIdempotency({
    store: createIdempotencyStore(config.store.kind, { sqlitePath: config.store.sqlitePath, redis: redis?.commands, redisKeyPrefix: `${config.redisKeyPrefix}idempotency:` }),
    ttlMs: config.writes.idempotencyTtlMs,
    now,
  });
  const writes = new Map<string, ProjectWrites>();
  for (const [key, runtime] of projects) {
    writes.set(key, createProjectWrites({
      project: runtime,
      idempotency,
      batchWindowMs: config.writes.batchWindowMs,
      lexiconWindowMs: config.writes.lexiconWindowMs,
      identityMerge: config.writes.idMergeApi === 'original',
      now,
    }));
  }
  for (const [key, runtime] of projects) {
    lexiconTypes.set(key, createLexiconTypes({ project: runtime, generic: schema, refreshMs: config.lexiconRefreshMs, logger, now }));
  }
  // Typed schemas are served from the first request on when Lexicon answers promptly; an unreachable or
  // slow Mixpanel must not hold the start-up, so past a few seconds the generic schema serves until a read succeeds.
  await settledWithin(Promise.all([...lexiconTypes.values()].map((types) => types.refresh())), STARTUP_LEXICON_WAIT_MS);

  const subscriptions = createSubscriptionTracker();
  const readiness = createReadiness({
    redis,
    localBudgetShare,
    membership,
    probeProjectId: (config.projects.find((p) => p.key === config.defaultProjectKey) ?? config.projects[0])?.projectId ?? '',
    mixpanelUrls: [...new Set(config.projects.flatMap((p) => [p.baseUrls.query, p.baseUrls.app]))],
    shuttingDown: () => shutdown.signal.aborted,
  });
  const dependencyPlugins: GatewayPluginList = [
    useGracefulShutdown(shutdown.signal),
    ...(fallbackBudget ? [useDegradedNotice({ degraded: () => fallbackBudget.degraded, localShare: localBudgetShare })] : []),
  ];
  const apiKeys = createApiKeyCheck(config.apiKeys);
  const { security } = config;
  const originPolicy = createOriginPolicy({ security, loopbackOnly: isLoopbackHostname(config.host) });
  const persisted = security.persistedOperationsFile === undefined ? undefined : loadPersistedOperations(security.persistedOperationsFile);
  if (config.plainApiKeys > 0) {
    logger.warn(`${config.plainApiKeys} API key(s) are configured in plain text: configure their sha256:<hex> digests instead (npm run hash-key)`);
  }
  if (!apiKeys.required && !isLoopbackHostname(config.host)) {
    logger.warn(`Listening on ${config.host} without GATEWAY_API_KEYS: anyone who can reach this address can query and write through the gateway`);
  }
  const isAuthorized = (authorization: string | null | undefined) => apiKeys.isAuthorized(authorization ?? undefined);
  // One fan-out for every endpoint and transport: subscriptions computing the same result share one execution per event.
  const fanOut = createFanOut({ batchSize: config.subscriptions.fanOutBatchSize, registry: metrics.registry });
  const yogas = new Map<string, GatewayYoga>();
  const endpointOf = (key: string) => `/projects/${encodeURIComponent(key)}/graphql`;
  const genericGraphqlPath = genericPathOf(config.graphqlPath);
  const examples = config.graphiql ? readExampleOperations() : [];
  const exampleValues = new Map<string, () => Promise<ExampleValues>>();
  for (const [key, runtime] of projects) exampleValues.set(key, createExampleValues(runtime, now));
  const projectByMixpanelId = (mixpanelProjectId: string) => config.projects.find((p) => p.projectId === mixpanelProjectId);

  const buildYoga = (project: ProjectConfig, endpoint: string, typed: boolean, extraPlugins: GatewayPluginList = []): GatewayYoga => {
    const runtime = projects.get(project.key)!;
    const contextFor = createContextFactory({ project: runtime, pubsub, writes: writes.get(project.key), requestDeadlineMs: config.requestDeadlineMs, now });
    const types = lexiconTypes.get(project.key)!;
    const schemaPlugins: GatewayPluginList = typed ? [useTypedSchema(types)] : [];
    const isDefault = project.key === config.defaultProjectKey;
    const tabs = createExampleTabs({
      project: runtime,
      schema: typed ? () => types.current() : () => schema,
      examples,
      values: exampleValues.get(project.key)!,
      now,
      timeZone: 'timezone' in project && typeof project.timezone === 'string' ? project.timezone : undefined,
      intro: {
        projectKey: project.key,
        demo: config.demo,
        typed,
        otherEndpoint: !isDefault ? undefined : typed ? genericGraphqlPath : config.graphqlPath,
      },
    });
    const title = `Mixpanel GraphQL gateway: ${project.key}${typed ? '' : ' (generic schema)'}`;
    // Order matters: who may ask, then what they may send, before anything reads the document.
    const securityPlugins: GatewayPluginList = [
      useOriginPolicy(originPolicy, () => [endpoint]),
      // No form post or other "simple" request runs an operation: those must carry this header, which only a preflighted request can.
      useCSRFPrevention({ requestHeaders: ['x-graphql-yoga-csrf'] }),
      useApiKeys(apiKeys, { projectKey: project.key, graphqlPaths: () => [endpoint], graphiql: config.graphiql }),
      ...(persisted ? [usePersistedOperationsOnly(persisted)] : []),
      useDocumentLimits(security.documentLimits),
      ...useIntrospectionPolicy(security),
      useArgumentLimits(),
    ];
    const sseFanOut = useSseFanOut({ fanOut, getEnveloped: () => yoga.getEnveloped as never, maxQueuedBytes: config.subscriptions.maxBufferedBytes });
    const yoga: GatewayYoga = createYoga<Record<string, unknown>, Context>({
      ...(typed ? {} : { schema }),
      graphqlEndpoint: endpoint,
      logging: logger,
      maskedErrors: gatewayMaskedErrors(!config.maskErrors),
      landingPage: false,
      // Behind API keys the page is served to anyone, so it shows the project's ids only to a request with a key.
      graphiql: config.graphiql ? graphiqlOptions({ title, tabs, mayReadData: (request) => isAuthorized(request.headers.get('authorization')) }) : false,
      renderGraphiQL: renderGraphiqlPage,
      cors: (request) => originPolicy.cors(request),
      // GraphQL request bodies (by Content-Length, else counted while read); the webhook has its own limit.
      maxRequestBodySize: security.maxBodyBytes,
      context: (initial) => contextFor(signalOf(initial), clientOf(initial)),
      plugins: [...schemaPlugins, ...securityPlugins, useUpstreamExtensions({ now }), useAdmissionControl({ now }), subscriptions.plugin, sseFanOut, ...dependencyPlugins, ...extraPlugins],
    });
    return yoga;
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
  const defaultYoga = buildYoga(defaultProject, config.graphqlPath, true, [useReadiness(readiness), webhookPlugin]);
  yogas.set(genericGraphqlPath, buildYoga(defaultProject, genericGraphqlPath, false));
  for (const project of config.projects) yogas.set(endpointOf(project.key), buildYoga(project, endpointOf(project.key), true));

  const frontendRoutes = createFrontendRoutes({
    config,
    defaultProjectKey: defaultProject.key,
    genericGraphqlPath,
    endpointOf,
    typedSchema: (key) => lexiconTypes.get(key)!.current(),
    genericSchema: schema,
    isAuthorized,
    logger,
  });

  // yoga matches its endpoint by suffix, so anything else must be turned away here: an unknown
  // project key is a 404, not the default project answering under another name.
  const defaultPaths = new Set<string>([config.graphqlPath, config.webhook.path, READINESS_PATH]);
  const startedAt = Date.now();
  const route = (path: string): GatewayYoga | undefined => yogas.get(path) ?? (defaultPaths.has(path) ? defaultYoga : undefined);
  let inFlight = 0;
  const drained = new Set<() => void>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    inFlight++;
    res.once('close', () => {
      inFlight--;
      if (inFlight === 0) for (const wake of drained) wake();
    });
    // While shutting down, keep-alive connections are told to close after this response.
    if (shutdown.signal.aborted) res.setHeader('connection', 'close');
    const path = pathOf(req.url);
    if ((LIVENESS_PATHS as readonly string[]).includes(path)) {
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }).end(livenessBody(startedAt));
      return;
    }
    if (path === '/metrics' && req.method === 'GET') {
      // Metrics name projects and endpoints: behind the same keys as GraphQL (Prometheus sends a bearer token).
      if (!apiKeys.isAuthorized(req.headers.authorization)) {
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
    const downloadKey = downloadProjectKey(path);
    const downloadProject = downloadKey === undefined ? undefined : projects.get(downloadKey);
    if (downloadProject && req.method === 'GET') {
      // A page on another origin must not spend the Export budget: browsers mark its requests.
      if (isCrossSite(req)) {
        res.writeHead(403, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ message: 'Cross-site requests may not download events' }] }));
        return;
      }
      // Behind the same API keys as GraphQL.
      if (!isAuthorized(req.headers.authorization)) {
        res.writeHead(401, { 'www-authenticate': 'Bearer' }).end();
        return;
      }
      serveEventDownload(req, res, { project: downloadProject, requestDeadlineMs: config.requestDeadlineMs, now }).catch((error: unknown) => {
        logger.error('event download failed', error);
        if (!res.headersSent) res.writeHead(500).end();
        else res.destroy();
      });
      return;
    }
    if (frontendRoutes(req, res, path)) return;
    const yoga = route(path);
    if (yoga) {
      void yoga(req, res);
      return;
    }
    // Project keys are not listed: an unauthenticated caller learns nothing about the configuration.
    const shown = path.length > 100 ? `${path.slice(0, 100)}…` : path;
    res.writeHead(404, { 'content-type': 'application/json' }).end(
      JSON.stringify({ errors: [{ message: `No endpoint at ${shown}; GraphQL is served at ${config.graphqlPath} and /projects/<project key>/graphql` }] }),
    );
  });

  const wsServers = new Map<string, WebSocketServer>();
  const projectKeyOf = new Map<string, string>([[config.graphqlPath, defaultProject.key], [genericGraphqlPath, defaultProject.key], ...config.projects.map((p) => [endpointOf(p.key), p.key] as const)]);
  for (const [endpoint, yoga] of [[config.graphqlPath, defaultYoga] as const, ...yogas]) {
    wsServers.set(
      endpoint,
      attachGraphqlWs(yoga, {
        endpoint,
        fanOut,
        maxBufferedBytes: config.subscriptions.maxBufferedBytes,
        apiKeys,
        projectKey: projectKeyOf.get(endpoint)!,
        maxPayloadBytes: security.wsMaxPayloadBytes,
        maxSubscriptions: security.wsMaxSubscriptions,
        persisted,
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
    if (!originPolicy.allows(req.headers.origin, req.headers.host)) {
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

  /** Resolves once no HTTP request is in flight, or after `ms`. */
  const requestsDone = (ms: number) =>
    inFlight === 0
      ? Promise.resolve()
      : settledWithin(new Promise<void>((resolve) => drained.add(resolve)), ms).finally(() => drained.clear());

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      const deadline = Date.now() + config.shutdownTimeoutMs;
      for (const types of lexiconTypes.values()) types.close();
      // No new connection; SSE streams complete; idle keep-alive connections close.
      const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
      shutdown.abort();
      server.closeIdleConnections();
      const sockets = [...wsServers.values()].flatMap((wss) => [...wss.clients]);
      const socketsClosed = Promise.all(sockets.map((socket) => new Promise((resolve) => socket.once('close', resolve))));
      for (const socket of sockets) socket.close(CLOSE_GOING_AWAY, 'Gateway shutting down');
      await Promise.all([requestsDone(Math.max(0, deadline - Date.now())), settledWithin(socketsClosed, Math.max(0, deadline - Date.now()))]);
      // Past the bound: whatever is still open is cut.
      for (const wss of wsServers.values()) {
        for (const client of wss.clients) client.terminate();
        wss.close();
      }
      server.closeAllConnections();
      await serverClosed;
      // Ended subscriptions unsubscribe from Redis asynchronously; quitting first would fail those commands.
      await subscriptions.ended(SUBSCRIPTION_DRAIN_MS);
      for (const projectWrites of writes.values()) projectWrites.close();
      for (const runtime of projects.values()) {
        await closeEventReads(runtime);
        await runtime.close();
      }
      await idempotency.close();
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
    genericGraphqlUrl: `${url}${genericGraphqlPath}`,
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

/** WebSocket close code 1001: the server is going away (RFC 6455 §7.4.1); graphql-ws clients reconnect. */
const CLOSE_GOING_AWAY = 1001;

interface SharedHealth {
  readonly available: () => boolean;
  readonly onError: (error: unknown) => void;
}

/**
 * Whether the shared cache level may use Redis now (its connection is ready). A failed command is not a reason to stop
 * using it: under a burst a busy event loop reads replies late and commands time out while Redis is fine;
 * each request gives up the shared level at its first failure instead, so a hung Redis costs it one command timeout.
 */
function createSharedHealth(redis: RedisConnections, logger: Logger): SharedHealth {
  return {
    available: () => redis.shared.status === 'ready',
    onError: createThrottledWarning(logger, 'shared cache: a Redis command failed; the request read alone'),
  };
}

/** The entity cache's storage with a Redis level, and the cross-instance single flight on top of it. */
function createSharedLevel(redis: RedisConnections, config: Config, health: SharedHealth, now: () => number): { storage: EntityStorage; reads: SharedReads } {
  const { available, onError } = health;
  const entityKeyPrefix = `${config.redisKeyPrefix}entities:`;
  const storage = createRedisEntityStorage({
    redis: redis.shared,
    keyPrefix: entityKeyPrefix,
    local: createMemoryEntityStorage(config.economy.entityCacheMaxBytes),
    available,
    onError,
    now,
  });
  const reads = createSharedReads({
    redis: redis.shared,
    keyPrefix: `${config.redisKeyPrefix}reads:`,
    storage,
    entityKeyPrefix,
    available,
    windowMs: () => config.economy.coalesceWindowMs,
    maxWaitMs: config.economy.coalesceMaxWaitMs,
    maxIds: ENGAGE_PAGE_SIZE,
    waitMs: config.sharedReadWaitMs,
    onError,
    now,
  });
  return { storage, reads };
}

/** Longest wait at start-up for a first Redis connection. */
const STARTUP_REDIS_WAIT_MS = 2_000;

function waitForReady(redis: { status: string; once(event: 'ready', listener: () => void): unknown }): Promise<boolean> {
  return redis.status === 'ready' ? Promise.resolve(true) : new Promise((resolve) => redis.once('ready', () => resolve(true)));
}

/** Longest wait at start-up for the projects' first Lexicon read. */
const STARTUP_LEXICON_WAIT_MS = 5_000;

async function settledWithin(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([work.catch(() => undefined), new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

/** A browser request from another site (Fetch Metadata, or an Origin that is not this host). */
function isCrossSite(req: IncomingMessage): boolean {
  if (req.headers['sec-fetch-site'] === 'cross-site') return true;
  const origin = req.headers.origin;
  if (origin === undefined) return false;
  try {
    return new URL(origin).host !== req.headers.host;
  } catch {
    return true;
  }
}

/** The generic schema's endpoint beside the default one. */
function genericPathOf(graphqlPath: string): string {
  return graphqlPath === '/' ? '/generic' : `${graphqlPath}/generic`;
}

function pathOf(url: string | undefined): string {
  const raw = url ?? '/';
  const query = raw.indexOf('?');
  return query === -1 ? raw : raw.slice(0, query);
}

/** graphql-ws passes the client it authenticated on connection_init; HTTP and SSE requests were authenticated by useApiKeys. */
function clientOf(initial: Record<string, unknown>): GatewayClient | undefined {
  return (initial['client'] as GatewayClient | undefined) ?? clientOfRequest(initial['request'] as Request | undefined);
}

/** HTTP and SSE carry a Fetch Request; graphql-ws passes its own signal (see websocket.ts). */
function signalOf(initial: Record<string, unknown>): AbortSignal {
  const fromWs = initial['signal'];
  if (fromWs instanceof AbortSignal) return fromWs;
  const request = initial['request'] as Request | undefined;
  return request?.signal ?? new AbortController().signal;
}
