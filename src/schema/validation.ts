/**
 * Argument checks that run before any upstream call: a request Mixpanel
 * would refuse should cost no budget. Every failure is an
 * InvalidArgumentError naming the argument.
 */
import { InvalidArgumentError } from '../core/errors.js';

const DAY_MS = 86_400_000;
const DAY_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/;

/** The day as `yyyy-mm-dd` when it is a real calendar day, else undefined. */
export function parseDay(value: string): string | undefined {
  const match = DAY_PATTERN.exec(value);
  if (!match) return undefined;
  const [, year, month, day] = match.map(Number) as [number, number, number, number];
  const time = Date.UTC(year, month - 1, day);
  return new Date(time).toISOString().slice(0, 10) === value ? value : undefined;
}

/** Epoch ms of 00:00 UTC of a `yyyy-mm-dd` day. */
export function dayStart(day: string): number {
  return Date.parse(`${day}T00:00:00Z`);
}

const dayFormats = new Map<string, Intl.DateTimeFormat>();

/**
 * Today in `timeZone` (an IANA name; default UTC) as `yyyy-mm-dd`. Mixpanel's
 * Query API reads dates in the project's timezone, its export in UTC (for
 * projects created after 2023-01-01).
 */
export function today(now: number = Date.now(), timeZone = 'UTC'): string {
  if (timeZone === 'UTC') return new Date(now).toISOString().slice(0, 10);
  let format = dayFormats.get(timeZone);
  // en-CA formats dates as yyyy-mm-dd.
  if (!format) {
    format = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    dayFormats.set(timeZone, format);
  }
  return format.format(now);
}

/** `day` shifted by `days`, as `yyyy-mm-dd`. */
export function addDays(day: string, days: number): string {
  return new Date(dayStart(day) + days * DAY_MS).toISOString().slice(0, 10);
}

export interface DateRange {
  readonly from: string;
  readonly to: string;
}

export interface DateRangeRules {
  /** Longest allowed range, in days, both ends included. */
  readonly maxDays: number;
  /** How far back `from` may reach, in days before today (Mixpanel's stream refuses more than 365). */
  readonly maxDaysBack?: number;
  readonly now?: number;
  /** The timezone the days are in (IANA name). Default UTC. */
  readonly timeZone?: string;
}

/**
 * Checks an inclusive `from`..`to` range. Mixpanel refuses a `to_date` later
 * than today in the timezone it reads the dates in (the project's for the
 * Query API), answering "to_date cannot be later than today".
 */
export function checkDateRange(range: DateRange, rules: DateRangeRules): DateRange {
  const { from, to } = range;
  const now = rules.now ?? Date.now();
  const timeZone = rules.timeZone ?? 'UTC';
  if (from > to) throw new InvalidArgumentError(`from (${from}) must not be after to (${to})`, 'from');
  const latest = today(now, timeZone);
  if (to > latest) throw new InvalidArgumentError(`to (${to}) must not be later than today (${latest}, ${timeZone})`, 'to');
  const days = (dayStart(to) - dayStart(from)) / DAY_MS + 1;
  if (days > rules.maxDays) {
    throw new InvalidArgumentError(`The range ${from}..${to} spans ${days} days; at most ${rules.maxDays} are allowed`, 'from');
  }
  if (rules.maxDaysBack !== undefined && from < addDays(latest, -rules.maxDaysBack)) {
    throw new InvalidArgumentError(`from (${from}) must be within the last ${rules.maxDaysBack} days`, 'from');
  }
  return range;
}

/** `first` of a connection: defaults when absent, 1..max otherwise. */
export function checkFirst(first: number | null | undefined, defaults: { readonly default: number; readonly max: number }): number {
  if (first === null || first === undefined) return defaults.default;
  if (!Number.isInteger(first) || first < 1 || first > defaults.max) {
    throw new InvalidArgumentError(`first must be between 1 and ${defaults.max}, got ${first}`, 'first');
  }
  return first;
}

/** An optional `limit`: 1..max when present. */
export function checkLimit(limit: number | null | undefined, max: number, argument = 'limit'): number | undefined {
  if (limit === null || limit === undefined) return undefined;
  if (!Number.isInteger(limit) || limit < 1 || limit > max) {
    throw new InvalidArgumentError(`${argument} must be between 1 and ${max}, got ${limit}`, argument);
  }
  return limit;
}

/**
 * Longest event, property or profile name accepted: Mixpanel truncates every ingested string
 * to 255 characters (https://docs.mixpanel.com/docs/data-structure/property-reference/data-type),
 * so a longer name can match nothing and is refused before any call.
 */
export const MAX_NAME_LENGTH = 255;

/**
 * Longest string anywhere in an operation's arguments or variables (see `findOversizedString`):
 * above every per-argument cap (expressions 4,000, annotation descriptions 2,000 characters).
 */
export const MAX_ARGUMENT_STRING_LENGTH = 8_192;

/** Longest list anywhere in an operation's arguments or variables; per-argument caps are lower. */
export const MAX_ARGUMENT_LIST_LENGTH = 10_000;

/** Deepest nesting of input objects and lists. */
export const MAX_ARGUMENT_DEPTH = 16;

