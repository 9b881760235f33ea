/**
 * What every API family's calls share: HTTP through http.ts with the service account's
 * authorization, the project's path and ids, and a shape check of each answer, so that upstream
 * garbage becomes a clear UpstreamError here rather than a crash deep in a resolver.
 */
import type { Secret } from '../core/secret.js';
import { UpstreamError } from './errors.js';
import type { Http, HttpRequest, QueryParams } from './http.js';
import type { ApiFamily, RequestOptions } from './types.js';

export type Guard = (body: unknown) => boolean;

export const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
export const isArray: Guard = Array.isArray;
export const hasResultsArray: Guard = (body) => isRecord(body) && Array.isArray(body.results);
export const hasResultsRecord: Guard = (body) => isRecord(body) && isRecord(body.results);
export const isSeries: Guard = (body) => isRecord(body) && isRecord(body.data) && Array.isArray(body.data.series) && isRecord(body.data.values);
export const isStringArray: Guard = (body) => Array.isArray(body) && body.every((item) => typeof item === 'string');

export function expectShape<T>(body: unknown, guard: Guard, family: ApiFamily, what: string, status: number): T {
  if (!guard(body)) throw new UpstreamError(`Mixpanel ${family} API returned an unexpected body for ${what}`, family, status);
  return body as T;
}

/** Lexicon's get-one and annotation tag creation are documented bare; accept Mixpanel's usual `{results, status}` wrapper too. */
export function unwrapResults(body: unknown): unknown {
  return isRecord(body) && 'results' in body && 'status' in body ? body.results : body;
}

export interface ClientContext {
  readonly http: Http;
  readonly projectId: string;
  readonly workspaceId: string | undefined;
  readonly projectToken: Secret | undefined;
  readonly integrationId: string;
  /** The Basic authorization of the service account. */
  readonly authorization: string;
  /** The per-call timeout, for messages of a stream cut short. */
  readonly timeoutMs: number;
  /** Removes the credentials from a text Mixpanel sent back. */
  readonly redact: (text: string) => string;
}

export interface ClientCalls {
  readonly context: ClientContext;
  /** Query API: GET `/api/query/<endpoint>` with `project_id` (and `workspace_id`) in the query string. */
  query<T>(endpoint: string, params: QueryParams, guard: Guard, requestOptions: RequestOptions | undefined): Promise<T>;
  /** Query API endpoints the spec defines as POST: form body, ids in the query string. */
  queryPost<T>(endpoint: string, form: QueryParams, guard: Guard, requestOptions: RequestOptions | undefined): Promise<T>;
  /** App APIs (Lexicon, annotations): `/api/app/projects/<id><path>`. */
  app<T>(
    family: 'lexicon' | 'app',
    method: HttpRequest['method'],
    path: string,
    guard: Guard,
    requestOptions: RequestOptions | undefined,
    extra?: Pick<HttpRequest, 'query' | 'json'>,
    transform?: (body: unknown) => unknown,
  ): Promise<T>;
}

export function createClientCalls(context: ClientContext): ClientCalls {
  const { http, projectId, authorization } = context;
  const appPath = `/api/app/projects/${encodeURIComponent(projectId)}`;

  async function call<T>(request: HttpRequest, guard: Guard, what: string, transform: (body: unknown) => unknown = (b) => b): Promise<T> {
    const { status, body } = await http.json(request);
    return expectShape<T>(transform(body), guard, request.family, what, status);
  }

  return {
    context,
    query(endpoint, params, guard, requestOptions) {
      return call(
        {
          family: 'query',
          host: 'query',
          method: 'GET',
          path: `/api/query/${endpoint}`,
          query: { ...params, project_id: projectId, workspace_id: context.workspaceId },
          authorization,
          ...requestOptions,
        },
        guard,
        endpoint,
      );
    },
    queryPost(endpoint, form, guard, requestOptions) {
      return call(
        {
          family: 'query',
          host: 'query',
          method: 'POST',
          path: `/api/query/${endpoint}`,
          query: { project_id: projectId, workspace_id: context.workspaceId },
          form,
          authorization,
          ...requestOptions,
        },
        guard,
        endpoint,
      );
    },
    app(family, method, path, guard, requestOptions, extra = {}, transform) {
      return call(
        { family, host: 'app', method, path: `${appPath}${path}`, authorization, ...extra, ...requestOptions },
        guard,
        `${method} ${path}`,
        transform,
      );
    },
  };
}
