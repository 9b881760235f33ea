/**
 * The GraphQL context: one per HTTP request, one per WebSocket subscription
 * (kept for its life). Built by src/server from the same path for both.
 */
import type { RequestStats } from '../limits/types.js';
import type { GatewayPubSub } from '../pubsub/types.js';
import type { CallContext, ProjectRuntime } from '../runtime/types.js';
import type { ProjectWrites } from '../writes/project-writes.js';

/** The client an API key authenticated (src/server/plugins/use-api-keys.ts). */
export interface GatewayClient {
  /** Non-secret client name from GATEWAY_API_KEYS. */
  readonly id: string;
  readonly canWrite: boolean;
  /** Project keys the client may read, or '*'. */
  readonly projects: readonly string[] | '*';
}

export interface Context {
  /** The Mixpanel project this endpoint serves: client, budget, cache, membership. */
  readonly project: ProjectRuntime;
  /** Aborted when the client goes away. */
  readonly signal: AbortSignal;
  /** Upstream calls, cache hits and budget use of this request, reported in `extensions`. */
  readonly stats: RequestStats;
  readonly pubsub: GatewayPubSub;
  /** The project's write batchers and idempotency keys; undefined where writes are not wired (mutations then fail). */
  readonly writes?: ProjectWrites | undefined;
  /** The authenticated client; undefined on a gateway without API keys (anonymous). */
  readonly client?: GatewayClient | undefined;
  /**
   * What `project.call` needs: the signal, the stats, and the deadline (epoch
   * ms) by which an upstream call must start or fail fast as rate limited.
   */
  readonly upstream: CallContext;
  /**
   * Starts a fresh deadline from now. A subscription keeps its context for
   * life, so its resolvers call this for each event they deliver.
   */
  renewDeadline(): void;
  /** The gateway's clock (epoch ms): "today" of date arguments is read from it. */
  readonly now: () => number;
}
