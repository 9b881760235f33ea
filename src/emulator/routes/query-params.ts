/**
 * The Query API's parameters as the emulator reads them, and the helpers every report shares.
 */
import type { CountType } from '../../mixpanel/types.js';
import type { BucketUnit, ZoneDates } from '../dates.js';
import { EmulatorHttpError } from '../errors.js';

export type Params = Readonly<Record<string, string>>;

// Mixpanel's wording for missing or malformed parameters is undocumented; these messages are chosen.

export function optional(params: Params, name: string): string | undefined {
  const value = params[name];
  return value === undefined || value === '' ? undefined : value;
}

export function required(params: Params, name: string): string {
  const value = optional(params, name);
  if (value === undefined) throw new EmulatorHttpError(400, `${name} is a required parameter`);
  return value;
}

export function integer(params: Params, name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const raw = optional(params, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new EmulatorHttpError(400, `${name} must be an integer between ${min} and ${max}`);
  }
  return value;
}

export function oneOf<T extends string>(params: Params, name: string, allowed: readonly T[], fallback?: T): T {
  const raw = optional(params, name);
  if (raw === undefined) {
    if (fallback === undefined) throw new EmulatorHttpError(400, `${name} is a required parameter`);
    return fallback;
  }
  if (!(allowed as readonly string[]).includes(raw)) throw new EmulatorHttpError(400, `${name} must be one of: ${allowed.join(', ')}`);
  return raw as T;
}

export function jsonArray(params: Params, name: string, isRequired: boolean): string[] | undefined {
  const raw = optional(params, name);
  if (raw === undefined) {
    if (isRequired) throw new EmulatorHttpError(400, `${name} is a required parameter`);
    return undefined;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new EmulatorHttpError(400, `${name} must be a JSON-encoded array of strings`);
  }
  if (!Array.isArray(parsed) || !parsed.every((v) => typeof v === 'string' || typeof v === 'number')) {
    throw new EmulatorHttpError(400, `${name} must be a JSON-encoded array of strings`);
  }
  return parsed.map(String);
}

export function boolean(params: Params, name: string, fallback: boolean): boolean {
  const raw = optional(params, name);
  if (raw === undefined) return fallback;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new EmulatorHttpError(400, `${name} must be true or false`);
}

export const UNITS: readonly BucketUnit[] = ['minute', 'hour', 'day', 'week', 'month'];
export const TYPES: readonly CountType[] = ['general', 'unique', 'average'];

/** from_date/to_date, or else `interval` units ending with the current one (as /events allows). */
export function queryRange(params: Params, now: number, unit: BucketUnit, z: ZoneDates): { startMs: number; endMs: number } {
  if (optional(params, 'from_date') === undefined && optional(params, 'to_date') === undefined && optional(params, 'interval') !== undefined) {
    const count = integer(params, 'interval', 1, 1, 10_000);
    let startMs = z.bucketStart(unit, now);
    const endMs = z.nextBucket(unit, startMs);
    for (let k = 1; k < count; k++) startMs = z.bucketStart(unit, startMs - 1);
    return { startMs, endMs };
  }
  return z.dateRange(params, now);
}

/** Fisher-Yates, in place. */
export function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}

export const computedAt = (now: number): string => new Date(now).toISOString().replace('Z', '+00:00');
