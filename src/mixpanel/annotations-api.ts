/**
 * The Annotations API: notes on the project's charts, and their tags.
 * https://developer.mixpanel.com/reference/list-all-annotations-for-project
 */
import type { Annotation, AnnotationTag, MixpanelClient } from './types.js';
import { hasResultsArray, hasResultsRecord, isArray, isRecord, unwrapResults, type ClientCalls } from './client-calls.js';

export type AnnotationsApi = Pick<
  MixpanelClient,
  'annotationsList' | 'annotationCreate' | 'annotationGet' | 'annotationUpdate' | 'annotationDelete' | 'annotationTags' | 'annotationTagCreate'
>;

export function createAnnotationsApi(calls: ClientCalls): AnnotationsApi {
  const { app } = calls;
  return {
    async annotationsList(params, requestOptions) {
      // camelCase params, unlike the Query API (annotations spec).
      const body = await app<{ results: Annotation[] }>('app', 'GET', '/annotations', hasResultsArray, requestOptions, {
        query: { fromDate: params.fromDate, toDate: params.toDate },
      });
      return body.results;
    },
    async annotationCreate(params, requestOptions) {
      const body = await app<{ results: Annotation }>('app', 'POST', '/annotations', hasResultsRecord, requestOptions, {
        json: { date: params.date, description: params.description, tags: params.tags ?? [] },
      });
      return body.results;
    },
    async annotationGet(id, requestOptions) {
      const body = await app<{ results: Annotation }>('app', 'GET', `/annotations/${id}`, hasResultsRecord, requestOptions);
      return body.results;
    },
    async annotationUpdate(id, patch, requestOptions) {
      const body = await app<{ results: Annotation }>('app', 'PATCH', `/annotations/${id}`, hasResultsRecord, requestOptions, {
        json: patch,
      });
      return body.results;
    },
    async annotationDelete(id, requestOptions) {
      const body = await app<{ results: { id: number } }>('app', 'DELETE', `/annotations/${id}`, hasResultsRecord, requestOptions);
      return body.results;
    },
    annotationTags(requestOptions) {
      return app<AnnotationTag[]>('app', 'GET', '/annotations/tags', isArray, requestOptions, {}, unwrapResults);
    },
    annotationTagCreate(name, requestOptions) {
      return app<AnnotationTag>('app', 'POST', '/annotations/tags', isRecord, requestOptions, { json: { name } }, unwrapResults);
    },
  };
}
