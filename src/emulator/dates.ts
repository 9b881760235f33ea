/**
 * Date parameters and time buckets of the Query and Export APIs. Projects
 * here are UTC (the export spec: UTC for projects created after 2023-01-01).
 */
import { EmulatorHttpError } from './errors.js';

export const DAY_MS = 86_400_000;
export const HOUR_MS = 3_600_000;

export type BucketUnit = 'minute' | 'hour' | 'day' | 'week' | 'month';

const DATE_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Midnight UTC (epoch ms) of a yyyy-mm-dd parameter; 400 when malformed. */
export function parseDateParam(value: string | undefined, name: string): number {
  if (value === undefined || value === '') throw new EmulatorHttpError(400, `${name} is a required parameter`);
  const match = DATE_PATTERN.exec(value);
  const ms = match ? Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])) : Number.NaN;
  if (!match || Number.isNaN(ms) || formatDay(ms) !== value) {
    throw new EmulatorHttpError(400, `${name} must be in yyyy-mm-dd format`);
  }
  return ms;
}

/** An inclusive from_date..to_date window as [startMs, endMs) after the checks Mixpanel makes. */
export function dateRange(
  params: Readonly<Record<string, string>>,
  now: number,
): { readonly startMs: number; readonly endMs: number } {
  const startMs = parseDateParam(params.from_date, 'from_date');
  const toMs = parseDateParam(params.to_date, 'to_date');
  // The message clients match on (DIGEST §4); "today" is UTC here.
  if (toMs > startOfDay(now)) throw new EmulatorHttpError(400, 'to_date cannot be later than today');
  if (startMs > toMs) throw new EmulatorHttpError(400, 'from_date cannot be later than to_date');
  return { startMs, endMs: toMs + DAY_MS };
}

export function startOfDay(ms: number): number {
  return ms - (((ms % DAY_MS) + DAY_MS) % DAY_MS);
}

export function formatDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** "2024-05-01 13:00:00": the format Mixpanel uses for hour and minute buckets. */
function formatDayTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

/** Start (epoch ms) of the bucket holding `ms`. Weeks start on Monday. */
export function bucketStart(unit: BucketUnit, ms: number): number {
  switch (unit) {
    case 'minute':
      return ms - (ms % 60_000);
    case 'hour':
      return ms - (ms % HOUR_MS);
    case 'day':
      return startOfDay(ms);
    case 'week': {
      const day = startOfDay(ms);
      const weekday = (new Date(day).getUTCDay() + 6) % 7;
      return day - weekday * DAY_MS;
    }
    case 'month': {
      const d = new Date(ms);
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
    }
  }
}

export function nextBucket(unit: BucketUnit, start: number): number {
  switch (unit) {
    case 'minute':
      return start + 60_000;
    case 'hour':
      return start + HOUR_MS;
    case 'day':
      return start + DAY_MS;
    case 'week':
      return start + 7 * DAY_MS;
    case 'month': {
      const d = new Date(start);
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
    }
  }
}

export function bucketKey(unit: BucketUnit, ms: number): string {
  const start = bucketStart(unit, ms);
  return unit === 'minute' || unit === 'hour' ? formatDayTime(start) : formatDay(start);
}

/** Every bucket key overlapping [startMs, endMs), in order. */
export function bucketSeries(unit: BucketUnit, startMs: number, endMs: number): string[] {
  const keys: string[] = [];
  for (let at = bucketStart(unit, startMs); at < endMs; at = nextBucket(unit, at)) keys.push(bucketKey(unit, at));
  return keys;
}
