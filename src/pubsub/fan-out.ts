/**
 * Subscription fan-out: subscriptions that would compute the same result
 * share one execution. Members of a group (same document, variables,
 * operation name, endpoint and schema, and client scope) are served from one
 * source stream: each event is executed once and serialised once, and each
 * transport only frames that JSON for its sockets (graphql-ws splices the
 * subscription id, SSE shares one `data:` line).
 *
 * The fan-out of one event runs in batches that yield to the event loop
 * (setImmediate before each batch), so HTTP requests, the webhook's own
 * answer and other groups keep being served while thousands of sockets are
 * written. Members are served in the order they joined; events in the order
 * the source yields them (the next event waits until the last batch of the
 * previous one is written).
 *
 * With a `flow` (publish-flow.ts), the longest group queue counts as this
 * instance's backlog, so a long publication (a full sync's completion) waits
 * for the groups to drain instead of passing their queue limit.
 */
import { createHash } from 'node:crypto';
import { print, type DocumentNode, type ExecutionResult, type GraphQLError } from 'graphql';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { PublishFlow } from './publish-flow.js';

export type FanOutTransport = 'ws' | 'sse';

/** One event's result, serialised once for every member of its group. */
export interface SerializedResult {
  readonly result: ExecutionResult;
  /** The result as JSON (yoga's wire form: internal error extensions left out). */
  readonly json: string;
}

/** One subscriber, as its transport sees it. */
export interface FanOutMember {
  readonly transport: FanOutTransport;
  /**
   * Writes one event. Called at most once per event, never after `end`. A throw removes the member
   * (then `end` is called with the error).
   */
  deliver(event: SerializedResult): void;
  /** The group's stream is over: `error` undefined when it completed, else why it failed. Called at most once. */
  end(error?: unknown): void;
}

/** What joining a group gave. */
export type JoinOutcome =
  /** Subscribed: events arrive through `deliver`; `leave` unsubscribes (idempotent; no call after it returns). */
  | { readonly kind: 'joined'; leave(): void }
  /** The operation did not start a stream (a refused argument, say): this result is the whole answer. */
  | { readonly kind: 'result'; readonly result: ExecutionResult };

/**
 * Starts a group's stream: runs the subscription once on a context the group owns. `signal` is aborted
 * once the group has no member left. A rejection fails every member that joined meanwhile.
 */
export type StartGroup = (signal: AbortSignal) => Promise<AsyncIterable<ExecutionResult> | ExecutionResult>;

export interface FanOutOptions {
  /** Members written between two yields to the event loop; default 256. */
  readonly batchSize?: number;
  /** Registry for the fan-out metrics (groups, members, executions, deliveries, slow consumers); default: none. */
  readonly registry?: Registry;
  /** The pubsub's publish flow: the longest group queue is reported to it, and its fall signalled. Default: none. */
  readonly flow?: PublishFlow | undefined;
}

export interface FanOut {
  /**
   * Adds a member to the group of `key`, starting the group with `start` when it has none (`start` is
   * not called when the group exists). Resolves once the group's stream has started.
   */
  join(key: string, start: StartGroup, member: FanOutMember): Promise<JoinOutcome>;
  /** A transport closed a member for reading too slowly (counted in the metrics). */
  slowConsumerClosed(transport: FanOutTransport): void;
  /** Groups and members right now. */
  readonly size: { readonly groups: number; readonly members: number };
}

export const DEFAULT_FAN_OUT_BATCH_SIZE = 256;

/** Events a group may have waiting to be written before it fails (its members get `FanOutOverflowError`). */
export const MAX_PENDING_EVENTS = 1_000;

/** Events reached a group faster than its members could be written, for longer than `MAX_PENDING_EVENTS` events. */
export class FanOutOverflowError extends Error {
  readonly code = 'SUBSCRIPTION_OVERFLOW';
  /** Carried into the GraphQL error a graphql-ws client receives. */
  readonly extensions = { code: this.code };
  constructor() {
    super(`Subscription ended: more than ${MAX_PENDING_EVENTS} events were waiting to be sent; subscribe again`);
    this.name = 'FanOutOverflowError';
  }
}

interface Group {
  readonly key: string;
  readonly members: Set<FanOutMember>;
  readonly abort: AbortController;
  readonly started: Promise<AsyncIterable<ExecutionResult> | ExecutionResult>;
  iterator: AsyncIterator<ExecutionResult> | undefined;
  /** No member left, or the stream ended: a later join starts a new group. */
  closed: boolean;
}

