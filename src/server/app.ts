/**
 * createGatewayApp(config) -> the gateway without a socket: `fetch` (a Fetch Request in, a Response
 * out, like yoga.fetch), `handle` (a Node request), `close`. createGateway (gateway.ts) listens on it.
 *
 * One yoga instance per configured project, at `/projects/{key}/graphql`,
 * serving its Lexicon-typed schema (src/lexicon-types), swapped without a
 * restart when its Lexicon changes (the generic schema until the first
 * Lexicon read succeeds). The default project also answers at
 * `config.graphqlPath` with its typed schema, and at `<graphqlPath>/generic`
 * with the generic schema (the one printed in schema/schema.graphql). HTTP,
 * SSE and graphql-ws share one context path (yoga.getEnveloped), and the
 * webhook receiver, /metrics, /healthz, /readyz, the landing page at `/`,
 * GraphiQL's assets and the SDL files sit beside them (routes.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Config } from '../config/types.js';
import { closeEventReads, registerEventReads } from '../events/reads.js';
import type { Clock } from '../limits/budget.js';
import { createLexiconTypes, type LexiconTypes } from '../lexicon-types/registry.js';
import { createLogger, type Logger } from '../observability/logger.js';
import type { MembershipStore } from '../membership/types.js';
import { createMetrics, type Metrics } from '../observability/metrics.js';
import { createMixpanelClient } from '../mixpanel/client.js';
import { createFanOut, type FanOut } from '../pubsub/fan-out.js';
import type { GatewayPubSub } from '../pubsub/types.js';
import { createProjectRuntime } from '../runtime/project-runtime.js';
import type { ProjectRuntime } from '../runtime/types.js';
import { schema } from '../schema/index.js';
import { useCohortWebhooks } from '../webhooks/receiver.js';
import { createIdempotency } from '../writes/idempotency.js';
import { createIdempotencyStore } from '../writes/idempotency-store.js';
import { createProjectWrites, type ProjectWrites } from '../writes/project-writes.js';
import { createFrontendRoutes } from './frontend-routes.js';
import { createExampleValues, readExampleOperations, type ExampleValues } from './graphiql.js';
import { createApiKeyCheck, type ApiKeyCheck } from './plugins/use-api-keys.js';
import { useDegradedNotice } from './plugins/use-degraded-notice.js';
import { useGracefulShutdown } from './plugins/use-graceful-shutdown.js';
import { READINESS_PATH, useReadiness } from './plugins/use-health.js';
import { createOriginPolicy, isLoopbackHostname } from './plugins/use-origin-policy.js';
import { loadPersistedOperations, type PersistedOperations } from './plugins/use-persisted-operations.js';
import { createSubscriptionTracker, SUBSCRIPTION_DRAIN_MS } from './plugins/subscription-tracker.js';
import { createProjectYogaFactory, type GatewayPluginList, type GatewayYoga } from './project-yoga.js';
import { createReadiness } from './readiness.js';
import { answerResponse, jsonErrorAnswer, routeRequestOfFetch, routeRequestOfNode, writeAnswer, type PlainAnswer } from './route.js';
import { createRouteTable } from './routes.js';
import { settledWithin } from './settle.js';
import { createSharedStores } from './stores.js';

export interface GatewayAppOptions {
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
}

/** A GraphQL endpoint, for the listener's graphql-ws server on it. */
export interface GatewayEndpoint {
  readonly yoga: GatewayYoga;
  /** The project it serves: a socket's client must be allowed to read it. */
  readonly projectKey: string;
}

/** What graphql-ws sockets share with HTTP (see websocket.ts). */
export interface WebSocketParts {
  readonly apiKeys: ApiKeyCheck;
  readonly fanOut: FanOut;
  readonly persisted: PersistedOperations | undefined;
  /** CORS does not apply to WebSockets: the origin check of an upgrade. */
  readonly allowsOrigin: (origin: string | undefined, host: string | undefined) => boolean;
}

