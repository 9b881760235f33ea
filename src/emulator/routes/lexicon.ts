/**
 * Lexicon Schemas API (https://developer.mixpanel.com/reference/lexicon-schemas-api; mixpanel/docs: openapi/lexicon-schemas.openapi.yaml):
 * list, get, upload (with Mixpanel's metadata merge) and delete schemas of
 * one project. Auth and the 5/min limit are the server's job.
 */
import type { LexiconEntityType, LexiconSchema } from '../../mixpanel/types.js';
import { EmulatorHttpError } from '../errors.js';
import { isObject } from '../ingest-validation.js';
import type { EmulatorProjectData, EmulatorRequest, EmulatorResponse, EmulatorRoute, LexiconEntryState } from '../types.js';

const BASE = '/api/app/projects/:projectId/schemas';
const ENTITY_TYPES: readonly string[] = ['event', 'profile'] satisfies LexiconEntityType[];
const PROPERTY_TYPES: readonly string[] = ['array', 'boolean', 'integer', 'null', 'number', 'object', 'string'];
const ENTRY_KEYS: readonly string[] = ['entityType', 'name', 'schemaJson'];
const ENTITY_METADATA_KEYS: readonly string[] = ['$source', 'displayName', 'tags', 'hidden', 'dropped', 'contacts', 'teamContacts'];
const PROPERTY_METADATA_KEYS: readonly string[] = ['displayName', 'hidden', 'dropped'];

type JsonObject = Record<string, unknown>;

const invalid = (message: string) => new EmulatorHttpError(400, message);

/** https://developer.mixpanel.com/reference/rate-limits: "under 4000 events and properties updated in each minute". */
export const LEXICON_UPDATES_PER_MINUTE = 4000;
/** https://developer.mixpanel.com/reference/rate-limits: "less than 3000 total truncations/deletions per request". */
export const LEXICON_DELETIONS_PER_REQUEST = 3000;
const MINUTE_MS = 60_000;

/** Entries and properties written per project in the rolling minute (emulated time). */
const recentUpdates = new WeakMap<EmulatorProjectData, { at: number; count: number }[]>();

/**
 * The docs list these with the other rate limits and say a 429 means a rate limit was reached;
 * the wording is undocumented. A refused request writes nothing and is not counted.
 */
function rateLimited(message: string): EmulatorHttpError {
  return new EmulatorHttpError(429, message);
}

function checkDeletions(count: number): void {
  if (count >= LEXICON_DELETIONS_PER_REQUEST) {
    throw rateLimited(`Rate limit exceeded: ${count} truncations/deletions in one request; the limit is under ${LEXICON_DELETIONS_PER_REQUEST}.`);
  }
}

/** Each entry counts once, plus once per property its schema describes. */
function recordUpdates(request: EmulatorRequest, entries: readonly LexiconEntryState[]): void {
  const count = entries.reduce((sum, e) => sum + 1 + (isObject(e.schemaJson.properties) ? Object.keys(e.schemaJson.properties).length : 0), 0);
  const window = (recentUpdates.get(request.project) ?? []).filter((u) => u.at > request.now - MINUTE_MS);
  const total = window.reduce((sum, u) => sum + u.count, 0) + count;
  if (total >= LEXICON_UPDATES_PER_MINUTE) {
    recentUpdates.set(request.project, window);
    throw rateLimited(`Rate limit exceeded: ${total} events and properties updated in the last minute; the limit is under ${LEXICON_UPDATES_PER_MINUTE}.`);
  }
  window.push({ at: request.now, count });
  recentUpdates.set(request.project, window);
}

const key = (entityType: string, name: string) => `${entityType}:${name}`;

function entityTypeOf(request: EmulatorRequest): LexiconEntityType {
  const entityType = request.pathParams.entityType ?? '';
  if (!ENTITY_TYPES.includes(entityType)) throw invalid(`invalid entityType "${entityType}": must be one of ${ENTITY_TYPES.join(', ')}`);
  return entityType as LexiconEntityType;
}

function checkMetadata(metadata: unknown, allowed: readonly string[], path: string): void {
  if (metadata === undefined) return;
  if (!isObject(metadata)) throw invalid(`${path} must be an object`);
  const mixpanel = metadata['com.mixpanel'];
  if (mixpanel === undefined) return;
  if (!isObject(mixpanel)) throw invalid(`${path}.com.mixpanel must be an object`);
  for (const name of Object.keys(mixpanel)) {
    if (!allowed.includes(name)) throw invalid(`${path}.com.mixpanel: additional property "${name}" is not allowed`);
  }
}

