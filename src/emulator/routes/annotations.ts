/**
 * Annotations API (https://developer.mixpanel.com/reference/list-all-annotations-for-project; mixpanel/docs: openapi/annotations.openapi.yaml): CRUD on
 * a project's annotations and their tags. The spec documents no rate limit.
 */
import type { Annotation, AnnotationTag } from '../../mixpanel/types.js';
import { EmulatorHttpError } from '../errors.js';
import { isObject } from '../ingest-validation.js';
import type { EmulatorProjectData, EmulatorRequest, EmulatorResponse, EmulatorRoute } from '../types.js';

const BASE = '/api/app/projects/:projectId/annotations';
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/;
/** The emulator has no user accounts: every annotation is credited to the service account's owner. */
const AUTHOR: Annotation['user'] = { id: 1, first_name: 'Service', last_name: 'Account' };

const invalid = (message: string) => new EmulatorHttpError(400, message);

function bodyOf(request: EmulatorRequest): Record<string, unknown> {
  if (!isObject(request.json)) throw invalid('request body must be a JSON object');
  return request.json;
}

function descriptionOf(value: unknown): string {
  if (typeof value !== 'string') throw invalid('description must be a string');
  return value;
}

function tagsOf(project: EmulatorProjectData, value: unknown): Annotation['tags'] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw invalid('tags must be an array of tag ids');
  return value.map((id) => {
    const tag = project.annotationTags.find((t) => t.id === id);
    if (!tag) throw invalid(`tag ${JSON.stringify(id)} does not exist`);
    return { id: tag.id, name: tag.name };
  });
}

function validDate(text: string, pattern: RegExp): boolean {
  return pattern.test(text) && !Number.isNaN(Date.parse(`${text.slice(0, 10)}T${text.slice(11) || '00:00:00'}Z`));
}

function dateParam(request: EmulatorRequest, name: 'fromDate' | 'toDate'): string | undefined {
  const value = request.params[name];
  if (value === undefined || value === '') return undefined;
  if (!validDate(value, DATE)) throw invalid(`${name} must be in yyyy-mm-dd format`);
  return value;
}

function findIndex(request: EmulatorRequest): number {
  const id = Number(request.pathParams.annotationId);
  return Number.isFinite(id) ? request.project.annotations.findIndex((a) => a.id === id) : -1;
}

/**
 * An unknown id. The spec documents 200, 401 and 403 only, so a 404 is not something to rely on: the
 * emulator answers 400 in the App APIs' error shape, and a client must find annotations in the list.
 */
const notFound = (request: EmulatorRequest) => new EmulatorHttpError(400, `annotation ${request.pathParams.annotationId ?? ''} does not exist`);
const ok = (results: unknown, status = 200): EmulatorResponse => ({ status, json: { status: 'ok', results } });

const route = (method: EmulatorRoute['method'], pattern: string, handle: (request: EmulatorRequest) => EmulatorResponse): EmulatorRoute => ({
  method,
  pattern,
  host: 'app',
  // Annotation limits are undocumented (https://developer.mixpanel.com/reference/rate-limits names none): the emulator does not rate-limit them.
  family: undefined,
  auth: 'service-account-path',
  handle,
});

// The tags routes come first so that "tags" is never taken for an :annotationId.
export const annotationRoutes: readonly EmulatorRoute[] = [
  route('GET', `${BASE}/tags`, (request) => ({
    status: 200,
    json: request.project.annotationTags.map(
      (tag): AnnotationTag => ({ ...tag, has_annotations: request.project.annotations.some((a) => a.tags.some((t) => t.id === tag.id)) }),
    ),
  })),

  route('POST', `${BASE}/tags`, (request) => {
    const name = bodyOf(request).name;
    if (typeof name !== 'string' || name.trim().length === 0) throw invalid('name is required');
    const { project } = request;
    // The spec is silent on duplicate names; creating the same name again returns the existing tag.
    const existing = project.annotationTags.find((t) => t.name === name);
    if (existing) return { status: 200, json: existing };
    const tag: AnnotationTag = {
      id: Math.max(0, ...project.annotationTags.map((t) => t.id)) + 1,
      name,
      project_id: Number(project.projectId),
      has_annotations: false,
    };
    project.annotationTags.push(tag);
    return { status: 200, json: tag };
  }),

  route('GET', BASE, (request) => {
    const from = dateParam(request, 'fromDate');
    const to = dateParam(request, 'toDate');
    const results = request.project.annotations
      .filter((a) => (from === undefined || a.date.slice(0, 10) >= from) && (to === undefined || a.date.slice(0, 10) <= to))
      .sort((a, b) => a.date.localeCompare(b.date) || a.id - b.id);
    return ok(results);
  }),

  route('POST', BASE, (request) => {
    const body = bodyOf(request);
    const { project } = request;
    if (typeof body.date !== 'string' || !validDate(body.date, DATE_TIME)) {
      throw invalid('date is required, in "YYYY-MM-DD HH:mm:ss" format');
    }
    const annotation: Annotation = {
      id: Math.max(0, ...project.annotations.map((a) => a.id)) + 1,
      date: body.date,
      description: descriptionOf(body.description),
      user: AUTHOR,
      tags: tagsOf(project, body.tags),
    };
    project.annotations.push(annotation);
    return ok(annotation, 201);
  }),

  route('GET', `${BASE}/:annotationId`, (request) => {
    const index = findIndex(request);
    if (index < 0) throw notFound(request);
    return ok(request.project.annotations[index]);
  }),

  route('PATCH', `${BASE}/:annotationId`, (request) => {
    const index = findIndex(request);
    const current = request.project.annotations[index];
    if (!current) throw notFound(request);
    const body = bodyOf(request);
    const updated: Annotation = {
      ...current,
      ...(body.description === undefined ? {} : { description: descriptionOf(body.description) }),
      ...(body.tags === undefined ? {} : { tags: tagsOf(request.project, body.tags) }),
    };
    request.project.annotations[index] = updated;
    return ok(updated);
  }),

  route('DELETE', `${BASE}/:annotationId`, (request) => {
    const index = findIndex(request);
    const current = request.project.annotations[index];
    if (!current) throw notFound(request);
    request.project.annotations.splice(index, 1);
    return ok({ id: current.id });
  }),
];