export interface GatewayApp {
  /** Answers a Fetch Request, like `yoga.fetch`; event downloads and GraphiQL's assets stream through `handle` only (501 here). */
  fetch(request: Request): Promise<Response>;
  /** Answers a Node HTTP request: every route. */
  handle(req: IncomingMessage, res: ServerResponse): void;
  /** The default project's yoga app, at `config.graphqlPath`. */
  readonly yoga: GatewayYoga;
  /** Path of the default project's endpoint with the generic schema (`<graphqlPath>/generic`). */
  readonly genericGraphqlPath: string;
  /** Every GraphQL endpoint by path. */
  readonly endpoints: ReadonlyMap<string, GatewayEndpoint>;
  readonly webSocket: WebSocketParts;
  readonly projects: ReadonlyMap<string, ProjectRuntime>;
  /** Each project's Lexicon-typed schema, by project key. */
  readonly lexiconTypes: ReadonlyMap<string, LexiconTypes>;
  readonly pubsub: GatewayPubSub;
  readonly metrics: Metrics;
  /** Aborted once the shutdown began: /readyz answers 503, SSE subscriptions complete, new operations are refused. */
  readonly shuttingDown: AbortSignal;
  /** Begins the shutdown (see `shuttingDown`); close() begins it too. */
  beginShutdown(): void;
  /** Lets subscriptions end, then closes writes, runtimes, stores and Redis. Once; later calls return the same promise. */
  close(): Promise<void>;
}