export function createFanOut(options: FanOutOptions = {}): FanOut {
  const batchSize = Math.max(1, options.batchSize ?? DEFAULT_FAN_OUT_BATCH_SIZE);
  const metrics = createFanOutMetrics(options.registry);
  const groups = new Map<string, Group>();
  let memberCount = 0;
  /** Every running group's queue of events taken from its source and not yet written. */
  const queues = new Set<readonly SerializedResult[]>();
  const flow = options.flow;
  flow?.track(() => {
    let longest = 0;
    for (const queue of queues) longest = Math.max(longest, queue.length);
    return longest;
  });

  const close = (group: Group) => {
    if (group.closed) return;
    group.closed = true;
    if (groups.get(group.key) === group) groups.delete(group.key);
    metrics.groups.set(groups.size);
    group.abort.abort();
    // Unsubscribes from the pubsub at once, even while the stream waits for its next event.
    void group.iterator?.return?.().catch(() => undefined);
  };

  const remove = (group: Group, member: FanOutMember): boolean => {
    if (!group.members.delete(member)) return false;
    memberCount -= 1;
    metrics.members.dec({ transport: member.transport });
    if (group.members.size === 0) close(group);
    return true;
  };

  const endAll = (group: Group, error?: unknown) => {
    for (const member of [...group.members]) {
      remove(group, member);
      member.end(error);
    }
  };

  const deliver = async (group: Group, event: SerializedResult) => {
    const members = [...group.members];
    const delivered = { ws: 0, sse: 0 };
    for (let start = 0; start < members.length; start += batchSize) {
      // Before the first batch too: whatever published the event (the webhook's answer) goes out first.
      await new Promise<void>((resolve) => setImmediate(resolve));
      const end = Math.min(start + batchSize, members.length);
      for (let i = start; i < end; i++) {
        const member = members[i]!;
        // Left (unsubscribed, closed, too slow) since the snapshot: not written.
        if (!group.members.has(member)) continue;
        try {
          member.deliver(event);
          delivered[member.transport] += 1;
        } catch (error) {
          if (remove(group, member)) member.end(error);
        }
      }
    }
    if (delivered.ws > 0) metrics.deliveries.inc({ transport: 'ws' }, delivered.ws);
    if (delivered.sse > 0) metrics.deliveries.inc({ transport: 'sse' }, delivered.sse);
  };

  const run = async (group: Group, source: AsyncIterable<ExecutionResult>) => {
    const iterator = source[Symbol.asyncIterator]();
    group.iterator = iterator;
    // Everyone left while the stream was starting.
    if (group.closed) {
      void iterator.return?.().catch(() => undefined);
      return;
    }
    // The source is read as fast as it yields, apart from the writing: the pubsub's own buffer (a
    // Repeater, 1,024 events) would throw from the publisher if a long fan-out let it fill.
    const pending: SerializedResult[] = [];
    queues.add(pending);
    let drained: Promise<void> | undefined;
    const drain = async () => {
      while (pending.length > 0 && !group.closed) {
        await deliver(group, pending.shift()!);
        flow?.changed();
      }
      // Everyone left: what was waiting is nobody's any more, and no publisher should wait for it.
      if (group.closed) pending.length = 0;
      drained = undefined;
    };
    let failure: { error: unknown } | undefined;
    try {
      for (;;) {
        const step = await iterator.next();
        if (step.done || group.closed) break;
        metrics.executions.inc();
        pending.push(serializeResult(step.value));
        if (pending.length > MAX_PENDING_EVENTS) throw new FanOutOverflowError();
        drained ??= drain();
      }
    } catch (error) {
      failure = { error };
      if (error instanceof FanOutOverflowError) pending.length = 0;
    }
    // What arrived before the end (or the failure) is written first.
    await drained;
    queues.delete(pending);
    flow?.changed();
    endAll(group, failure?.error);
    close(group);
  };

  const join = async (key: string, start: StartGroup, member: FanOutMember): Promise<JoinOutcome> => {
    let group = groups.get(key);
    if (!group) {
      const abort = new AbortController();
      const created: Group = {
        key,
        members: new Set(),
        abort,
        started: Promise.resolve().then(() => start(abort.signal)),
        iterator: undefined,
        closed: false,
      };
      groups.set(key, created);
      metrics.groups.set(groups.size);
      created.started.then(
        (outcome) => {
          if (isAsyncIterable(outcome)) void run(created, outcome);
          else close(created);
        },
        () => close(created),
      );
      group = created;
    }
    const joined = group;
    joined.members.add(member);
    memberCount += 1;
    metrics.members.inc({ transport: member.transport });
    let outcome: AsyncIterable<ExecutionResult> | ExecutionResult;
    try {
      outcome = await joined.started;
    } catch (error) {
      remove(joined, member);
      throw error;
    }
    if (!isAsyncIterable(outcome)) {
      remove(joined, member);
      return { kind: 'result', result: outcome };
    }
    return { kind: 'joined', leave: () => void remove(joined, member) };
  };

  return {
    join,
    slowConsumerClosed: (transport) => metrics.slowConsumers.inc({ transport }),
    get size() {
      return { groups: groups.size, members: memberCount };
    },
  };
}

