/**
 * Ingestion API (https://developer.mixpanel.com/reference/ingestion-api): /track,
 * /import, /engage and /groups write into the project's data, so the Query
 * and Export routes see what was written.
 */
import { EmulatorHttpError } from '../errors.js';
import {
  MAX_IMPORT_BYTES,
  MAX_RECORDS_PER_REQUEST,
  RecordError,
  checkRecordLimits,
  isObject,
  recordsOf,
  truncateStrings,
  validateEvent,
  type FailedRecord,
} from '../ingest-validation.js';
import type { EmulatorEvent, EmulatorProfile, EmulatorProjectData, EmulatorRequest, EmulatorResponse, EmulatorRoute } from '../types.js';

type ProfileOperation = '$set' | '$set_once' | '$add' | '$union' | '$append' | '$remove' | '$unset' | '$delete';
const PROFILE_OPERATIONS: readonly ProfileOperation[] = ['$set', '$set_once', '$add', '$union', '$append', '$remove', '$unset', '$delete'];
const GROUP_OPERATIONS: readonly ProfileOperation[] = ['$set', '$set_once', '$unset', '$remove', '$union', '$delete'];
/** Operations that create the profile when it does not exist yet. */
const CREATING_OPERATIONS: ReadonlySet<ProfileOperation> = new Set(['$set', '$set_once', '$add', '$union', '$append']);

/** Adds an event in time order; an event equal on (event, time, distinct_id, $insert_id) replaces the earlier one. */
function insertEvent(events: EmulatorEvent[], event: EmulatorEvent): void {
  const deduplicated = event.insertId !== undefined;
  let low = 0;
  let high = events.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((events[middle] as EmulatorEvent).time <= event.time) low = middle + 1;
    else high = middle;
  }
  for (let i = low - 1; deduplicated && i >= 0 && (events[i] as EmulatorEvent).time === event.time; i -= 1) {
    const other = events[i] as EmulatorEvent;
    if (other.insertId === event.insertId && other.event === event.event && other.distinctId === event.distinctId) {
      // The spec: "only the latest ingested one will be considered in queries".
      events[i] = event;
      return;
    }
  }
  events.splice(low, 0, event);
}

function ingest(project: EmulatorProjectData, event: EmulatorEvent, now: number): void {
  insertEvent(project.events, { ...event, properties: { ...event.properties, mp_processing_time_ms: now } });
}

/**
 * The `1`/`0` answer of /track, /engage and /groups. `1` means at least one record was valid, as the
 * ingestion spec says; the identity spec says "all valid" instead, but the ingestion spec describes
 * these endpoints themselves, so it wins.
 */
function received(request: EmulatorRequest, valid: number, errors: readonly string[]): EmulatorResponse {
  const status = valid > 0 ? 1 : 0;
  const verbose = request.params.verbose === '1' ? { error: status === 1 ? null : (errors[0] ?? 'no valid data'), status } : undefined;
  const callback = request.params.callback;
  if (callback !== undefined && /^[A-Za-z_$][\w$.]*$/.test(callback)) {
    const argument = verbose ? JSON.stringify(verbose) : String(status);
    return { status: 200, text: `${callback}(${argument})`, headers: { 'content-type': 'text/javascript' } };
  }
  return verbose ? { status: 200, json: verbose } : { status: 200, text: String(status), headers: { 'content-type': 'text/plain' } };
}

function batchOf(request: EmulatorRequest): unknown[] {
  const records = recordsOf(request);
  if (records.length === 0) throw new EmulatorHttpError(400, 'request contains no records');
  if (records.length > MAX_RECORDS_PER_REQUEST) {
    throw new EmulatorHttpError(400, `request exceeds max limit of ${MAX_RECORDS_PER_REQUEST} records`);
  }
  return records;
}

function handleTrack(request: EmulatorRequest): EmulatorResponse {
  const errors: string[] = [];
  let valid = 0;
  batchOf(request).forEach((raw, index) => {
    const result = validateEvent(raw, index, 'track', request.now);
    if ('failure' in result) {
      errors.push(result.failure.message);
      return;
    }
    valid += 1;
    // /track does not validate the token (https://github.com/mixpanel/mixpanel-node/issues/59): a foreign token still counts as valid data,
    // but the event lands in that token's project, not this one.
    if (result.token === request.project.token) ingest(request.project, result.event, request.now);
  });
  return received(request, valid, errors);
}

/** Identity merges go through /import (identity spec) and carry no time or $insert_id. */
function validateMerge(raw: Record<string, unknown>, index: number): FailedRecord | undefined {
  const ids = isObject(raw.properties) ? raw.properties.$distinct_ids : undefined;
  if (Array.isArray(ids) && ids.length === 2 && ids.every((id) => typeof id === 'string' && id.length > 0)) return undefined;
  return { index, field: 'properties.$distinct_ids', message: "'properties.$distinct_ids' is invalid: must list exactly two distinct_ids" };
}

