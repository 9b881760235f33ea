/**
 * Persisted-operations mode (PERSISTED_OPERATIONS_FILE, off by default): only
 * the operations of a manifest run, named by their SHA-256 in
 * `extensions.persistedQuery.sha256Hash` (the format of graphql-codegen's
 * client preset with `persistedDocuments`; `npm run codegen` writes
 * examples/persisted/persisted-documents.json from codegen.ts's
 * operations). A request carrying its own `query` is refused. The same
 * manifest guards graphql-ws (websocket.ts).
 */
import { readFileSync } from 'node:fs';
import { usePersistedOperations } from '@graphql-yoga/plugin-persisted-operations';
import type { GraphQLError } from 'graphql';
import { createGraphQLError, type Plugin } from 'graphql-yoga';

export interface PersistedOperations {
  readonly size: number;
  /** The document a hash names, or undefined. */
  get(hash: string): string | undefined;
  /** The document a graphql-ws/HTTP payload may run, or the error refusing it. */
  resolve(payload: { readonly query?: unknown; readonly extensions?: unknown }): string | GraphQLError;
}

const HASH = /^[0-9a-f]{64}$/;

/** Reads a manifest `{ "<sha256 hex>": "<document>" }`; throws an Error naming the file when it is not one. */
export function loadPersistedOperations(path: string): PersistedOperations {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`PERSISTED_OPERATIONS_FILE (${path}) cannot be read as JSON: ${(error as NodeJS.ErrnoException).code ?? 'invalid JSON'}`, { cause: error });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error(`PERSISTED_OPERATIONS_FILE (${path}) must map SHA-256 hashes to documents`);
  }
  const operations = new Map<string, string>();
  for (const [hash, document] of Object.entries(parsed)) {
    if (!HASH.test(hash.replace(/^sha256:/, '')) || typeof document !== 'string') {
      throw new Error(`PERSISTED_OPERATIONS_FILE (${path}) must map SHA-256 hashes to documents (entry ${JSON.stringify(hash.slice(0, 80))})`);
    }
    operations.set(hash.replace(/^sha256:/, ''), document);
  }
  return {
    size: operations.size,
    get: (hash) => operations.get(hash),
    resolve(payload) {
      if (payload.query !== undefined && payload.query !== null && payload.query !== '') {
        return createGraphQLError('This gateway runs persisted operations only: send extensions.persistedQuery.sha256Hash, not a query', {
          extensions: { code: 'PERSISTED_QUERY_ONLY' },
        });
      }
      const hash = persistedHashOf(payload.extensions);
      const document = hash === undefined ? undefined : operations.get(hash);
      return document ?? createGraphQLError('PersistedQueryNotFound', { extensions: { code: 'PERSISTED_QUERY_NOT_IN_LIST' } });
    },
  };
}

function persistedHashOf(extensions: unknown): string | undefined {
  const persisted = (extensions as { persistedQuery?: { version?: unknown; sha256Hash?: unknown } } | undefined)?.persistedQuery;
  return persisted?.version === 1 && typeof persisted.sha256Hash === 'string' ? persisted.sha256Hash : undefined;
}

/** The mode over HTTP and SSE: yoga's persisted-operations plugin on the manifest. */
export function usePersistedOperationsOnly(operations: PersistedOperations): Plugin {
  return usePersistedOperations({
    allowArbitraryOperations: false,
    getPersistedOperation: (hash) => operations.get(hash) ?? null,
    customErrors: {
      persistedQueryOnly: {
        message: 'This gateway runs persisted operations only: send extensions.persistedQuery.sha256Hash, not a query',
        extensions: { code: 'PERSISTED_QUERY_ONLY', http: { status: 400 } },
      },
      notFound: { message: 'PersistedQueryNotFound', extensions: { code: 'PERSISTED_QUERY_NOT_IN_LIST', http: { status: 400 } } },
      keyNotFound: { message: 'PersistedQueryKeyNotFound', extensions: { code: 'PERSISTED_QUERY_ID_REQUIRED', http: { status: 400 } } },
    },
  }) as Plugin;
}
