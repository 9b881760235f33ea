/**
 * Event validation shared by /import and /track
 * (https://developer.mixpanel.com/reference/import-events#validation,
 * https://developer.mixpanel.com/reference/track-event#limits), and the body
 * formats the ingestion endpoints accept.
 */
import { randomUUID } from 'node:crypto';
import { readIngestionPayload } from './auth.js';
import { EmulatorHttpError } from './errors.js';
import type { EmulatorEvent, EmulatorRequest } from './types.js';

/** Events (or profile updates) per request, for every ingestion endpoint. */
export const MAX_RECORDS_PER_REQUEST = 2000;
/**
 * Uncompressed body limit of /import (the server has already gunzipped the body). The docs say 10 MB; the spec's 413 example quotes 2 MiB.
 * The docs are the more recent and explicit source, so 10 MB applies.
 */
export const MAX_IMPORT_BYTES = 10 * 1024 * 1024;
/** Per event (docs) and per profile update (https://developer.mixpanel.com/reference/user-profile-limits). */
const MAX_RECORD_BYTES = 1024 * 1024;
const MAX_KEYS = 255; // "fewer than 255" properties, object keys and array elements
const MAX_DEPTH = 3;
const MAX_STRING_LENGTH = 255;
const MIN_TIME_SECONDS = Date.UTC(1971, 0, 1) / 1000;
const MAX_FUTURE_MS = 60 * 60 * 1000;
const TRACK_WINDOW_MS = 5 * 24 * 60 * 60 * 1000;
/** Seconds above this are taken for milliseconds (the API accepts both). */
const MILLISECONDS_THRESHOLD = 1e11;
const INSERT_ID_PATTERN = /^[A-Za-z0-9-]{1,36}$/;

/** distinct_id values /import refuses; the same list applies to $insert_id (https://developer.mixpanel.com/reference/import-events). */
const BANNED_IDS = new Set([
  '00000000-0000-0000-0000-000000000000',
  'anon',
  'anonymous',
  'nil',
  'none',
  'null',
  'n/a',
  'na',
  'undefined',
  'unknown',
  '<nil>',
  '0',
  '-1',
  'true',
  'false',
  '[]',
  '{}',
]);

export interface FailedRecord {
  readonly index: number;
  /** The docs' spelling; the spec example on the same page says `insert_id` (https://developer.mixpanel.com/reference/import-events). */
  readonly $insert_id?: string;
  readonly field: string;
  readonly message: string;
}

export type ValidatedEvent = { readonly event: EmulatorEvent; readonly token: unknown } | { readonly failure: FailedRecord };

/**
 * `import` is strict=1 (every documented check); `import-legacy` is /import without strict=1, the form the
 * official clients send, which takes events without `$insert_id` (mixpanel/mixpanel-node: lib/mixpanel-node.js
 * `import_batch` sends none and expects `1`).
 */
export type IngestMode = 'import' | 'import-legacy' | 'track';

/** A JSON object (not null, not an array). */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The records of an ingestion request: the JSON body (a JSON array, NDJSON or a single object,
 * parsed and gunzipped by the server) or a form or query `data` parameter (JSON or base64 JSON).
 * A single object is a batch of one.
 */
export function recordsOf(request: EmulatorRequest): unknown[] {
  const body = readIngestionPayload(request.json, request.params);
  if (body === undefined) throw new EmulatorHttpError(400, 'no data: send a JSON array body or a data parameter');
  return Array.isArray(body) ? body : [body];
}

/** One record failed validation; `field` names the offending field as failed_records does. */
export class RecordError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

function checkNested(value: unknown, path: string, depth: number): void {
  if (Array.isArray(value)) {
    if (value.length >= MAX_KEYS) throw new RecordError(path, `${path} is invalid: arrays must have fewer than ${MAX_KEYS} elements`);
    for (const item of value) checkNested(item, path, depth);
  } else if (isObject(value)) {
    if (depth > MAX_DEPTH) throw new RecordError(path, `${path} is invalid: objects may be nested at most ${MAX_DEPTH} deep`);
    const keys = Object.keys(value);
    if (keys.length >= MAX_KEYS) throw new RecordError(path, `${path} is invalid: objects must have fewer than ${MAX_KEYS} keys`);
    for (const key of keys) checkNested(value[key], `${path}.${key}`, depth + 1);
  }
}

