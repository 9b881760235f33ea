/**
 * Events for /import: each input event checked against Mixpanel's
 * documented rules before anything is sent, and turned into the record
 * Mixpanel stores, with a deterministic `$insert_id` when the caller gave
 * none, so a retry of the same event never counts twice
 * (https://developer.mixpanel.com/reference/import-events, "Common Issues").
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../cache/keys.js';
import type { IngestEvent } from '../mixpanel/types.js';
import {
  INSERT_ID_PATTERN,
  MAX_EVENT_BYTES,
  MAX_EVENT_FUTURE_MS,
  MAX_KEYS,
  MAX_NAME_LENGTH,
  MAX_NESTING_DEPTH,
  MIN_EVENT_TIME_MS,
  isBannedId,
  jsonBytes,
} from './limits.js';

export interface EventInputShape {
  readonly event: string;
  readonly distinctId?: string | number | null | undefined;
  readonly time: Date;
  readonly insertId?: string | null | undefined;
  readonly properties?: unknown;
}

/** Why one event cannot be sent; `field` is its path below the event (`time`, `properties.plan`). */
export interface EventProblem {
  readonly field: string;
  readonly message: string;
}

/** Properties the input carries in their own fields; a property of the same name would fight them. */
const OWN_FIELDS: Readonly<Record<string, string>> = {
  time: 'time',
  distinct_id: 'distinctId',
  $insert_id: 'insertId',
  token: '(none: the gateway authenticates)',
};
/** Events with a meaning of their own to Mixpanel's identity API; `mergeProfiles` sends `$merge`. */
const RESERVED_EVENTS: ReadonlySet<string> = new Set(['$merge', '$identify', '$create_alias']);

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The `$insert_id` of an event without one: a hash of everything that makes it this event (32 hex characters). */
export function deterministicInsertId(event: string, distinctId: string, timeMs: number, properties: Readonly<Record<string, unknown>>): string {
  return createHash('sha256')
    .update(canonicalJson([event, distinctId, timeMs, properties]))
    .digest('hex')
    .slice(0, 32);
}

function nestedProblem(value: unknown, path: string, depth: number): EventProblem | undefined {
  if (Array.isArray(value)) {
    if (value.length >= MAX_KEYS) return { field: path, message: `${path} must have fewer than ${MAX_KEYS} elements` };
    for (const item of value) {
      const problem = nestedProblem(item, path, depth);
      if (problem) return problem;
    }
  } else if (isObject(value)) {
    if (depth > MAX_NESTING_DEPTH) return { field: path, message: `${path} nests objects more than ${MAX_NESTING_DEPTH} deep` };
    const keys = Object.keys(value);
    if (keys.length >= MAX_KEYS) return { field: path, message: `${path} must have fewer than ${MAX_KEYS} keys` };
    for (const key of keys) {
      const problem = nestedProblem(value[key], `${path}.${key}`, depth + 1);
      if (problem) return problem;
    }
  } else if (typeof value === 'number' && !Number.isFinite(value)) {
    return { field: path, message: `${path} must be a finite number` };
  }
  return undefined;
}

/** Checks a property bag (events and profile operations share the rules). */
export function propertiesProblem(properties: Readonly<Record<string, unknown>>, path: string): EventProblem | undefined {
  const keys = Object.keys(properties);
  if (keys.length >= MAX_KEYS) return { field: path, message: `${path} must have fewer than ${MAX_KEYS} properties` };
  for (const key of keys) {
    if (key.trim() === '') return { field: path, message: `${path} has an empty property name` };
    if (key.length > MAX_NAME_LENGTH) return { field: `${path}.${key.slice(0, 40)}…`, message: `property names must be at most ${MAX_NAME_LENGTH} characters` };
    const problem = nestedProblem(properties[key], `${path}.${key}`, 1);
    if (problem) return problem;
  }
  return undefined;
}

/** A distinct id Mixpanel accepts, or why not. */
export function distinctIdProblem(id: string, field: string): EventProblem | undefined {
  if (id.length > MAX_NAME_LENGTH) return { field, message: `${field} must be at most ${MAX_NAME_LENGTH} characters` };
  if (isBannedId(id)) return { field, message: `${field} ${JSON.stringify(id)} is one of the placeholder ids Mixpanel refuses` };
  return undefined;
}

/** The /import record of an event, or the first problem found. `now` bounds the time (Mixpanel's clock, ±1 h). */
export function prepareEvent(
  input: EventInputShape,
  now: number,
): { readonly record: IngestEvent; readonly insertId: string } | { readonly problem: EventProblem; readonly insertId?: string } {
  const hint = typeof input.insertId === 'string' ? { insertId: input.insertId } : {};
  const fail = (field: string, message: string) => ({ problem: { field, message }, ...hint });
  const name = input.event;
  if (name.trim() === '') return fail('event', 'event must not be empty');
  if (name.length > MAX_NAME_LENGTH) return fail('event', `event must be at most ${MAX_NAME_LENGTH} characters (Mixpanel would truncate it)`);
  if (RESERVED_EVENTS.has(name)) return fail('event', `${name} is an identity event; use mergeProfiles to merge profiles`);

  const distinctId = input.distinctId === null || input.distinctId === undefined ? '' : String(input.distinctId);
  const idProblem = distinctIdProblem(distinctId, 'distinctId');
  if (idProblem) return { problem: idProblem, ...hint };

  const timeMs = input.time.getTime();
  if (!Number.isFinite(timeMs)) return fail('time', 'time is not a valid instant');
  if (timeMs < MIN_EVENT_TIME_MS) return fail('time', 'time must not be before 1971-01-01 (Mixpanel refuses older events)');
  if (timeMs > now + MAX_EVENT_FUTURE_MS) return fail('time', 'time must not be more than 1 hour in the future (Mixpanel refuses such events)');

  const raw = input.properties ?? {};
  if (!isObject(raw)) return fail('properties', 'properties must be a JSON object');
  for (const [property, field] of Object.entries(OWN_FIELDS)) {
    if (property in raw) return fail(`properties.${property}`, `properties.${property} is set by the event's own field ${field}; leave it out of properties`);
  }
  const problem = propertiesProblem(raw, 'properties');
  if (problem) return { problem, ...hint };

  let insertId = input.insertId ?? undefined;
  if (insertId !== undefined && (!INSERT_ID_PATTERN.test(insertId) || isBannedId(insertId))) {
    return fail('insertId', 'insertId must be 1 to 36 characters of letters, digits or "-", and not a placeholder id');
  }
  insertId ??= deterministicInsertId(name, distinctId, timeMs, raw);
  // ip=0: Mixpanel must not geolocate the gateway's own address onto the event; a caller's `ip` is kept.
  const record: IngestEvent = { event: name, properties: { ip: 0, ...raw, time: timeMs, distinct_id: distinctId, $insert_id: insertId } };
  // `$source` is added by the client.
  if (Object.keys(record.properties).length + 1 >= MAX_KEYS) {
    return fail('properties', `with time, distinct_id, $insert_id, ip and $source the event must have fewer than ${MAX_KEYS} properties`);
  }
  if (jsonBytes(record) >= MAX_EVENT_BYTES - 1024) return fail('properties', 'the event must be smaller than 1 MB of JSON');
  return { record, insertId };
}
