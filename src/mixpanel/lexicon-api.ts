/**
 * The Lexicon Schemas API: list, read, upload and delete event and property definitions.
 * https://developer.mixpanel.com/reference/lexicon-schemas-api
 */
import type { LexiconEntityType, LexiconSchema, LexiconSchemaEntry, MixpanelClient } from './types.js';
import { hasResultsArray, hasResultsRecord, isRecord, unwrapResults, type ClientCalls } from './client-calls.js';

export type LexiconApi = Pick<MixpanelClient, 'lexiconList' | 'lexiconGet' | 'lexiconUpload' | 'lexiconDelete'>;

export function createLexiconApi(calls: ClientCalls): LexiconApi {
  const { app } = calls;
  return {
    async lexiconList(entityType, requestOptions) {
      const path = entityType === undefined ? '/schemas' : `/schemas/${entityType}`;
      const body = await app<{ results: LexiconSchemaEntry[] }>('lexicon', 'GET', path, hasResultsArray, requestOptions);
      return body.results;
    },
    lexiconGet(entityType, name, requestOptions) {
      return app<LexiconSchema>('lexicon', 'GET', schemaPath(entityType, name), isRecord, requestOptions, {}, unwrapResults);
    },
    async lexiconUpload(entries, truncate = false, requestOptions) {
      const body = await app<{ results: { added: number; deleted: number } }>('lexicon', 'POST', '/schemas', hasResultsRecord, requestOptions, {
        json: { entries, truncate },
      });
      return { added: Number(body.results.added ?? 0), deleted: Number(body.results.deleted ?? 0) };
    },
    async lexiconDelete(target, requestOptions) {
      const path = schemaPath(target.entityType, target.name);
      const body = await app<{ results: { delete_count: number } }>(
        'lexicon',
        'DELETE',
        path,
        (b) => hasResultsRecord(b) && typeof (b as { results: { delete_count?: unknown } }).results.delete_count === 'number',
        requestOptions,
      );
      return body.results;
    },
  };
}

function schemaPath(entityType: LexiconEntityType, name: string): string {
  return `/schemas/${entityType}/${encodeURIComponent(name)}`;
}
