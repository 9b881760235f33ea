/**
 * How scarce each family's hourly window is, as last seen: the share spent widens the merge window,
 * `scarce` tells a read with stale data standing in to serve it, and `spareCalls` caps what one
 * expensive field may start. A room of its own because it only reads the budget (its snapshots and
 * pacing) and every source of the runtime asks it the same questions.
 */
import type { EconomyConfig, ProjectLimits } from '../config/types.js';
import { burstOf, firstViewReserve } from '../limits/pacing.js';
import type { Budget } from '../limits/types.js';
import type { ApiFamily } from '../mixpanel/types.js';

/** How much the merge window grows when the family's window is nearly spent. */
const WINDOW_GROWTH = 4;

export interface ScarcityOptions {
  readonly limits: ProjectLimits;
  readonly economy: EconomyConfig;
  readonly budget: Pick<Budget, 'snapshot' | 'pacing'>;
}

export interface Scarcity {
  /** Reads again the share of the family's hourly window spent (after every call). */
  noteSpent(family: ApiFamily): void;
  /** The family's merge window now: 0 for a family without a per-hour or per-minute limit. */
  windowMs(family: ApiFamily): number;
  /** Whether a read with stale data standing in should serve that data rather than spend a call. */
  scarce(family: ApiFamily): boolean;
  /** Calls of the family's hourly window one expensive field may still start. */
  spareCalls(family: ApiFamily): number;
}

export function createScarcity({ limits, economy, budget }: ScarcityOptions): Scarcity {
  /** Share of each family's hourly window spent, as last seen (refreshed after every call): drives the merge window. */
  const spent = new Map<ApiFamily, number>();
  const noteSpent = (family: ApiFamily): void => {
    budget.snapshot(family).then(
      (snapshot) => spent.set(family, snapshot.limit ? Math.min(1, snapshot.used / snapshot.limit) : 0),
      () => undefined,
    );
  };
  const isScarceFamily = (family: ApiFamily): boolean => {
    const own = limits[family] ?? {};
    return own.perHour !== undefined || own.perMinute !== undefined;
  };
  const windowMs = (family: ApiFamily): number =>
    isScarceFamily(family) ? economy.coalesceWindowMs * (1 + (WINDOW_GROWTH - 1) * (spent.get(family) ?? 0)) : 0;
  /** Paced calls kept for first views (src/limits/pacing.ts), 0 when the family is not paced. */
  const firstViewCalls = (family: ApiFamily): number => {
    const perHour = limits[family]?.perHour;
    if (!economy.pacing || perHour === undefined) return 0;
    const burst = burstOf(perHour);
    return burst >= perHour ? 0 : firstViewReserve(burst, economy.interactiveReservePercent / 100);
  };
  /**
   * True once the family's window is spent down to the interactive reserve, or its pacing down to what it
   * keeps for first views: a read with stale data standing in then serves that data instead of spending
   * what a first view (with nothing to stand in) needs, as background refreshes do.
   */
  const scarce = (family: ApiFamily): boolean => {
    const perHour = limits[family]?.perHour;
    if (perHour === undefined) return false;
    if ((1 - (spent.get(family) ?? 0)) * perHour <= Math.max(1, Math.floor((perHour * economy.interactiveReservePercent) / 100))) return true;
    const paced = budget.pacing(family).pacedCalls;
    return paced !== null && paced <= firstViewCalls(family);
  };
  const spareCalls = (family: ApiFamily): number => {
    const perHour = limits[family]?.perHour;
    if (perHour === undefined) return Number.POSITIVE_INFINITY;
    const left = (1 - (spent.get(family) ?? 0)) * perHour;
    return Math.max(0, Math.floor((left - Math.floor((perHour * economy.interactiveReservePercent) / 100)) / 2));
  };
  return { noteSpent, windowMs, scarce, spareCalls };
}
