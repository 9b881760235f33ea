/**
 * The Lexicon list read outside a GraphQL request, by the typed-schema registry
 * and by Lexicon edits: the same endpoint and parameters as the schema's fields,
 * so the same cache entry and in-flight call.
 */
import type { LexiconSchemaEntry } from '../mixpanel/types.js';
import type { CallContext, ProjectRuntime } from './types.js';

export function readLexiconList(project: Pick<ProjectRuntime, 'fetch'>, context: CallContext): Promise<LexiconSchemaEntry[]> {
  return project.fetch('lexiconList', {}, context);
}
