/**
 * From arguments to Mixpanel's parameters: the limits Mixpanel documents (or
 * we set where it documents none), the checks that refuse a bad argument with
 * InvalidArgumentError, and the segmentation mapping several reports share.
 */
import type { CountType, SegmentationParams, SegmentationUnit } from '../../mixpanel/types.js';
import { InvalidArgumentError } from '../../core/errors.js';
import type { Context } from '../context.js';
import { checkDateRange, checkExpression, checkLimit, checkName, type DateRange } from '../validation.js';

/** Longest range of any report. Mixpanel documents none for most endpoints; a year keeps answers bounded. */
export const MAX_REPORT_DAYS = 366;
/** Mixpanel's cap on segmentation, funnel and retention `limit` (https://developer.mixpanel.com/reference/segmentation-query, https://developer.mixpanel.com/reference/funnels-query). */
export const MAX_SEGMENT_LIMIT = 10_000;
/** Funnel `length` and retention `interval` are capped at 90 days (https://developer.mixpanel.com/reference/funnels-query, https://developer.mixpanel.com/reference/retention-query). */
export const MAX_WINDOW_DAYS = 90;
/** Caps for list endpoints whose maximum Mixpanel does not document. */
export const MAX_LIST_LIMIT = 10_000;
export const MAX_EVENTS_PER_QUERY = 100;

/** The Query API reads dates in the project's timezone, so "today" is the project's. */
export function range(args: { from: string; to: string }, ctx: Context): DateRange {
  return checkDateRange({ from: args.from, to: args.to }, { maxDays: MAX_REPORT_DAYS, now: ctx.now(), timeZone: ctx.project.config.timezone });
}

/** Copies the defined entries only: the cache key and Mixpanel's query string carry no empty parameters. */
export function defined<T extends object>(params: T): T {
  return Object.fromEntries(Object.entries(params).filter(([, value]) => value !== undefined && value !== null)) as T;
}

export function checkPositive(value: number | null | undefined, argument: string, max?: number): number | undefined {
  if (value === null || value === undefined) return undefined;
  if (!Number.isInteger(value) || value < 1 || (max !== undefined && value > max)) {
    throw new InvalidArgumentError(`${argument} must be a positive integer${max === undefined ? '' : ` up to ${max}`}, got ${value}`, argument);
  }
  return value;
}

export function segmentationParams(
  ctx: Context,
  args: {
    event: string;
    from: string;
    to: string;
    on?: string | null;
    unit?: SegmentationUnit | null;
    where?: string | null;
    type?: CountType | null;
    limit?: number | null;
    interval?: number | null;
  },
): SegmentationParams {
  const { from, to } = range(args, ctx);
  if (args.unit && args.interval !== null && args.interval !== undefined) {
    throw new InvalidArgumentError('interval (days per bucket) replaces unit: give one of them', 'interval');
  }
  const on = checkExpression(args.on, 'on');
  const limit = checkLimit(args.limit, MAX_SEGMENT_LIMIT);
  if (limit !== undefined && on === undefined) throw new InvalidArgumentError('limit applies to segments: give `on` as well', 'limit');
  return defined({
    event: checkName(args.event, 'event'),
    fromDate: from,
    toDate: to,
    on,
    unit: args.unit ?? undefined,
    interval: checkPositive(args.interval, 'interval'),
    where: checkExpression(args.where, 'where'),
    type: args.type ?? undefined,
    limit,
  });
}

export function numericParams(ctx: Context, args: Parameters<typeof segmentationParams>[1] & { on: string }): SegmentationParams & { on: string } {
  if (args.unit && args.unit !== 'hour' && args.unit !== 'day') {
    throw new InvalidArgumentError('unit must be HOUR or DAY for numeric segmentation', 'unit');
  }
  const params = segmentationParams(ctx, args);
  return { ...params, on: params.on ?? checkName(args.on, 'on') };
}
