/**
 * The gateway's Redis connections and what it knows about Redis's health.
 *
 * Redis is a dependency that may go away; the gateway must keep answering
 * when it does. So:
 * - commands and publishes fail at once while Redis is unreachable
 *   (`enableOfflineQueue: false`) and after `commandTimeoutMs` when it hangs,
 *   instead of queueing until a request times out; callers fall back
 *   (the budget to a local share, the pubsub drops the event);
 * - the subscriber connection keeps SUBSCRIBE queued across an outage and
 *   replays it on reconnect (the event target ignores its promise);
 * - every connection reconnects by itself, backing off to `maxReconnectDelayMs`;
 * - an outage is logged once when it starts, then at most once per
 *   `warnIntervalMs`, and once when Redis is back: never a line per retry;
 * - close() never waits on an unreachable Redis.
 */
import { Redis } from 'ioredis';
import type { Logger } from '../observability/logger.js';

export interface RedisConnectionsOptions {
  /** Longest a command may take before it fails; default 1000 ms. */
  readonly commandTimeoutMs?: number;
  /** Longest pause between reconnect attempts; default 2000 ms. */
  readonly maxReconnectDelayMs?: number;
  /** Least time between two "still unreachable" warnings; default 60000 ms. */
  readonly warnIntervalMs?: number;
  /** Longest wait in close() for QUIT to be answered before the sockets are dropped; default 1000 ms. */
  readonly closeTimeoutMs?: number;
}

export interface RedisHealth {
  /** True while the command connection is connected and ready. */
  readonly available: boolean;
  /** Since when Redis has been unreachable (epoch ms), or null while it is reachable. */
  readonly downSince: number | null;
}

export interface RedisConnections {
  readonly commands: Redis;
  /**
   * The shared cache level's connection: fails at once while Redis is unreachable (no offline queue) but has
   * no command timeout of ioredis's, whose timer fires ahead of a reply a busy event loop has not read yet;
   * its callers bound each command with `withinMs`.
   */
  readonly shared: Redis;
  readonly publish: Redis;
  readonly subscribe: Redis;
  health(): RedisHealth;
  /** PING on the command connection within `timeoutMs`; never throws. */
  ping(timeoutMs: number): Promise<boolean>;
  close(): Promise<void>;
}

type Role = 'commands' | 'shared' | 'publish' | 'subscribe';

export function createRedisConnections(url: string, logger: Logger, options: RedisConnectionsOptions = {}): RedisConnections {
  const commandTimeout = options.commandTimeoutMs ?? 1000;
  const maxDelay = options.maxReconnectDelayMs ?? 2000;
  const warnIntervalMs = options.warnIntervalMs ?? 60_000;
  const closeTimeoutMs = options.closeTimeoutMs ?? 1000;
  let closing = false;
  let downSince: number | null = null;
  let lastWarning = 0;
  let suppressed = 0;

  const reportError = (role: Role, error: Error) => {
    const at = Date.now();
    downSince ??= at;
    if (at - lastWarning < warnIntervalMs) {
      suppressed++;
      return;
    }
    const more = suppressed > 0 ? ` (${suppressed} similar errors since the last warning)` : '';
    lastWarning = at;
    suppressed = 0;
    logger.warn(`Redis is unreachable (${role} connection: ${error.message}); serving without it and reconnecting${more}`);
  };

  const open = (role: Role): Redis => {
    const redis = new Redis(url, {
      lazyConnect: false,
      // Only the subscriber queues: its SUBSCRIBE must survive an outage; everything else fails fast and falls back.
      enableOfflineQueue: role === 'subscribe',
      maxRetriesPerRequest: role === 'subscribe' ? null : 1,
      ...(role === 'subscribe' || role === 'shared' ? {} : { commandTimeout }),
      connectTimeout: 2000,
      retryStrategy: (attempt) => (closing ? null : Math.min(50 * 2 ** Math.min(attempt, 10), maxDelay)),
    });
    redis.on('error', (error: Error) => {
      if (!closing) reportError(role, error);
    });
    if (role === 'commands') {
      redis.on('ready', () => {
        if (downSince !== null && !closing) logger.info(`Redis is reachable again after ${Math.round((Date.now() - downSince) / 1000)} s`);
        downSince = null;
        lastWarning = 0;
        suppressed = 0;
      });
      redis.on('close', () => {
        if (!closing) downSince ??= Date.now();
      });
    }
    return redis;
  };

  const commands = open('commands');
  const shared = open('shared');
  const publish = open('publish');
  const subscribe = open('subscribe');
  const all = [commands, shared, publish, subscribe];

  return {
    commands,
    shared,
    publish,
    subscribe,
    health: () => ({ available: commands.status === 'ready', downSince: commands.status === 'ready' ? null : (downSince ?? Date.now()) }),
    async ping(timeoutMs) {
      if (commands.status !== 'ready') return false;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
      const pong = commands.ping().then(
        (reply) => reply === 'PONG',
        () => false,
      );
      const reachable = await Promise.race([pong, timeout]);
      clearTimeout(timer);
      return reachable;
    },
    async close() {
      closing = true;
      await Promise.all(
        all.map(async (redis) => {
          if (redis.status !== 'ready') return redis.disconnect();
          let timer: NodeJS.Timeout | undefined;
          const quit = redis.quit().then(
            () => undefined,
            () => undefined,
          );
          await Promise.race([quit, new Promise<void>((resolve) => (timer = setTimeout(resolve, closeTimeoutMs)))]);
          clearTimeout(timer);
          redis.disconnect();
        }),
      );
    },
  };
}

/** A warning logged at most once per `intervalMs`, saying how many were held back. */
export function createThrottledWarning(logger: Logger, message: string, intervalMs = 60_000): (error: unknown) => void {
  let last = 0;
  let held = 0;
  return (error) => {
    const at = Date.now();
    if (at - last < intervalMs) {
      held++;
      return;
    }
    const more = held > 0 ? ` (${held} more since the last warning)` : '';
    last = at;
    held = 0;
    logger.warn(`${message}: ${error instanceof Error ? error.message : 'unknown error'}${more}`);
  };
}

/**
 * `promise`, or a rejection once `ms` have passed without it settling. When the timer fires late (the event
 * loop was busy) one more round of I/O runs first: a reply already received but not yet read still counts.
 */
export function withinMs<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => {
      setImmediate(() => {
        if (settled) return;
        settled = true;
        reject(new Error(`Redis did not answer within ${ms} ms`));
      });
    }, ms);
    promise.then(
      (value) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
