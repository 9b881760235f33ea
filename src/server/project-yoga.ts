/**
 * One yoga app per GraphQL endpoint: a project's typed or generic schema, behind the security plugins
 * (origin, CSRF, API keys, persisted operations, document and argument limits), with GraphiQL's tabs
 * and the plugins every endpoint shares (admission, subscriptions, SSE fan-out, shutdown).
 */
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { createYoga, type YogaServerInstance } from 'graphql-yoga';
import type { Config, ProjectConfig } from '../config/types.js';
import type { Context, GatewayClient } from '../schema/context.js';
import type { LexiconTypes } from '../lexicon-types/registry.js';
import { useTypedSchema } from '../lexicon-types/use-typed-schema.js';
import type { Logger } from '../observability/logger.js';
import type { FanOut } from '../pubsub/fan-out.js';
import type { GatewayPubSub } from '../pubsub/types.js';
import type { ProjectRuntime } from '../runtime/types.js';
import { schema } from '../schema/index.js';
import type { ProjectWrites } from '../writes/project-writes.js';
import { createContextFactory } from './context-factory.js';
import { createExampleTabs, graphiqlOptions, renderGraphiqlPage, type ExampleOperation, type ExampleValues } from './graphiql.js';
import { gatewayMaskedErrors } from './mask-error.js';
import { clientOfRequest, useApiKeys, type ApiKeyCheck } from './plugins/use-api-keys.js';
import { useAdmissionControl } from './plugins/use-admission-control.js';
import { useArgumentLimits } from './plugins/use-argument-limits.js';
import { useDocumentLimits } from './plugins/use-document-limits.js';
import { useIntrospectionPolicy } from './plugins/use-introspection-policy.js';
import { useOriginPolicy, type OriginPolicy } from './plugins/use-origin-policy.js';
import { usePersistedOperationsOnly, type PersistedOperations } from './plugins/use-persisted-operations.js';
import { useSseFanOut } from './plugins/use-sse-fan-out.js';
import { useUpstreamExtensions } from './plugins/use-upstream-extensions.js';

export type GatewayYoga = YogaServerInstance<Record<string, unknown>, Context>;

export type GatewayPluginList = NonNullable<Parameters<typeof createYoga<Record<string, unknown>, Context>>[0]['plugins']>;

/** What every endpoint of one gateway shares. */
export interface ProjectYogaParts {
  readonly config: Config;
  readonly logger: Logger;
  readonly now: () => number;
  readonly projects: ReadonlyMap<string, ProjectRuntime>;
  readonly writes: ReadonlyMap<string, ProjectWrites>;
  readonly lexiconTypes: ReadonlyMap<string, LexiconTypes>;
  readonly pubsub: GatewayPubSub;
  readonly apiKeys: ApiKeyCheck;
  readonly originPolicy: OriginPolicy;
  readonly persisted: PersistedOperations | undefined;
  /** One for every endpoint and transport: subscriptions computing the same result share one execution per event. */
  readonly fanOut: FanOut;
  /** Tracks running subscriptions, so shutdown can wait for them to unsubscribe. */
  readonly subscriptionTracker: GatewayPluginList[number];
  /** Plugins every endpoint runs after its own (shutdown, degraded notice). */
  readonly sharedPlugins: GatewayPluginList;
  /** The operations GraphiQL opens on (none when GraphiQL is off). */
  readonly examples: readonly ExampleOperation[];
  readonly exampleValues: ReadonlyMap<string, () => Promise<ExampleValues>>;
  readonly genericGraphqlPath: string;
  readonly isAuthorized: (authorization: string | null | undefined) => boolean;
}

/** Returns the builder of one endpoint's yoga: `typed` serves the project's Lexicon-typed schema, else the generic one. */
export function createProjectYogaFactory(parts: ProjectYogaParts) {
  const { config, logger, now, pubsub, apiKeys, originPolicy, persisted, fanOut, examples, genericGraphqlPath, isAuthorized } = parts;
  const { security } = config;
  return (project: ProjectConfig, endpoint: string, typed: boolean, extraPlugins: GatewayPluginList = []): GatewayYoga => {
    const runtime = parts.projects.get(project.key)!;
    const contextFor = createContextFactory({
      project: runtime,
      pubsub,
      writes: parts.writes.get(project.key),
      requestDeadlineMs: config.requestDeadlineMs,
      now,
    });
    const types = parts.lexiconTypes.get(project.key)!;
    const schemaPlugins: GatewayPluginList = typed ? [useTypedSchema(types)] : [];
    const isDefault = project.key === config.defaultProjectKey;
    const tabs = createExampleTabs({
      project: runtime,
      schema: typed ? () => types.current() : () => schema,
      examples,
      values: parts.exampleValues.get(project.key)!,
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
    const sseFanOut = useSseFanOut({
      fanOut,
      getEnveloped: () => yoga.getEnveloped as never,
      maxQueuedBytes: config.subscriptions.maxBufferedBytes,
    });
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
      plugins: [
        ...schemaPlugins,
        ...securityPlugins,
        useUpstreamExtensions({ now }),
        useAdmissionControl({ now }),
        parts.subscriptionTracker,
        sseFanOut,
        ...parts.sharedPlugins,
        ...extraPlugins,
      ],
    });
    return yoga;
  };
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
