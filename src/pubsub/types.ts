/**
 * Typed topics, keyed by project id (graphql-yoga PubSub `[id, payload]`
 * form). Payloads are plain JSON so the Redis event target can carry them
 * between instances.
 */
import type { PubSub } from 'graphql-yoga';
import type { AppliedChange } from '../membership/types.js';
import type { PublishFlow } from './publish-flow.js';

export interface CohortChangeEvent extends AppliedChange {
  /** When the gateway applied it (epoch ms). */
  readonly at: number;
}

export interface CohortSyncCompletedEvent {
  readonly projectId: string;
  readonly cohortId: string;
  readonly sessionId: string;
  readonly totalPages: number;
  readonly memberCount: number;
  readonly at: number;
}

export type GatewayTopics = {
  cohortMembershipChanged: [projectId: string, event: CohortChangeEvent];
  cohortSyncCompleted: [projectId: string, event: CohortSyncCompletedEvent];
};

/**
 * `flow`, when present, tells a long publication when this instance's subscribers have caught up
 * (publish-flow.ts); a pubsub without one is never waited for.
 */
export type GatewayPubSub = PubSub<GatewayTopics> & { readonly flow?: PublishFlow };