/**
 * /import. With strict=1 every record is validated and the answer is JSON (`num_records_imported`, or a 400 listing
 * `failed_records`). Without it, the legacy answer of the official clients: `1`/`0`, or `{"status","error"}` with
 * verbose=1, and events without `$insert_id` are taken (mixpanel/mixpanel-node: lib/mixpanel-node.js `send_request`
 * treats any body but `1` as an error and never sends strict). The spec marks strict required with default 1, but
 * the clients Mixpanel ships rely on its absence meaning non-strict.
 */
function handleImport(request: EmulatorRequest): EmulatorResponse {
  if (request.rawBody.length > MAX_IMPORT_BYTES) {
    throw new EmulatorHttpError(413, `request exceeds max limit of ${MAX_IMPORT_BYTES} bytes`);
  }
  const strict = request.params.strict === '1';
  const records = batchOf(request);
  const failed: FailedRecord[] = [];
  let imported = 0;
  records.forEach((raw, index) => {
    if (isObject(raw) && raw.event === '$merge') {
      const failure = validateMerge(raw, index);
      if (failure) failed.push(failure);
      else imported += 1; // The emulator keeps no identity graph: a valid merge is only counted.
      return;
    }
    const result = validateEvent(raw, index, strict ? 'import' : 'import-legacy', request.now);
    if ('failure' in result) {
      failed.push(result.failure);
      return;
    }
    ingest(request.project, result.event, request.now);
    imported += 1;
  });
  // Without strict=1 the docs promise no per-event report: invalid events are dropped silently.
  if (!strict)
    return received(
      request,
      imported,
      failed.map((f) => f.message),
    );
  if (failed.length === 0) return { status: 200, json: { code: 200, num_records_imported: imported, status: 'OK' } };
  return strictValidationFailure(failed, imported);
}

/** /import's 400 body for a strict request with invalid records (the valid ones were still ingested). */
function strictValidationFailure(failed: readonly FailedRecord[], imported: number): EmulatorResponse {
  return {
    status: 400,
    json: {
      code: 400,
      error: 'some data points in the request failed validation',
      failed_records: failed,
      num_records_imported: imported,
      status: 'Bad Request',
    },
  };
}

function sameValue(a: unknown, b: unknown): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}

/** Applies one operation to a profile's properties (mutated in place). */
function applyOperation(properties: Record<string, unknown>, operation: Exclude<ProfileOperation, '$delete'>, value: unknown): void {
  if (operation === '$unset') {
    if (!Array.isArray(value) || !value.every((name) => typeof name === 'string')) {
      throw new RecordError(operation, '$unset must be a JSON array of property names');
    }
    for (const name of value as string[]) delete properties[name];
    return;
  }
  const operand = operationOperand(operation, value);
  for (const [name, argument] of Object.entries(operand)) {
    const current = properties[name];
    switch (operation) {
      case '$set':
        properties[name] = argument;
        break;
      case '$set_once':
        if (!(name in properties)) properties[name] = argument;
        break;
      case '$add':
        properties[name] = (typeof current === 'number' ? current : 0) + (argument as number);
        break;
      case '$union': {
        const list = Array.isArray(current) ? [...(current as unknown[])] : [];
        for (const item of argument as unknown[]) if (!list.some((existing) => sameValue(existing, item))) list.push(item);
        properties[name] = list;
        break;
      }
      case '$append':
        properties[name] = [...(Array.isArray(current) ? (current as unknown[]) : []), argument];
        break;
      case '$remove':
        if (Array.isArray(current)) properties[name] = (current as unknown[]).filter((existing) => !sameValue(existing, argument));
        break;
    }
  }
}

function operationOperand(operation: ProfileOperation, value: unknown): Record<string, unknown> {
  if (!isObject(value)) throw new RecordError(operation, `${operation} must be a JSON object`);
  for (const [name, argument] of Object.entries(value)) {
    if (operation === '$add' && (typeof argument !== 'number' || !Number.isFinite(argument))) {
      throw new RecordError(`${operation}.${name}`, `${operation}.${name} must be a number`);
    }
    if (operation === '$union' && !Array.isArray(argument)) throw new RecordError(`${operation}.${name}`, `${operation}.${name} must be a JSON array`);
  }
  return truncateStrings(value) as Record<string, unknown>;
}

