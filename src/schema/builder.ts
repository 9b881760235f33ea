/**
 * The one schema builder. It holds no types: each domain file (events.ts,
 * profiles.ts, …) defines its own types and fields on it.
 */
import SchemaBuilder from '@pothos/core';
import ComplexityPlugin from '@pothos/plugin-complexity';
import DataloaderPlugin from '@pothos/plugin-dataloader';
import ErrorsPlugin from '@pothos/plugin-errors';
import RelayPlugin from '@pothos/plugin-relay';
import type { Context } from './context.js';

/** Root types: their fields' unions are named for the field alone. */
const ROOT_TYPES = new Set(['Query', 'Mutation', 'Subscription']);
const pascal = (name: string): string => name.charAt(0).toUpperCase() + name.slice(1);

/**
 * The one naming rule for result unions: `<Field>Result` for a root field
 * (`cohort` → `CohortResult`), `<Type><Field>Result` for any other field
 * (`Profile.cohorts` → `ProfileCohortsResult`). See README "Naming".
 */
export function resultUnionName({ parentTypeName, fieldName }: { parentTypeName: string; fieldName: string }): string {
  return ROOT_TYPES.has(parentTypeName) ? `${pascal(fieldName)}Result` : `${parentTypeName}${pascal(fieldName)}Result`;
}

/**
 * Default limits of an operation's estimated cost. A field that sends its
 * own REST call costs 10-20; a field served by a batching loader costs a few
 * points per parent item; a plain field 1. Connections multiply their items
 * by `first`, other lists by 10, so a page of 100 profiles with their cohorts
 * and activity stays well inside while thirty 1000-profile pages do not.
 */
export const DEFAULT_COMPLEXITY_LIMIT = { complexity: 20_000, depth: 12, breadth: 400 } as const;

export const builder = new SchemaBuilder<{
  Context: Context;
  DefaultFieldNullability: false;
  /** Connections may report how many items there are in all, when the source says. */
  Connection: { totalCount?: number | null };
  Scalars: {
    /** A calendar day, `yyyy-mm-dd` (UTC, as Mixpanel's date parameters). */
    Date: { Input: string; Output: string };
    DateTime: { Input: Date; Output: Date };
    JSON: { Input: unknown; Output: unknown };
  };
}>({
  // Errors before dataloader, so a field's `errors` also catch failed loads.
  plugins: [ErrorsPlugin, DataloaderPlugin, RelayPlugin, ComplexityPlugin],
  defaultFieldNullability: false,
  /**
   * Each field lists in `errors.types` only the failures a client can act on
   * for that field (src/schema/errors.ts). Anything else a resolver throws,
   * transport and upstream failures included, goes to the response's
   * `errors` with its stable `extensions.code` (src/server/mask-error.ts).
   */
  errors: {
    defaultTypes: [],
    directResult: true,
    defaultUnionOptions: { name: resultUnionName, description: 'The value, or a failure the client can act on for this field (each implements `Error`).' },
    // No list field declares errors: it returns a connection object (src/schema/lists.ts), so no `...Success { data }` wrapper exists.
  },
  relay: {
    // Nothing here is a globally refetchable Node: ids are Mixpanel's own.
    nodeQueryOptions: false,
    nodesQueryOptions: false,
    cursorType: 'String',
    pageInfoTypeOptions: { description: 'Where a page sits in its connection. Only forward paging (`first`/`after`) is offered.' },
    hasNextPageFieldOptions: { description: 'Whether another page follows (pass `endCursor` as `after`).' },
    hasPreviousPageFieldOptions: { description: 'Whether this page was reached with `after`.' },
    startCursorFieldOptions: { description: 'Cursor of the first item of the page.' },
    endCursorFieldOptions: { description: 'Cursor of the last item of the page: pass it as `after` for the next page.' },
    // The connection field's own multiplier is `first`: its edges must not multiply again.
    edgesFieldOptions: { description: 'The items of the page, with their cursors.', complexity: { field: 1, multiplier: 1 } },
    pageInfoFieldOptions: { description: 'Paging information.' },
    cursorFieldOptions: { description: 'Opaque position of this item: pass it as `after` to continue after it.' },
    nodeFieldOptions: { description: 'The item.' },
    // Every connection also lists its items directly, for clients that need no cursors.
    nodesOnConnection: { description: 'The items of the page, without cursors.', complexity: { field: 1, multiplier: 1 } },
  },
  complexity: {
    defaultComplexity: 1,
    defaultListMultiplier: 10,
    limit: DEFAULT_COMPLEXITY_LIMIT,
    // Checked once per operation by admission control (one error for the whole document), not once per root field.
    disabled: true,
  },
});

// The root types are empty here: each domain file adds its own fields.
builder.queryType({ description: 'Read a Mixpanel project: profiles, cohorts, events, Lexicon, reports and annotations.' });
builder.mutationType({ description: 'The few writes the gateway offers; each is budgeted like a read.' });
builder.subscriptionType({ description: "Live cohort membership, fed by Mixpanel's cohort-sync webhooks." });

/** The builder's schema types, for helpers that take type refs. */
export type BuilderTypes = typeof builder extends PothosSchemaTypes.SchemaBuilder<infer Types> ? Types : never;
