/**
 * What a family's limits mean for one call: the windows it counts against (the hour left out for calls
 * Mixpanel does not count hourly, the interactive reserve left out for background calls), the reserve,
 * the family's pacer, and whether the family is off. Pure arithmetic over the configured limits, kept
 * apart from the queue and the retry loop, which both ask it.
 */
import type { FamilyLimits, ProjectLimits } from '../mixpanel/rate-limits.js';
import type { ApiFamily } from '../mixpanel/types.js';
import type { Clock } from './clock.js';
import { WINDOW_MS, type WindowName } from './defaults.js';
import { createPacer, type Pacer } from './pacing.js';
import type { WindowLimit } from './store.js';

/** Whether a call counts against the hourly limit ('hourly') or only the shorter windows ('free'). */
export type CallClass = 'hourly' | 'free';

export const classOf = (countsAgainstHourly: boolean | undefined): CallClass => (countsAgainstHourly === false ? 'free' : 'hourly');

const WINDOW_ORDER: readonly WindowName[] = ['hour', 'minute', 'second'];

export interface BudgetWindowsOptions {
  readonly limits: ProjectLimits;
  /** Extra time a call stays counted after its window passed, per window. */
  readonly margins: Readonly<Record<WindowName, number>>;
  /** Part of each hourly window kept for interactive calls (0..1). */
  readonly reserveFraction: number;
  readonly pacing: boolean | undefined;
  readonly clock: Clock;
}

export interface BudgetWindows {
  limitsOf(family: ApiFamily): FamilyLimits;
  /** Calls of the family's hourly window only interactive calls may spend. */
  reserveOf(family: ApiFamily): number;
  /** The family's pacer; none without pacing or an hourly limit worth spreading. */
  pacerOf(family: ApiFamily): Pacer | undefined;
  /**
   * The windows a call counts against, oldest-clearing last; calls free of the hourly limit skip the hour.
   * A background call sees the hour without the interactive reserve.
   */
  windowsFor(family: ApiFamily, callClass: CallClass, background?: boolean): WindowLimit[];
  /** Whether a limit of the family is 0 (or less): no call of it is ever sent. */
  isDisabled(family: ApiFamily): boolean;
}

export function createBudgetWindows({ limits, margins, reserveFraction, pacing, clock }: BudgetWindowsOptions): BudgetWindows {
  const familyLimits = (family: ApiFamily): FamilyLimits => limits[family] ?? {};
  const reserveOf = (family: ApiFamily): number => {
    const perHour = familyLimits(family).perHour;
    return perHour === undefined || perHour <= 1 ? 0 : Math.floor(perHour * reserveFraction);
  };

  const pacers = new Map<ApiFamily, Pacer | undefined>();
  const pacerOf = (family: ApiFamily): Pacer | undefined => {
    const perHour = familyLimits(family).perHour;
    if (!pacing || perHour === undefined || perHour <= 0) return undefined;
    if (!pacers.has(family)) pacers.set(family, createPacer(perHour, clock.now()));
    return pacers.get(family);
  };

  const windowsFor = (family: ApiFamily, callClass: CallClass, background = false): WindowLimit[] => {
    const own = familyLimits(family);
    const hour = own.perHour === undefined ? undefined : own.perHour - (background ? reserveOf(family) : 0);
    const byWindow: Record<WindowName, number | undefined> = {
      hour: callClass === 'hourly' ? hour : undefined,
      minute: own.perMinute,
      second: own.perSecond,
    };
    return WINDOW_ORDER.flatMap((window) => {
      const limit = byWindow[window];
      return limit === undefined ? [] : [{ window, limit, spanMs: WINDOW_MS[window] + margins[window] }];
    });
  };

  const isDisabled = (family: ApiFamily): boolean => Object.values(familyLimits(family)).some((limit) => limit !== undefined && limit <= 0);

  return { limitsOf: familyLimits, reserveOf, pacerOf, windowsFor, isDisabled };
}
