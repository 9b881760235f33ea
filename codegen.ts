/**
 * Typed documents for frontends: the client preset over the example
 * operations.
 * - examples/generated/: the generic schema (`/graphql`), printed by
 *   `npm run schema`.
 * - examples/project-generated/: a project's Lexicon-typed schema
 *   (`/projects/<key>/graphql`), printed by
 *   `npm run schema -- --project <key> --file schema/projects/<name>.graphql`
 *   (here the demo project). Print it again after a Lexicon change, then
 *   run `npm run codegen`: typed names never change, so only additions and
 *   removals show up in the diff.
 * - examples/persisted/: the same generic operations as persisted documents;
 *   its persisted-documents.json is the allow-list PERSISTED_OPERATIONS_FILE
 *   takes (clients send `extensions.persistedQuery.sha256Hash`).
 */
import type { CodegenConfig } from '@graphql-codegen/cli';

/** Options of the client preset, shared by both outputs. */
export const clientPresetConfig = {
  useTypeImports: true,
  enumsAsTypes: true,
  scalars: {
    Date: 'string',
    DateTime: 'string',
    JSON: 'unknown',
  },
};

const config: CodegenConfig = {
  ignoreNoDocuments: false,
  // NodeNext: relative imports in the output need their .js extension.
  emitLegacyCommonJSImports: false,
  generates: {
    'examples/generated/': {
      schema: 'schema/schema.graphql',
      documents: ['examples/operations/*.graphql'],
      preset: 'client',
      config: clientPresetConfig,
    },
    'examples/persisted/': {
      schema: 'schema/schema.graphql',
      documents: ['examples/operations/*.graphql'],
      preset: 'client',
      presetConfig: { persistedDocuments: { mode: 'replaceDocument', hashAlgorithm: 'sha256' } },
      config: clientPresetConfig,
    },
    'examples/project-generated/': {
      schema: 'schema/projects/demo.graphql',
      documents: ['examples/project-operations/*.graphql'],
      preset: 'client',
      config: clientPresetConfig,
    },
  },
};

export default config;