/**
 * Validates a Schema against the spec. Property schemas are not closed: the spec marks them
 * additionalProperties:false, yet the docs' own example carries "examples", so only `type` is checked.
 */
function validateSchema(schema: unknown, path: string): LexiconSchema {
  if (!isObject(schema)) throw invalid(`${path} must be an object`);
  if (schema.description !== undefined && typeof schema.description !== 'string') {
    throw invalid(`${path}.description must be a string`);
  }
  const properties = schema.properties;
  if (properties !== undefined) {
    if (!isObject(properties)) throw invalid(`${path}.properties must be an object`);
    for (const [name, property] of Object.entries(properties)) {
      const at = `${path}.properties.${name}`;
      if (!isObject(property)) throw invalid(`${at} must be an object`);
      const types = Array.isArray(property.type) ? property.type : [property.type];
      if (property.type === undefined || !types.every((t) => typeof t === 'string' && PROPERTY_TYPES.includes(t))) {
        throw invalid(`${at}.type is required and must be one of ${PROPERTY_TYPES.join(', ')}`);
      }
      checkMetadata(property.metadata, PROPERTY_METADATA_KEYS, `${at}.metadata`);
    }
  }
  checkMetadata(schema.metadata, ENTITY_METADATA_KEYS, `${path}.metadata`);
  return schema as LexiconSchema;
}

function validateEntry(entry: unknown, index: number): LexiconEntryState {
  const path = `entries[${index}]`;
  if (!isObject(entry)) throw invalid(`${path} must be an object`);
  for (const name of Object.keys(entry)) {
    if (!ENTRY_KEYS.includes(name)) throw invalid(`${path}: additional property "${name}" is not allowed`);
  }
  for (const name of ENTRY_KEYS) {
    if (entry[name] === undefined) throw invalid(`${path}.${name} is required`);
  }
  if (typeof entry.entityType !== 'string' || !ENTITY_TYPES.includes(entry.entityType)) {
    throw invalid(`${path}.entityType must be one of ${ENTITY_TYPES.join(', ')}`);
  }
  if (typeof entry.name !== 'string' || entry.name.length === 0) throw invalid(`${path}.name must be a non-empty string`);
  return {
    entityType: entry.entityType as LexiconEntityType,
    name: entry.name,
    schemaJson: validateSchema(entry.schemaJson, `${path}.schemaJson`),
  };
}

/**
 * Keys of `com.mixpanel` metadata that the new schema omits keep their old value; a `null` removes
 * the key (docs: "Metadata merging behavior" on upload-schemas-for-project).
 */
function mergeMetadata(previous: unknown, next: unknown): JsonObject | undefined {
  const before = isObject(previous) && isObject(previous['com.mixpanel']) ? previous['com.mixpanel'] : {};
  const after = isObject(next) && isObject(next['com.mixpanel']) ? next['com.mixpanel'] : {};
  const merged: JsonObject = { ...before, ...after };
  for (const [name, value] of Object.entries(merged)) if (value === null) delete merged[name];
  const rest = isObject(next) ? next : {};
  if (Object.keys(merged).length === 0) {
    const { 'com.mixpanel': _dropped, ...others } = rest;
    return Object.keys(others).length > 0 ? others : undefined;
  }
  return { ...rest, 'com.mixpanel': merged };
}

function withMetadata<T extends JsonObject>(target: T, metadata: JsonObject | undefined): T {
  const { metadata: _replaced, ...rest } = target;
  return (metadata === undefined ? rest : { ...rest, metadata }) as T;
}

/** The new schema replaces the old one, except for entity- and property-level metadata merged as above. */
function mergeSchema(previous: LexiconSchema | undefined, next: LexiconSchema): LexiconSchema {
  const before = (previous ?? {}) as JsonObject;
  const after = next as JsonObject;
  let merged = withMetadata(after, mergeMetadata(before.metadata, after.metadata));
  if (isObject(after.properties)) {
    const oldProperties = isObject(before.properties) ? before.properties : {};
    const properties = Object.fromEntries(
      Object.entries(after.properties).map(([name, property]) => {
        const old = oldProperties[name];
        const current = property as JsonObject;
        return [name, withMetadata(current, mergeMetadata(isObject(old) ? old.metadata : undefined, current.metadata))];
      }),
    );
    merged = { ...merged, properties };
  }
  return merged as LexiconSchema;
}

