/**
 * Cohort membership fed by Mixpanel's cohort-sync webhooks (https://docs.mixpanel.com/docs/cohort-sync/webhooks).
 * One interface, three backends: memory, SQLite (embedded default), Redis.
 * Every operation is atomic in its backend, so a crash loses nothing and
 * applies nothing half-done.
 */

/** A member as the webhook carries it (email, names and any exported properties). */
export interface CohortMember {
  readonly distinctId: string;
  readonly email?: string | undefined;
  readonly firstName?: string | undefined;
  readonly lastName?: string | undefined;
  readonly phoneNumber?: string | undefined;
  /** Every other exported property, as sent. */
  readonly properties: Readonly<Record<string, unknown>>;
}

export type SyncAction = 'members' | 'add_members' | 'remove_members';

export interface SyncPage {
  readonly projectId: string;
  readonly cohortId: string;
  readonly cohortName: string;
  readonly cohortDescription?: string | undefined;
  readonly action: SyncAction;
  readonly sessionId: string;
  readonly pageCount: number; // 1-based
  readonly totalPages: number;
  readonly members: readonly CohortMember[];
}

export type ChangeKind = 'ADDED' | 'REMOVED' | 'REPLACED';

/** What applying a page changed; empty `members` when it changed nothing. */
export interface AppliedChange {
  readonly projectId: string;
  readonly cohortId: string;
  readonly kind: ChangeKind;
  /** Members actually added or removed (set semantics); for REPLACED the full new membership page by page. */
  readonly members: readonly CohortMember[];
  readonly sessionId: string;
  readonly page: number;
  readonly totalPages: number;
}

export interface ApplyResult {
  /** False when this exact page was seen before: nothing changed. */
  readonly applied: boolean;
  /** Changes to publish, in order. A staged full-sync page yields none until the last page completes it. */
  readonly changes: readonly AppliedChange[];
  /**
   * The page that completed a full sync: its REMOVED, ADDED and REPLACED changes, published after `changes`.
   * They are read from the store in bounded batches as the stream is iterated (the membership is already
   * swapped in and durable); the store keeps the replaced membership until the stream ends or is returned.
   */
  readonly completion?: AsyncIterable<AppliedChange> | undefined;
  /** True when this page completed its session (every page has arrived and been applied). */
  readonly sessionCompleted: boolean;
  /** The cohort's sync state after this page, when the page changed it (a diff page or a completed full sync). */
  readonly state?: CohortSyncState | undefined;
}

export interface CohortSyncState {
  readonly projectId: string;
  readonly cohortId: string;
  readonly cohortName: string;
  readonly lastSyncAt: number; // epoch ms
  readonly sessionId: string;
  readonly memberCount: number;
}

export interface MembershipStore {
  /** Applies one webhook page idempotently (see src/webhooks for the semantics). */
  applyPage(page: SyncPage, now: number): Promise<ApplyResult>;
  /** Members of a synced cohort, in distinct-id order, after `afterDistinctId`. */
  members(projectId: string, cohortId: string, options: { first: number; afterDistinctId?: string }): Promise<CohortMember[]>;
  /** Which of these synced cohorts contain the profile; cohorts never synced are absent from the result. */
  cohortsOf(projectId: string, distinctIds: readonly string[]): Promise<Map<string, string[]>>;
  syncState(projectId: string, cohortId: string): Promise<CohortSyncState | undefined>;
  syncedCohorts(projectId: string): Promise<CohortSyncState[]>;
  /** Drops staged sessions older than `olderThan` (epoch ms). Returns how many. */
  expireSessions(olderThan: number): Promise<number>;
  close(): Promise<void>;
}
