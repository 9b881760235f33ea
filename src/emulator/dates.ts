/**
 * Date parameters and time buckets of the Query and Export APIs, in a
 * project's timezone. Query API dates and buckets are in the project's
 * timezone; the export's are UTC for projects created after 2023-01-01 and
 * the project's timezone for older ones
 * (https://developer.mixpanel.com/reference/raw-event-export).
 *
 * Bucket arithmetic runs on "wall" milliseconds (the local clock reading
 * written as if it were UTC), so days, weeks and months follow the local
 * calendar, DST included; `fromWall` maps a wall instant back to epoch ms.
 */
import { EmulatorHttpError } from './errors.js';

export const DAY_MS = 86_400_000;
export const HOUR_MS = 3_600_000;

export type BucketUnit = 'minute' | 'hour' | 'day' | 'week' | 'month';

const DATE_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/;

/** A project timezone: offsets come from the IANA database through Intl. */
export interface Zone {
  readonly name: string;
  /** Epoch ms -> wall ms. */
  toWall(ms: number): number;
  /** Wall ms -> epoch ms (the earlier instant when a wall time repeats, the later one when it is skipped). */
  fromWall(wall: number): number;
}

export const UTC: Zone = { name: 'UTC', toWall: (ms) => ms, fromWall: (wall) => wall };

const zones = new Map<string, Zone>([['UTC', UTC]]);

/** The zone of an IANA name; RangeError when Intl does not know it. */
export function zoneOf(name: string | undefined): Zone {
  if (name === undefined) return UTC;
  const known = zones.get(name);
  if (known) return known;
  const format = new Intl.DateTimeFormat('en-US', {
    timeZone: name,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  });
  const offsetAt = (ms: number): number => {
    const parts = Object.fromEntries(format.formatToParts(ms).map((p) => [p.type, Number(p.value)]));
    const wall = Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!);
    return wall - (ms - (((ms % 1000) + 1000) % 1000));
  };
  const zone: Zone = {
    name,
    toWall: (ms) => ms + offsetAt(ms),
    fromWall(wall) {
      const guess = wall - offsetAt(wall);
      const second = wall - offsetAt(guess);
      return Math.min(guess, second);
    },
  };
  zones.set(name, zone);
  return zone;
}

/** Midnight (wall ms) of a yyyy-mm-dd parameter; 400 when malformed. */
function parseWallDay(value: string | undefined, name: string): number {
  if (value === undefined || value === '') throw new EmulatorHttpError(400, `${name} is a required parameter`);
  const match = DATE_PATTERN.exec(value);
  const ms = match ? Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])) : Number.NaN;
  if (!match || Number.isNaN(ms) || utcDay(ms) !== value) {
    throw new EmulatorHttpError(400, `${name} must be in yyyy-mm-dd format`);
  }
  return ms;
}

/** Midnight of a yyyy-mm-dd parameter in the zone (epoch ms); 400 when malformed. */
export function parseDateParam(value: string | undefined, name: string, zone: Zone = UTC): number {
  return zone.fromWall(parseWallDay(value, name));
}

/** An inclusive from_date..to_date window as [startMs, endMs) after the checks Mixpanel makes. */
export function dateRange(params: Readonly<Record<string, string>>, now: number, zone: Zone = UTC): { readonly startMs: number; readonly endMs: number } {
  const fromWall = parseWallDay(params.from_date, 'from_date');
  const toWall = parseWallDay(params.to_date, 'to_date');
  // The message clients match on; "today" is the project's (a timezone mismatch is the usual cause).
  if (toWall > utcStartOfDay(zone.toWall(now))) throw new EmulatorHttpError(400, 'to_date cannot be later than today');
  if (fromWall > toWall) throw new EmulatorHttpError(400, 'from_date cannot be later than to_date');
  return { startMs: zone.fromWall(fromWall), endMs: zone.fromWall(toWall + DAY_MS) };
}

function utcStartOfDay(ms: number): number {
  return ms - (((ms % DAY_MS) + DAY_MS) % DAY_MS);
}

function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Start (epoch ms) of the local day holding `ms`. */
export function startOfDay(ms: number, zone: Zone = UTC): number {
  return zone.fromWall(utcStartOfDay(zone.toWall(ms)));
}

