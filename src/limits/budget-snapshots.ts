/**
 * What the budget shows of a family without sending anything: the
 * current window's use (as `project { rateLimits }` shows it), and the reserve and pacing. Read-only
 * views over the store and the queue, apart from the parts that grant and retry calls.
 */
import type { ApiFamily } from '../mixpanel/types.js';
import type { BudgetWindows } from './budget-windows.js';
import type { Clock } from './clock.js';
import type { BudgetStore } from './store.js';
import type { Budget, BudgetSnapshot, PacingSnapshot } from './types.js';

export interface BudgetSnapshotsOptions {
  readonly scope: string;
  readonly store: BudgetStore;
  readonly clock: Clock;
  readonly windows: BudgetWindows;
  /** Calls of the family waiting in the queue now. */
  readonly queued: (family: ApiFamily) => number;
}

export function createBudgetSnapshots(options: BudgetSnapshotsOptions): Pick<Budget, 'snapshot' | 'pacing'> {
  const { scope, store, clock } = options;
  const { limitsOf: familyLimits, windowsFor, reserveOf, pacerOf } = options.windows;
  return {
    async snapshot(family): Promise<BudgetSnapshot> {
      const windows = windowsFor(family, 'hourly');
      const usage = await store.usage(scope, family, windows, clock.now());
      const primary = windows[0];
      const primaryUsage = usage.windows[0];
      const oldestAt = primaryUsage?.oldestAt ?? null;
      return {
        family,
        used: primaryUsage?.used ?? 0,
        limit: primary?.limit ?? null,
        window: primary?.window ?? null,
        windowResetsAt: primary && oldestAt !== null ? oldestAt + primary.spanMs : null,
        inFlight: usage.inFlight,
        concurrentLimit: familyLimits(family).concurrent ?? null,
        queued: options.queued(family),
        backoffUntil: usage.backoffUntil,
      };
    },

    pacing(family): PacingSnapshot {
      return { reserve: reserveOf(family), pacedCalls: pacerOf(family)?.available(clock.now()) ?? null };
    },
  };
}
