/**
 * The gateway's typed pub/sub: in-process by default, or across instances
 * through Redis (graphql-yoga `createPubSub` over `createRedisEventTarget`).
 *
 * Delivery is at most once: an event published while a subscriber is not
 * connected, or while Redis is down, is lost. The membership store, not the
 * event stream, is the source of truth (subscribers can re-read it).
 *
 * Publishing never runs a subscriber: in process, events are dispatched from
 * a later turn of the event loop (in publish order), as Redis delivers them,
 * so whoever publishes (the webhook receiver) answers before any
 * subscription executes.
 *
 * Its `flow` (publish-flow.ts) counts the in-process events not yet
 * dispatched; the fan-out adds its group queues to it.
 */
import { setMaxListeners } from 'node:events';
import type { Redis } from 'ioredis';
import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
import { createPubSub } from 'graphql-yoga';
import { createPublishFlow, type PublishFlow } from './publish-flow.js';
import type { GatewayPubSub, GatewayTopics } from './types.js';

export interface GatewayPubSubOptions {
  /**
   * Two connections to one Redis: a connection in subscriber mode can do
   * nothing else, so publishing needs its own. Default: in-process only.
   */
  readonly redis?: { readonly publish: Redis; readonly subscribe: Redis } | undefined;
  /**
   * Prefix of the Redis channel names (the channel is `<prefix><topic>:<projectId>`);
   * default `mpgw:pubsub:`. Instances that should see each other's events use the same one.
   */
  readonly channelPrefix?: string | undefined;
  /** Called when a Redis publish fails; the event is dropped. Default: a line on stderr (message only). */
  readonly onError?: ((error: unknown) => void) | undefined;
}

type EventTarget = NonNullable<NonNullable<Parameters<typeof createPubSub<GatewayTopics>>[0]>['eventTarget']>;

export function createGatewayPubSub(options: GatewayPubSubOptions = {}): GatewayPubSub {
  const flow = createPublishFlow();
  if (!options.redis) return Object.assign(createPubSub<GatewayTopics>({ eventTarget: createInProcessEventTarget(flow) }), { flow });
  const pubsub = createPubSub<GatewayTopics>({
    eventTarget: createPrefixedRedisEventTarget(options.redis, options.channelPrefix ?? 'mpgw:pubsub:', options.onError ?? reportPublishError),
  });
  return Object.assign(pubsub, { flow });
}

/**
 * Every subscriber of a project listens on one topic, so a thousand
 * subscribers are a thousand listeners: lift Node's leak warning (10).
 * Events are queued and dispatched on setImmediate, in order; the queue counts in `flow`.
 */
function createInProcessEventTarget(flow: PublishFlow): EventTarget {
  const target = new globalThis.EventTarget();
  setMaxListeners(0, target);
  const queued: Event[] = [];
  flow.track(() => queued.length);
  const dispatchQueued = () => {
    for (const event of queued.splice(0)) target.dispatchEvent(event);
    flow.changed();
  };
  return {
    addEventListener: (topic, listener) => target.addEventListener(topic, listener as EventListener),
    removeEventListener: (topic, listener) => target.removeEventListener(topic, listener as EventListener),
    dispatchEvent(event) {
      if (queued.push(event as unknown as Event) === 1) setImmediate(dispatchQueued);
      return true;
    },
  };
}

/**
 * createRedisEventTarget has no channel prefix option and publishes without
 * handling the returned promise (a failed PUBLISH would be an unhandled
 * rejection), so subscriptions go through it with prefixed topics while
 * publishing is done here, in the same JSON encoding it parses.
 */
function createPrefixedRedisEventTarget(
  redis: { readonly publish: Redis; readonly subscribe: Redis },
  prefix: string,
  onError: (error: unknown) => void,
): EventTarget {
  const target = createRedisEventTarget({ publishClient: redis.publish, subscribeClient: redis.subscribe });
  return {
    addEventListener: (topic, listener) => target.addEventListener(prefix + topic, listener),
    removeEventListener: (topic, listener) => target.removeEventListener(prefix + topic, listener),
    dispatchEvent(event) {
      const message = event.detail === undefined ? '' : JSON.stringify(event.detail);
      redis.publish.publish(prefix + event.type, message).catch(onError);
      return true;
    },
  };
}

function reportPublishError(error: unknown): void {
  process.stderr.write(`pubsub: a Redis publish failed, the event was dropped: ${error instanceof Error ? error.message : 'unknown error'}\n`);
}
