/**
 * One context path for HTTP, SSE and WebSocket: each gets its own request
 * stats, deadline and abort signal, bound to the project its endpoint serves.
 */
import type { Context, GatewayClient } from '../schema/context.js';
import type { GatewayPubSub } from '../pubsub/types.js';
import type { ProjectRuntime } from '../runtime/types.js';
import { newRequestStats } from '../upstream/call-context.js';
import type { ProjectWrites } from '../writes/project-writes.js';

export interface ContextFactoryOptions {
  readonly project: ProjectRuntime;
  readonly pubsub: GatewayPubSub;
  /** The project's writes (src/writes). Default: none, and mutations that write fail. */
  readonly writes?: ProjectWrites | undefined;
  /** Budget deadline of one request, in ms from its start. */
  readonly requestDeadlineMs: number;
  readonly now?: () => number;
}

/**
 * Builds the per-operation context for the authenticated client (undefined: anonymous). A subscription keeps its context for
 * life, so its deadline is renewed per event by the subscription resolvers
 * through `renewDeadline`.
 */
export function createContextFactory(options: ContextFactoryOptions) {
  const now = options.now ?? Date.now;
  return (signal: AbortSignal, client?: GatewayClient): Context => {
    const stats = newRequestStats();
    // Mutated in place: yoga copies the context's properties, so it must be the same object throughout.
    const upstream = { deadline: now() + options.requestDeadlineMs, signal, stats, ...(client ? { clientId: client.id } : {}) };
    return {
      project: options.project,
      pubsub: options.pubsub,
      writes: options.writes,
      client,
      signal,
      stats,
      upstream,
      renewDeadline() {
        upstream.deadline = now() + options.requestDeadlineMs;
      },
      now,
    };
  };
}
