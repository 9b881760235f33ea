/**
 * GraphQL subscription clients for tests over real sockets: graphql-ws on a
 * `ws` WebSocket, and graphql-sse in distinct-connections mode (one
 * `text/event-stream` request per subscription, as yoga serves it). Each
 * records its results in arrival order until closed.
 *
 * A subscription has no "subscribed" acknowledgement, and an event published
 * before the server listens is lost (at-most-once pubsub), so `waitForProbe`
 * publishes probe events on the gateway's pubsub until one arrives; probes
 * are then kept out of `results`. A probe also flushes: events published
 * before it have arrived once it has. `isolatedProject` gives a test a
 * Mixpanel project no other run shares, which keeps its Redis state apart.
 */
import { randomInt } from 'node:crypto';
import type { FormattedExecutionResult } from 'graphql';
import { createClient as createSseClient } from 'graphql-sse';
import { createClient as createWsClient } from 'graphql-ws';
import { WebSocket } from 'ws';
import type { EmulatorProjectOptions } from '../../src/emulator/server.js';
import type { GatewayPubSub } from '../../src/pubsub/types.js';

export type SubscriptionTransport = 'ws' | 'sse';

export interface SubscriptionRequest {
  readonly query: string;
  readonly variables?: Record<string, unknown>;
}

export interface SubscribeOptions {
  /** The GraphQL endpoint, http://host:port/path. */
  readonly url: string;
  readonly transport: SubscriptionTransport;
  /** `Authorization` value: the `authorization` of graphql-ws `connection_init`, or the SSE request header. Default: none. */
  readonly authorization?: string;
  /** Results to keep out of `results` (probes); default none. */
  readonly ignore?: (result: FormattedExecutionResult) => boolean;
}

export interface Subscriber<TData = Record<string, any>> {
  readonly transport: SubscriptionTransport;
  /** Every result not ignored, in arrival order. */
  readonly results: readonly FormattedExecutionResult<TData>[];
  /** How many ignored results arrived. */
  readonly ignored: number;
  /** Why the subscription ended in error (a graphql-ws CloseEvent, a network error, GraphQL errors), if it did. */
  readonly failure: unknown;
  readonly completed: boolean;
  /** Resolves once `condition` holds; rejects when the subscription fails or after `timeoutMs` (default 10000). */
  waitFor(condition: (subscriber: Subscriber<TData>) => boolean, timeoutMs?: number): Promise<void>;
  /** Resolves once `count` results have arrived. */
  waitForResults(count: number, timeoutMs?: number): Promise<readonly FormattedExecutionResult<TData>[]>;
  /**
   * Calls `probe` every 50 ms until a new ignored (probe) result arrives: the subscription is live, and
   * whatever was published before the probe has been delivered.
   */
  waitForProbe(probe: () => void, timeoutMs?: number): Promise<void>;
  /** Unsubscribes and closes the connection. Idempotent. */
  close(): Promise<void>;
}

interface Sink {
  next(value: FormattedExecutionResult): void;
  error(error: unknown): void;
  complete(): void;
}

/** Opens one subscription over the chosen transport. */
export function subscribe<TData = Record<string, any>>(options: SubscribeOptions, request: SubscriptionRequest): Subscriber<TData> {
  const results: FormattedExecutionResult<TData>[] = [];
  const listeners = new Set<() => void>();
  const notify = () => {
    for (const listener of listeners) listener();
  };
  let ignored = 0;
  let failure: unknown;
  let completed = false;
  let closing: Promise<void> | undefined;

  const sink: Sink = {
    next(value) {
      if (options.ignore?.(value)) ignored += 1;
      else results.push(value as FormattedExecutionResult<TData>);
      notify();
    },
    error(error) {
      failure = error ?? new Error('subscription failed');
      notify();
    },
    complete() {
      completed = true;
      notify();
    },
  };
  const stop = options.transport === 'ws' ? openWs(options, request, sink) : openSse(options, request, sink);

  const subscriber: Subscriber<TData> = {
    transport: options.transport,
    results,
    get ignored() {
      return ignored;
    },
    get failure() {
      return failure;
    },
    get completed() {
      return completed;
    },
    waitFor(condition, timeoutMs = 10_000) {
      return new Promise<void>((resolve, reject) => {
        const check = () => {
          if (condition(subscriber)) finish();
          else if (failure !== undefined) finish(new Error(`${options.transport} subscription failed: ${describe(failure)}`));
          else if (completed) finish(new Error(`${options.transport} subscription completed early`));
        };
        const timer = setTimeout(
          () => finish(new Error(`${options.transport} subscription: condition not met within ${timeoutMs} ms (${results.length} results)`)),
          timeoutMs,
        );
        const finish = (error?: Error) => {
          clearTimeout(timer);
          listeners.delete(check);
          if (error) reject(error);
          else resolve();
        };
        listeners.add(check);
        check();
      });
    },
    async waitForResults(count, timeoutMs) {
      await subscriber.waitFor((s) => s.results.length >= count, timeoutMs);
      return results;
    },
    async waitForProbe(probe, timeoutMs = 5_000) {
      const seen = ignored;
      const interval = setInterval(probe, 50);
      probe();
      try {
        await subscriber.waitFor((s) => s.ignored > seen, timeoutMs);
      } finally {
        clearInterval(interval);
      }
    },
    close: () => (closing ??= stop()),
  };
  return subscriber;
}