function upsert(project: EmulatorProjectData, entry: LexiconEntryState): void {
  const id = key(entry.entityType, entry.name);
  const previous = project.lexicon.get(id);
  project.lexicon.set(id, { ...entry, schemaJson: mergeSchema(previous?.schemaJson, entry.schemaJson) });
}

function deleteWhere(project: EmulatorProjectData, match: (entry: LexiconEntryState) => boolean): number {
  let count = 0;
  for (const [id, entry] of project.lexicon) {
    if (match(entry)) {
      project.lexicon.delete(id);
      count += 1;
    }
  }
  return count;
}

const list = (entries: Iterable<LexiconEntryState>): EmulatorResponse => ({
  status: 200,
  json: { results: [...entries].map(({ entityType, name, schemaJson }) => ({ entityType, name, schemaJson })), status: 'ok' },
});

const deleted = (count: number): EmulatorResponse => ({ status: 200, json: { results: { delete_count: count }, status: 'ok' } });

const route = (method: EmulatorRoute['method'], pattern: string, handle: EmulatorRoute['handle']): EmulatorRoute => ({
  method,
  pattern,
  host: 'app',
  family: 'lexicon',
  auth: 'service-account-path',
  handle,
});

export const lexiconRoutes: readonly EmulatorRoute[] = [
  route('GET', BASE, (request) => list(request.project.lexicon.values())),

  route('POST', BASE, (request) => {
    const body = request.json;
    if (!isObject(body)) throw invalid('request body must be a JSON object');
    for (const name of Object.keys(body)) {
      if (name !== 'entries' && name !== 'truncate') throw invalid(`additional property "${name}" is not allowed`);
    }
    if (!Array.isArray(body.entries)) throw invalid('entries is required and must be an array');
    if (body.truncate !== undefined && typeof body.truncate !== 'boolean') throw invalid('truncate must be a boolean');
    // Validate everything first: a bad entry rejects the whole batch and changes nothing.
    const entries = body.entries.map(validateEntry);
    if (body.truncate === true) checkDeletions(request.project.lexicon.size);
    recordUpdates(request, entries);
    const deletedCount = body.truncate === true ? deleteWhere(request.project, () => true) : 0;
    for (const entry of entries) upsert(request.project, entry);
    return { status: 200, json: { results: { added: entries.length, deleted: deletedCount }, status: 'ok' } };
  }),

  route('DELETE', BASE, (request) => {
    checkDeletions(request.project.lexicon.size);
    return deleted(deleteWhere(request.project, () => true));
  }),

  route('GET', `${BASE}/:entityType`, (request) => {
    const entityType = entityTypeOf(request);
    const name = request.params.entity_name;
    return list([...request.project.lexicon.values()].filter((e) => e.entityType === entityType && (name === undefined || e.name === name)));
  }),

  route('DELETE', `${BASE}/:entityType`, (request) => {
    const entityType = entityTypeOf(request);
    const name = request.params.entity_name;
    const matches = (e: LexiconEntryState): boolean => e.entityType === entityType && (name === undefined || e.name === name);
    checkDeletions([...request.project.lexicon.values()].filter(matches).length);
    return deleted(deleteWhere(request.project, matches));
  }),

  route('GET', `${BASE}/:entityType/:name`, (request) => {
    const entityType = entityTypeOf(request);
    const name = request.pathParams.name ?? '';
    const entry = request.project.lexicon.get(key(entityType, name));
    // The spec documents only 200/401/403 here, so no 404 is promised: a missing schema answers 400 in the
    // App APIs' error shape (a client finds out what exists from the list).
    if (!entry) throw new EmulatorHttpError(400, `no schema found for ${entityType} "${name}"`);
    return { status: 200, json: entry.schemaJson };
  }),

  route('POST', `${BASE}/:entityType/:name`, (request) => {
    const entityType = entityTypeOf(request);
    const name = request.pathParams.name ?? '';
    const entry: LexiconEntryState = { entityType, name, schemaJson: validateSchema(request.json, 'schema') };
    recordUpdates(request, [entry]);
    upsert(request.project, entry);
    return { status: 200, json: { status: 'ok' } };
  }),

  route('DELETE', `${BASE}/:entityType/:name`, (request) => {
    const entityType = entityTypeOf(request);
    const name = request.pathParams.name ?? '';
    return deleted(request.project.lexicon.delete(key(entityType, name)) ? 1 : 0);
  }),
];
