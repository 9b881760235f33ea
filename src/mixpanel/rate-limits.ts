/**
 * The shape of Mixpanel's rate limits per API family (https://developer.mixpanel.com/reference/rate-limits):
 * what limits/defaults.ts documents and a project's configuration adjusts.
 */
import type { ApiFamily } from './types.js';

/** One limit of one family; any field left out means "no such limit". */
export interface FamilyLimits {
  readonly perHour?: number | undefined;
  readonly perMinute?: number | undefined;
  readonly perSecond?: number | undefined;
  readonly concurrent?: number | undefined;
}

export type ProjectLimits = Readonly<Record<ApiFamily, FamilyLimits>>;