/** The local day of `ms`, yyyy-mm-dd. */
export function formatDay(ms: number, zone: Zone = UTC): string {
  return utcDay(zone.toWall(ms));
}

/** "2024-05-01 13:00:00": the format Mixpanel uses for hour and minute buckets. */
function formatWallTime(wall: number): string {
  return new Date(wall).toISOString().slice(0, 19).replace('T', ' ');
}

function wallBucketStart(unit: BucketUnit, wall: number): number {
  switch (unit) {
    case 'minute':
      return wall - (((wall % 60_000) + 60_000) % 60_000);
    case 'hour':
      return wall - (((wall % HOUR_MS) + HOUR_MS) % HOUR_MS);
    case 'day':
      return utcStartOfDay(wall);
    case 'week': {
      const day = utcStartOfDay(wall);
      const weekday = (new Date(day).getUTCDay() + 6) % 7;
      return day - weekday * DAY_MS;
    }
    case 'month': {
      const d = new Date(wall);
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
    }
  }
}

function wallNext(unit: BucketUnit, wall: number): number {
  switch (unit) {
    case 'minute':
      return wall + 60_000;
    case 'hour':
      return wall + HOUR_MS;
    case 'day':
      return wall + DAY_MS;
    case 'week':
      return wall + 7 * DAY_MS;
    case 'month': {
      const d = new Date(wall);
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
    }
  }
}

/** Start (epoch ms) of the bucket holding `ms`. Weeks start on Monday. */
export function bucketStart(unit: BucketUnit, ms: number, zone: Zone = UTC): number {
  return zone.fromWall(wallBucketStart(unit, zone.toWall(ms)));
}

/** Start (epoch ms) of the bucket after the one starting at `start`. */
export function nextBucket(unit: BucketUnit, start: number, zone: Zone = UTC): number {
  return zone.fromWall(wallNext(unit, wallBucketStart(unit, zone.toWall(start))));
}

export function bucketKey(unit: BucketUnit, ms: number, zone: Zone = UTC): string {
  const start = wallBucketStart(unit, zone.toWall(ms));
  return unit === 'minute' || unit === 'hour' ? formatWallTime(start) : utcDay(start);
}

/** Every bucket key overlapping [startMs, endMs), in order. */
export function bucketSeries(unit: BucketUnit, startMs: number, endMs: number, zone: Zone = UTC): string[] {
  const keys: string[] = [];
  for (let at = bucketStart(unit, startMs, zone); at < endMs; at = nextBucket(unit, at, zone)) keys.push(bucketKey(unit, at, zone));
  return keys;
}

/**
 * Buckets of `days` days each, the first starting at `startMs` (segmentation's
 * `interval`: "the number of days your results are bucketed into").
 */
export function dayBuckets(days: number, startMs: number, endMs: number, zone: Zone = UTC): { keys: string[]; keyOf(ms: number): string } {
  const first = utcStartOfDay(zone.toWall(startMs));
  const width = days * DAY_MS;
  const keys: string[] = [];
  for (let wall = first; zone.fromWall(wall) < endMs; wall += width) keys.push(utcDay(wall));
  return {
    keys,
    keyOf: (ms) => utcDay(first + Math.floor((utcStartOfDay(zone.toWall(ms)) - first) / width) * width),
  };
}

/** The date functions bound to one zone, for a route handling one request. */
export function datesIn(zone: Zone) {
  return {
    zone,
    dateRange: (params: Readonly<Record<string, string>>, now: number) => dateRange(params, now, zone),
    startOfDay: (ms: number) => startOfDay(ms, zone),
    formatDay: (ms: number) => formatDay(ms, zone),
    bucketStart: (unit: BucketUnit, ms: number) => bucketStart(unit, ms, zone),
    nextBucket: (unit: BucketUnit, start: number) => nextBucket(unit, start, zone),
    bucketKey: (unit: BucketUnit, ms: number) => bucketKey(unit, ms, zone),
    bucketSeries: (unit: BucketUnit, startMs: number, endMs: number) => bucketSeries(unit, startMs, endMs, zone),
    dayBuckets: (days: number, startMs: number, endMs: number) => dayBuckets(days, startMs, endMs, zone),
  };
}

export type ZoneDates = ReturnType<typeof datesIn>;
