/**
 * Where budget counts live. The budget (queue, priorities, deadlines, retries)
 * is in-process; a store only answers "may one more call start now?" and
 * records it, atomically. Memory serves one instance; Redis (redis-store.ts)
 * lets several gateway instances share one budget, as Mixpanel counts per project.
 */
import type { ApiFamily } from '../mixpanel/types.js';
import type { WindowName } from './defaults.js';

/** One rolling window a call counts against. */
export interface WindowLimit {
  readonly window: WindowName;
  readonly limit: number;
  /** Window length plus the safety margin, in ms: a call counts for this long after it was sent. */
  readonly spanMs: number;
}

export interface AcquireRequest {
  /** Counting scope: the Mixpanel project id. */
  readonly scope: string;
  readonly family: ApiFamily;
  readonly now: number;
  /** The windows this call counts against (positive limits only). */
  readonly windows: readonly WindowLimit[];
  /** Calls allowed in flight at once; undefined for no limit. */
  readonly concurrent: number | undefined;
  /** Identifies the concurrency lease (and the window entries) of this call. */
  readonly leaseId: string;
  /** The lease is dropped at this time unless renewed. */
  readonly leaseUntil: number;
}

export type AcquireResult =
  | { readonly granted: true }
  | {
      readonly granted: false;
      /** Earliest time the windows and any backoff allow a call; null when they allow one now. */
      readonly notBefore: number | null;
      /** True when every concurrency slot is taken. */
      readonly concurrencyFull: boolean;
      /** When concurrency is full: the earliest expiry of a lease held. */
      readonly leaseExpiresAt: number | null;
    };

export interface WindowUsage {
  readonly window: WindowName;
  readonly used: number;
  /** Send time of the oldest call still counted, or null. */
  readonly oldestAt: number | null;
}

export interface StoreUsage {
  readonly windows: readonly WindowUsage[];
  readonly inFlight: number;
  readonly backoffUntil: number | null;
}

export interface BudgetStore {
  /** Atomically checks every window, the backoff and the concurrency, and records the call when all allow it. */
  tryAcquire(request: AcquireRequest): Promise<AcquireResult>;
  /** Frees the concurrency slot of a finished call (its window entries stay counted). */
  release(scope: string, family: ApiFamily, leaseId: string): Promise<void>;
  /** Extends the lease of a call still running. */
  renew(scope: string, family: ApiFamily, leaseId: string, leaseUntil: number, now: number): Promise<void>;
  /** Treats the family as exhausted until `until` (after an upstream 429); never shortens an existing backoff. */
  backoff(scope: string, family: ApiFamily, until: number, now: number): Promise<void>;
  usage(scope: string, family: ApiFamily, windows: readonly WindowLimit[], now: number): Promise<StoreUsage>;
  close(): Promise<void>;
}

interface FamilyState {
  /** Send times per window, oldest first. */
  readonly windows: Map<WindowName, number[]>;
  /** Lease id -> expiry. */
  readonly leases: Map<string, number>;
  backoffUntil: number;
}

/** A store for one gateway instance. */
export function createMemoryBudgetStore(): BudgetStore {
  const states = new Map<string, FamilyState>();

  const stateOf = (scope: string, family: ApiFamily): FamilyState => {
    const key = `${scope}\u0000${family}`;
    let state = states.get(key);
    if (!state) {
      state = { windows: new Map(), leases: new Map(), backoffUntil: 0 };
      states.set(key, state);
    }
    return state;
  };

  /** The window's entries still counted at `now` (expired ones are dropped). */
  const counted = (state: FamilyState, window: WindowLimit, now: number): number[] => {
    const entries = state.windows.get(window.window) ?? [];
    const firstLive = entries.findIndex((sentAt) => sentAt + window.spanMs > now);
    const live = firstLive === -1 ? [] : entries.slice(firstLive);
    state.windows.set(window.window, live);
    return live;
  };

  const liveLeases = (state: FamilyState, now: number): number[] => {
    for (const [id, until] of state.leases) if (until <= now) state.leases.delete(id);
    return [...state.leases.values()];
  };

  return {
    async tryAcquire(request) {
      const { now } = request;
      const state = stateOf(request.scope, request.family);
      let blockedUntil = state.backoffUntil > now ? state.backoffUntil : 0;
      for (const window of request.windows) {
        const entries = counted(state, window, now);
        if (entries.length >= window.limit) {
          // The call that must leave for one slot to free up.
          const leaving = entries[entries.length - window.limit] ?? now;
          blockedUntil = Math.max(blockedUntil, leaving + window.spanMs);
        }
      }
      const leases = liveLeases(state, now);
      const concurrencyFull = request.concurrent !== undefined && leases.length >= request.concurrent;
      if (blockedUntil > now || concurrencyFull) {
        return {
          granted: false,
          notBefore: blockedUntil > now ? blockedUntil : null,
          concurrencyFull,
          leaseExpiresAt: concurrencyFull && leases.length > 0 ? Math.min(...leases) : null,
        };
      }
      for (const window of request.windows) {
        const entries = counted(state, window, now);
        entries.push(now);
        // A clock stepped backwards must not break the oldest-first order.
        if (entries.length > 1 && (entries.at(-2) ?? 0) > now) entries.sort((a, b) => a - b);
      }
      state.leases.set(request.leaseId, request.leaseUntil);
      return { granted: true };
    },
    async release(scope, family, leaseId) {
      stateOf(scope, family).leases.delete(leaseId);
    },
    async renew(scope, family, leaseId, leaseUntil) {
      stateOf(scope, family).leases.set(leaseId, leaseUntil);
    },
    async backoff(scope, family, until) {
      const state = stateOf(scope, family);
      state.backoffUntil = Math.max(state.backoffUntil, until);
    },
    async usage(scope, family, windows, now) {
      const state = stateOf(scope, family);
      return {
        windows: windows.map((window) => {
          const entries = counted(state, window, now);
          return { window: window.window, used: entries.length, oldestAt: entries[0] ?? null };
        }),
        inFlight: liveLeases(state, now).length,
        backoffUntil: state.backoffUntil > now ? state.backoffUntil : null,
      };
    },
    async close() {
      states.clear();
    },
  };
}