/** Size, property-count, nesting and array limits of one record's property object. */
export function checkRecordLimits(record: unknown, properties: Record<string, unknown>, field = 'properties'): void {
  if (Buffer.byteLength(JSON.stringify(record)) >= MAX_RECORD_BYTES) {
    throw new RecordError(field, `${field} is invalid: the record must be smaller than 1MB of uncompressed JSON`);
  }
  const keys = Object.keys(properties);
  if (keys.length >= MAX_KEYS) throw new RecordError(field, `${field} is invalid: must have fewer than ${MAX_KEYS} properties`);
  for (const key of keys) checkNested(properties[key], `${field}.${key}`, 1);
}

/** Mixpanel truncates every string to 255 characters rather than refusing it. */
export function truncateStrings(value: unknown): unknown {
  if (typeof value === 'string') return value.length > MAX_STRING_LENGTH ? value.slice(0, MAX_STRING_LENGTH) : value;
  if (Array.isArray(value)) return value.map(truncateStrings);
  if (isObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, truncateStrings(v)]));
  return value;
}

function isBanned(id: string): boolean {
  return BANNED_IDS.has(id.trim().toLowerCase());
}

/** Event time in epoch seconds, after the range checks of the endpoint. */
function eventTime(value: unknown, mode: IngestMode, now: number): number {
  if (value === undefined && mode === 'track') return Math.floor(now / 1000);
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new RecordError('properties.time', "'properties.time' is invalid: must be specified as seconds since epoch");
  }
  const ms = value >= MILLISECONDS_THRESHOLD ? value : value * 1000;
  if (ms < MIN_TIME_SECONDS * 1000) throw new RecordError('properties.time', "'properties.time' is invalid: must be after 1971-01-01");
  if (ms > now + MAX_FUTURE_MS) {
    throw new RecordError('properties.time', "'properties.time' is invalid: must not be more than 1 hour in the future");
  }
  if (mode === 'track' && ms < now - TRACK_WINDOW_MS) {
    throw new RecordError('properties.time', "'properties.time' is invalid: /track accepts events from the last 5 days only; use /import");
  }
  // A time in the (near) future is overwritten with the ingestion time (spec: properties.time).
  return Math.floor(Math.min(ms, now) / 1000);
}

function distinctIdOf(value: unknown, mode: IngestMode): string {
  if (value === undefined && mode === 'track') return '';
  if (typeof value === 'number' && Number.isFinite(value)) value = String(value);
  if (typeof value !== 'string') throw new RecordError('properties.distinct_id', "'properties.distinct_id' is invalid: must be a string");
  if (isBanned(value)) throw new RecordError('properties.distinct_id', `'properties.distinct_id' is invalid: "${value}" is not allowed`);
  return value;
}

function insertIdOf(value: unknown, mode: IngestMode): string | undefined {
  // /track does not require $insert_id: SDKs usually send one, otherwise every event is unique.
  if (value === undefined && mode === 'track') return randomUUID().replaceAll('-', '').slice(0, 32);
  // Non-strict /import keeps such an event as it came: it has no $insert_id and is never deduplicated.
  if (value === undefined && mode === 'import-legacy') return undefined;
  if (typeof value !== 'string') throw new RecordError('properties.$insert_id', "'properties.$insert_id' is invalid: must be a string");
  if (!INSERT_ID_PATTERN.test(value) || isBanned(value)) {
    throw new RecordError('properties.$insert_id', "'properties.$insert_id' is invalid: must be at most 36 bytes of alphanumeric characters or '-'");
  }
  return value;
}

/** Validates one event and converts it to the emulator's shape, or reports why it fails. */
export function validateEvent(raw: unknown, index: number, mode: IngestMode, now: number): ValidatedEvent {
  const rawProperties = isObject(raw) && isObject(raw.properties) ? raw.properties : undefined;
  const insertIdHint = typeof rawProperties?.$insert_id === 'string' ? { $insert_id: rawProperties.$insert_id } : {};
  try {
    if (!isObject(raw)) throw new RecordError('event', 'event is invalid: must be a JSON object');
    if (typeof raw.event !== 'string' || raw.event.length === 0) throw new RecordError('event', "'event' is invalid: must be a non-empty string");
    if (!rawProperties) throw new RecordError('properties', "'properties' is invalid: must be a JSON object");
    checkRecordLimits(raw, rawProperties);
    const { time, distinct_id, $insert_id, token, ...rest } = rawProperties;
    return {
      token,
      event: {
        event: raw.event,
        time: eventTime(time, mode, now),
        distinctId: distinctIdOf(distinct_id, mode),
        insertId: insertIdOf($insert_id, mode),
        properties: truncateStrings(rest) as Record<string, unknown>,
      },
    };
  } catch (error) {
    if (error instanceof RecordError) return { failure: { index, ...insertIdHint, field: error.field, message: error.message } };
    throw error;
  }
}