/** A name that must contain something other than whitespace, of at most `maxLength` characters (default MAX_NAME_LENGTH). */
export function checkName(value: string, argument: string, maxLength: number = MAX_NAME_LENGTH): string {
  if (value.trim() === '') throw new InvalidArgumentError(`${argument} must not be empty`, argument);
  if (value.length > maxLength) throw new InvalidArgumentError(`${argument} must be at most ${maxLength} characters, got ${value.length}`, argument);
  return value;
}

/**
 * The first place in an argument or variable value (JSON-like) holding a string longer than
 * MAX_ARGUMENT_STRING_LENGTH, a list longer than MAX_ARGUMENT_LIST_LENGTH or nesting deeper than
 * MAX_ARGUMENT_DEPTH, described for an error message; undefined when the value is within bounds.
 * Iterative, so a hostile nesting cannot exhaust the stack.
 */
export function findOversizedValue(value: unknown, at: string): string | undefined {
  const pending: { value: unknown; at: string; depth: number }[] = [{ value, at, depth: 0 }];
  while (pending.length > 0) {
    const item = pending.pop()!;
    if (typeof item.value === 'string') {
      if (item.value.length > MAX_ARGUMENT_STRING_LENGTH) return `${item.at} is longer than ${MAX_ARGUMENT_STRING_LENGTH} characters`;
      continue;
    }
    if (typeof item.value !== 'object' || item.value === null) continue;
    if (item.depth >= MAX_ARGUMENT_DEPTH) return `${item.at} is nested deeper than ${MAX_ARGUMENT_DEPTH} levels`;
    if (Array.isArray(item.value)) {
      if (item.value.length > MAX_ARGUMENT_LIST_LENGTH) return `${item.at} has more than ${MAX_ARGUMENT_LIST_LENGTH} items`;
      item.value.forEach((child, index) => {
        pending.push({ value: child, at: `${item.at}[${index}]`, depth: item.depth + 1 });
      });
    } else {
      const entries = Object.entries(item.value);
      if (entries.length > MAX_ARGUMENT_LIST_LENGTH) return `${item.at} has more than ${MAX_ARGUMENT_LIST_LENGTH} fields`;
      for (const [key, child] of entries) {
        if (key.length > MAX_NAME_LENGTH) return `${item.at} has a field name longer than ${MAX_NAME_LENGTH} characters`;
        pending.push({ value: child, at: `${item.at}.${key}`, depth: item.depth + 1 });
      }
    }
  }
  return undefined;
}

/** An optional list of names: when given, non-empty and without empty names; duplicates dropped. */
export function checkNames(values: readonly string[] | null | undefined, argument: string, max: number): string[] | undefined {
  if (values === null || values === undefined) return undefined;
  if (values.length === 0) throw new InvalidArgumentError(`${argument} must not be an empty list; leave it out to mean all`, argument);
  for (const value of values) checkName(value, argument);
  const unique = [...new Set(values)];
  if (unique.length > max) throw new InvalidArgumentError(`${argument} takes at most ${max} names, got ${unique.length}`, argument);
  return unique;
}

/** Mixpanel ids of cohorts, funnels, bookmarks and annotations are positive integers. */
export function checkNumericId(value: string | number, argument: string): number {
  const id = typeof value === 'number' ? value : /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(id) || id <= 0) throw new InvalidArgumentError(`${argument} must be a positive integer id, got ${JSON.stringify(value)}`, argument);
  return id;
}

/** An optional list of ids (see checkNumericId) in canonical form (`"007"` → `"7"`), duplicates dropped. */
export function checkNumericIds(values: readonly (string | number)[] | null | undefined, argument: string, max: number): string[] | undefined {
  const ids = checkNames(values?.map(String), argument, max);
  return ids && [...new Set(ids.map((id) => String(checkNumericId(id, argument))))];
}

/** An optional expression (`where`, `on`): trimmed, and absent when blank. */
export function checkExpression(value: string | null | undefined, argument: string, maxLength = 4_000): string | undefined {
  if (value === null || value === undefined) return undefined;
  const trimmed = value.trim();
  if (trimmed === '') throw new InvalidArgumentError(`${argument} must not be blank; leave it out instead`, argument);
  if (trimmed.length > maxLength) throw new InvalidArgumentError(`${argument} must be at most ${maxLength} characters`, argument);
  return trimmed;
}

/**
 * Opaque cursors: base64url JSON tagged with the connection they belong
 * to, so a cursor from one connection is refused by another.
 */
export function encodeCursor(tag: string, position: object): string {
  return Buffer.from(JSON.stringify({ t: tag, ...position }), 'utf8').toString('base64url');
}

export function decodeCursor<T>(
  tag: string,
  cursor: string | null | undefined,
  isPosition: (value: Record<string, unknown>) => value is Record<string, unknown> & T,
): T | undefined {
  if (cursor === null || cursor === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    value = undefined;
  }
  if (typeof value !== 'object' || value === null || (value as { t?: unknown }).t !== tag || !isPosition(value as Record<string, unknown>)) {
    throw new InvalidArgumentError('after is not a cursor of this connection (cursors are opaque: pass back an endCursor unchanged)', 'after');
  }
  return value as T;
}