interface ProfileTarget {
  readonly id: string;
  readonly operations: readonly ProfileOperation[];
  /** Stamp `$last_seen` (user profiles only, unless `$ignore_time`). */
  readonly lastSeen: string | undefined;
  get(): EmulatorProfile | undefined;
  /** Stores the profile, or deletes it when undefined. */
  put(profile: EmulatorProfile | undefined): void;
}

/**
 * Computes every operation of one update, all or nothing, and stores the result when `commit`
 * (updates carrying another project's token are validated but not applied).
 */
function applyUpdate(update: Record<string, unknown>, target: ProfileTarget, commit: boolean): void {
  const operations = target.operations.filter((operation) => operation in update);
  if (operations.length === 0) throw new RecordError('operation', `update has no operation; expected one of ${target.operations.join(', ')}`);
  checkRecordLimits(update, update, 'update');
  const existing = target.get();
  let properties: Record<string, unknown> = { ...existing?.properties };
  let exists = existing !== undefined;
  for (const operation of operations) {
    if (operation === '$delete') {
      exists = false;
      properties = {};
      continue;
    }
    applyOperation(properties, operation, update[operation]);
    if (CREATING_OPERATIONS.has(operation)) exists = true;
  }
  if (!commit) return;
  if (exists && target.lastSeen !== undefined) properties.$last_seen = target.lastSeen;
  target.put(exists ? { distinctId: target.id, properties } : undefined);
}

function idOf(value: unknown, field: string): string {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value !== 'string' || value.length === 0) throw new RecordError(field, `${field} is required`);
  return value;
}

/** Shared driver of /engage and /groups: validates each update, applies those for this project. */
function handleProfileUpdates(request: EmulatorRequest, targetOf: (update: Record<string, unknown>) => ProfileTarget): EmulatorResponse {
  const errors: string[] = [];
  const failed: FailedRecord[] = [];
  let valid = 0;
  batchOf(request).forEach((update, index) => {
    try {
      if (!isObject(update)) throw new RecordError('update', 'update must be a JSON object');
      if (typeof update.$token !== 'string' || update.$token.length === 0) throw new RecordError('$token', '$token is required');
      // As on /track, a foreign token is not an error here: the update belongs to another project.
      applyUpdate(update, targetOf(update), update.$token === request.project.token);
      valid += 1;
    } catch (error) {
      if (!(error instanceof RecordError)) throw error;
      errors.push(error.message);
      failed.push({ index, field: error.field, message: error.message });
    }
  });
  // strict=1 reports per-record errors; the spec does not give the body, so /import's shape is used.
  if (request.params.strict === '1' && failed.length > 0) return strictValidationFailure(failed, valid);
  return received(request, valid, errors);
}

const profileTime = (ms: number): string => new Date(ms).toISOString().slice(0, 19);

function handleEngage(request: EmulatorRequest): EmulatorResponse {
  const { profiles } = request.project;
  return handleProfileUpdates(request, (update) => {
    const id = idOf(update.$distinct_id, '$distinct_id');
    return {
      id,
      operations: PROFILE_OPERATIONS,
      lastSeen: update.$ignore_time === true ? undefined : profileTime(request.now),
      get: () => profiles.get(id),
      put: (profile) => (profile ? profiles.set(id, profile) : profiles.delete(id)),
    };
  });
}

function handleGroups(request: EmulatorRequest): EmulatorResponse {
  const { groups } = request.project;
  return handleProfileUpdates(request, (update) => {
    const groupKey = idOf(update.$group_key, '$group_key');
    const id = idOf(update.$group_id, '$group_id');
    return {
      id,
      operations: GROUP_OPERATIONS,
      lastSeen: undefined,
      get: () => groups.get(groupKey)?.get(id),
      put(profile) {
        const store = groups.get(groupKey) ?? new Map<string, EmulatorProfile>();
        if (profile) store.set(id, profile);
        else store.delete(id);
        groups.set(groupKey, store);
      },
    };
  });
}

const route = (method: EmulatorRoute['method'], pattern: string, auth: EmulatorRoute['auth'], handle: EmulatorRoute['handle']): EmulatorRoute => ({
  method,
  pattern,
  host: 'ingestion',
  family: 'ingestion',
  auth,
  handle,
});

export const ingestionRoutes: readonly EmulatorRoute[] = [
  // GET carries the legacy `data=` query parameter, which /track, /engage and /groups still accept.
  route('GET|POST', '/track', 'token', handleTrack),
  // GET with `data=` is the legacy form the official Node client's `import()` sends (mixpanel/mixpanel-node:
  // lib/mixpanel-node.js `send_event_request`, method "GET").
  route('GET|POST', '/import', 'import', handleImport),
  route('GET|POST', '/engage', 'token', handleEngage),
  route('GET|POST', '/groups', 'token', handleGroups),
];