/**
 * JSON of a result as yoga writes it (its `jsonStringifyResultWithoutInternals`): the `http` and
 * `unexpected` extensions are the server's, not the client's.
 */
export function serializeResult(result: ExecutionResult): SerializedResult {
  if (!result.errors?.length && !result.extensions?.['http']) return { result, json: JSON.stringify(result) };
  const { http: _http, ...extensions } = result.extensions ?? {};
  const wire = {
    ...result,
    errors: result.errors?.map(errorWithoutInternals),
    extensions: Object.keys(extensions).length > 0 ? extensions : undefined,
  };
  return { result, json: JSON.stringify(wire) };
}

function errorWithoutInternals(error: GraphQLError): unknown {
  const json = typeof error.toJSON === 'function' ? error.toJSON() : { message: error.message };
  if (!json.extensions) return json;
  const { http: _http, unexpected: _unexpected, ...extensions } = json.extensions as Record<string, unknown>;
  return { ...json, extensions: Object.keys(extensions).length > 0 ? extensions : undefined };
}

function isAsyncIterable(value: unknown): value is AsyncIterable<ExecutionResult> {
  return typeof value === 'object' && value !== null && typeof (value as Partial<AsyncIterable<unknown>>)[Symbol.asyncIterator] === 'function';
}

function createFanOutMetrics(registry: Registry | undefined) {
  const registers = registry ? [registry] : [];
  return {
    groups: new Gauge({
      name: 'gateway_subscription_groups',
      help: 'Subscription groups: subscriptions sharing one execution per event',
      registers,
    }),
    members: new Gauge({
      name: 'gateway_subscription_members',
      help: 'Subscriptions served from a group, by transport',
      labelNames: ['transport'],
      registers,
    }),
    executions: new Counter({
      name: 'gateway_subscription_executions_total',
      help: 'Subscription events executed (once per event and group, whatever its member count)',
      registers,
    }),
    deliveries: new Counter({
      name: 'gateway_subscription_deliveries_total',
      help: 'Subscription events written to subscribers, by transport',
      labelNames: ['transport'],
      registers,
    }),
    slowConsumers: new Counter({
      name: 'gateway_subscription_slow_consumers_total',
      help: 'Subscribers closed because they read too slowly (buffer limit passed), by transport',
      labelNames: ['transport'],
      registers,
    }),
  };
}

export interface FanOutKeyParts {
  /** The GraphQL endpoint (one per project). */
  readonly endpoint: string;
  /** The schema the operation was validated against (a typed schema is swapped when Lexicon changes). */
  readonly schema: object;
  readonly document: DocumentNode;
  readonly operationName: string | null | undefined;
  readonly variables: Readonly<Record<string, unknown>> | null | undefined;
  /**
   * The credential the client presented (`Authorization` value; undefined when none): clients holding
   * different keys, and so maybe different rights, never share a result.
   */
  readonly authorization: string | null | undefined;
}

const schemaIds = new WeakMap<object, number>();
let nextSchemaId = 1;
const printedDocuments = new WeakMap<DocumentNode, string>();

/** The group of a subscription: everything its result depends on, besides the events. */
export function fanOutKey(parts: FanOutKeyParts): string {
  let schemaId = schemaIds.get(parts.schema);
  if (schemaId === undefined) {
    schemaId = nextSchemaId++;
    schemaIds.set(parts.schema, schemaId);
  }
  // The parser cache hands out one DocumentNode per query text, so this prints each document once.
  let printed = printedDocuments.get(parts.document);
  if (printed === undefined) {
    printed = print(parts.document);
    printedDocuments.set(parts.document, printed);
  }
  const scope = parts.authorization ? createHash('sha256').update(parts.authorization).digest('base64url') : '';
  return JSON.stringify([parts.endpoint, schemaId, scope, parts.operationName ?? null, canonicalJson(parts.variables ?? {}), printed]);
}

/** JSON with object keys sorted, so `{a, b}` and `{b, a}` name the same variables. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.keys(value)
      .sort()
      .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