export async function createGatewayApp(config: Config, options: GatewayAppOptions = {}): Promise<GatewayApp> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const now = options.now ?? Date.now;
  const metrics = createMetrics();
  const stores = await createSharedStores(config, { logger, metrics, now, membership: options.membership });
  const { redis, membership, pubsub, fallbackBudget } = stores;
  const localBudgetShare = config.redisOutageBudgetPercent / 100;
  const shutdown = new AbortController();

  const projects = new Map<string, ProjectRuntime>();
  const lexiconTypes = new Map<string, LexiconTypes>();
  for (const project of config.projects) {
    projects.set(
      project.key,
      createProjectRuntime({
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
        cache: stores.cache,
        entities: stores.entities,
        budgetStore: stores.budgetStore,
        ...(stores.sharedReads ? { sharedReads: stores.sharedReads } : {}),
        budget: { leaseMs: config.budgetLeaseMs },
        metrics,
        clock: { now, ...options.timers },
        // A Lexicon edit through the gateway drops the cached Lexicon: retype at once.
        onInvalidate: (kind) => {
          if (kind === 'lexicon') void lexiconTypes.get(project.key)?.refresh();
        },
      }),
    );
  }
  for (const runtime of projects.values()) {
    registerEventReads(runtime, { ttlMs: config.cache.ttlMs.events, closedTtlMs: config.cache.ttlMs.analyticsClosed, now });
  }
  // Idempotency keys live in the membership store's backend, shared by every project (keys carry the project).
  const idempotency = createIdempotency({
    store: createIdempotencyStore(config.store.kind, {
      sqlitePath: config.store.sqlitePath,
      redis: redis?.commands,
      redisKeyPrefix: `${config.redisKeyPrefix}idempotency:`,
    }),
    ttlMs: config.writes.idempotencyTtlMs,
    now,
  });
  const writes = new Map<string, ProjectWrites>();
  for (const [key, runtime] of projects) {
    writes.set(
      key,
      createProjectWrites({
        project: runtime,
        idempotency,
        batchWindowMs: config.writes.batchWindowMs,
        lexiconWindowMs: config.writes.lexiconWindowMs,
        identityMerge: config.writes.idMergeApi === 'original',
        now,
      }),
    );
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
  const fanOut = createFanOut({ batchSize: config.subscriptions.fanOutBatchSize, registry: metrics.registry, flow: pubsub.flow });
  const endpointOf = (key: string) => `/projects/${encodeURIComponent(key)}/graphql`;
  const genericGraphqlPath = genericPathOf(config.graphqlPath);
  const exampleValues = new Map<string, () => Promise<ExampleValues>>();
  for (const [key, runtime] of projects) exampleValues.set(key, createExampleValues(runtime, now));
  const buildYoga = createProjectYogaFactory({
    config,
    logger,
    now,
    projects,
    writes,
    lexiconTypes,
    pubsub,
    apiKeys,
    originPolicy,
    persisted,
    fanOut,
    subscriptionTracker: subscriptions.plugin,
    sharedPlugins: dependencyPlugins,
    examples: config.graphiql ? readExampleOperations() : [],
    exampleValues,
    genericGraphqlPath,
    isAuthorized,
  });

  const defaultProject = config.projects.find((p) => p.key === config.defaultProjectKey) ?? config.projects[0];
  if (!defaultProject) throw new Error('No Mixpanel project configured');
  const webhookPlugin = useCohortWebhooks({
    config: config.webhook,
    resolveProject: (mixpanelProjectId: string) => {
      const project = config.projects.find((p) => p.projectId === mixpanelProjectId);
      return project ? { projectId: project.projectId, store: membership } : undefined;
    },
    pubsub,
    now,
    onError: (error: unknown) => logger.error('cohort webhook failed', error),
  });
  const defaultYoga = buildYoga(defaultProject, config.graphqlPath, true, [useReadiness(readiness), webhookPlugin]);
  const yogas = new Map<string, GatewayYoga>();
  yogas.set(genericGraphqlPath, buildYoga(defaultProject, genericGraphqlPath, false));
  for (const project of config.projects) yogas.set(endpointOf(project.key), buildYoga(project, endpointOf(project.key), true));
  const endpoints = new Map<string, GatewayEndpoint>([
    [config.graphqlPath, { yoga: defaultYoga, projectKey: defaultProject.key }],
    [genericGraphqlPath, { yoga: yogas.get(genericGraphqlPath)!, projectKey: defaultProject.key }],
    ...config.projects.map((p) => [endpointOf(p.key), { yoga: yogas.get(endpointOf(p.key))!, projectKey: p.key }] as const),
  ]);

  // yoga matches its endpoint by suffix, so anything else must be turned away here: an unknown
  // project key is a 404, not the default project answering under another name.
  const defaultPaths = new Set<string>([config.graphqlPath, config.webhook.path, READINESS_PATH]);
  const route = createRouteTable({
    config,
    logger,
    now,
    metrics,
    projects,
    isAuthorized,
    frontend: createFrontendRoutes({
      config,
      defaultProjectKey: defaultProject.key,
      genericGraphqlPath,
      endpointOf,
      typedSchema: (key) => lexiconTypes.get(key)!.current(),
      genericSchema: schema,
      isAuthorized,
      logger,
    }),
    yogaAt: (path) => yogas.get(path) ?? (defaultPaths.has(path) ? defaultYoga : undefined),
  });

  const beginShutdown = () => {
    if (shutdown.signal.aborted) return;
    for (const types of lexiconTypes.values()) types.close();
    shutdown.abort();
  };
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      beginShutdown();
      // Ended subscriptions unsubscribe from Redis asynchronously; quitting first would fail those commands.
      await subscriptions.ended(SUBSCRIPTION_DRAIN_MS);
      for (const projectWrites of writes.values()) projectWrites.close();
      for (const runtime of projects.values()) {
        await closeEventReads(runtime);
        await runtime.close();
      }
      await idempotency.close();
      await stores.close();
    })());

  return {
    async fetch(request) {
      const target = route(routeRequestOfFetch(request));
      switch (target.kind) {
        case 'plain':
          return answerResponse(await target.answer());
        case 'yoga':
          return target.yoga.fetch(request);
        case 'node':
          return answerResponse(NODE_ONLY);
      }
    },
    handle(req, res) {
      const target = route(routeRequestOfNode(req));
      switch (target.kind) {
        case 'plain': {
          const answer = target.answer();
          if (answer instanceof Promise) void answer.then((whole) => writeAnswer(res, whole));
          else writeAnswer(res, answer);
          return;
        }
        case 'yoga':
          void target.yoga(req, res);
          return;
        case 'node':
          target.serve(req, res);
          return;
      }
    },
    yoga: defaultYoga,
    genericGraphqlPath,
    endpoints,
    webSocket: { apiKeys, fanOut, persisted, allowsOrigin: (origin, host) => originPolicy.allows(origin, host) },
    projects,
    lexiconTypes,
    pubsub,
    metrics,
    shuttingDown: shutdown.signal,
    beginShutdown,
    close,
  };
}

/** What `fetch` answers for a route that streams through Node's response. */
const NODE_ONLY: PlainAnswer = jsonErrorAnswer(501, 'This path streams through Node: it is served over HTTP only (GatewayApp.handle)');

/** Longest wait at start-up for the projects' first Lexicon read. */
const STARTUP_LEXICON_WAIT_MS = 5_000;

/** The generic schema's endpoint beside the default one. */
function genericPathOf(graphqlPath: string): string {
  return graphqlPath === '/' ? '/generic' : `${graphqlPath}/generic`;
}
