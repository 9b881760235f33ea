/**
 * useTypedSchema: serves a project's typed schema, swapped without a restart.
 * Each operation (HTTP, SSE or graphql-ws) takes the schema current when it
 * starts (envelop hands every `getEnveloped` call its own schema) and keeps
 * it to its end, so a rebuild never changes a request in flight. Yoga's own
 * function-valued `schema` option keys the schema by the Fetch Request, which
 * graphql-ws operations do not have; this plugin needs none.
 */
import type { Plugin } from 'graphql-yoga';
import type { LexiconTypes } from './registry.js';

export function useTypedSchema(types: Pick<LexiconTypes, 'current'>): Plugin {
  return {
    onPluginInit: ({ setSchema }) => setSchema(types.current()),
    onEnveloped: ({ setSchema }) => setSchema(types.current()),
  };
}