function openWs(options: SubscribeOptions, request: SubscriptionRequest, sink: Sink): () => Promise<void> {
  const client = createWsClient({
    url: options.url.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    connectionParams: options.authorization === undefined ? {} : { authorization: options.authorization },
    retryAttempts: 0,
    lazy: true,
    lazyCloseTimeout: 0,
  });
  const unsubscribe = client.subscribe(request, sink);
  return async () => {
    unsubscribe();
    await client.dispose();
  };
}

function openSse(options: SubscribeOptions, request: SubscriptionRequest, sink: Sink): () => Promise<void> {
  const client = createSseClient({
    url: options.url,
    singleConnection: false,
    retryAttempts: 0,
    headers: options.authorization === undefined ? {} : { authorization: options.authorization },
  });
  const unsubscribe = client.subscribe(request, sink);
  return async () => {
    unsubscribe();
    client.dispose();
  };
}

function describe(failure: unknown): string {
  if (failure instanceof Error) return failure.message;
  if (typeof failure === 'object' && failure !== null && 'code' in failure) {
    return `close ${String((failure as { code: unknown }).code)} ${String((failure as { reason?: unknown }).reason ?? '')}`;
  }
  return JSON.stringify(failure);
}

/** Session id of probe events, never a Mixpanel one. */
export const PROBE_SESSION_ID = 'probe';

/** Publishes one probe on both cohort topics, as the receiver would publish real events. */
export function publishCohortProbe(pubsub: GatewayPubSub, projectId: string, cohortId: string): void {
  const at = Date.now();
  pubsub.publish('cohortMembershipChanged', projectId, {
    projectId,
    cohortId,
    kind: 'ADDED',
    members: [],
    sessionId: PROBE_SESSION_ID,
    page: 1,
    totalPages: 1,
    at,
  });
  pubsub.publish('cohortSyncCompleted', projectId, { projectId, cohortId, sessionId: PROBE_SESSION_ID, totalPages: 1, memberCount: 0, at });
}

/** True for a result of `field` carrying a probe (the operation must select `sessionId`). */
export function isProbeOf(field: string): (result: FormattedExecutionResult) => boolean {
  return (result) => (result.data?.[field] as { sessionId?: unknown } | undefined)?.sessionId === PROBE_SESSION_ID;
}

export interface IsolatedProject {
  readonly projectId: string;
  /** For `createEmulator({ projects: [...] })`. */
  readonly emulatorProject: EmulatorProjectOptions;
  /** Prefix of every Redis key and channel the gateways of this test use (delete `${prefix}*` afterwards). */
  readonly redisKeyPrefix: string;
  /** Gateway environment naming the project, its credentials and its Redis key prefix. */
  readonly env: Readonly<Record<string, string>>;
}

/**
 * An emulated Mixpanel project with a random id and its own Redis key prefix, so a test on it shares no state
 * (budget windows, membership keys, pubsub channels) with other runs.
 */
export function isolatedProject(): IsolatedProject {
  const projectId = String(randomInt(2_000_000, 2_000_000_000));
  const account = { username: `test.${projectId}.mp-service-account`, secret: `secret-${projectId}` };
  const token = `token-${projectId}`;
  const redisKeyPrefix = `mpgw-test:${projectId}:`;
  return {
    projectId,
    redisKeyPrefix,
    emulatorProject: { projectId, token, serviceAccounts: [account] },
    env: {
      MIXPANEL_PROJECT_ID: projectId,
      MIXPANEL_SERVICE_ACCOUNT_USERNAME: account.username,
      MIXPANEL_SERVICE_ACCOUNT_SECRET: account.secret,
      MIXPANEL_PROJECT_TOKEN: token,
      REDIS_KEY_PREFIX: redisKeyPrefix,
    },
  };
}
