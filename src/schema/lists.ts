/**
 * Whole lists as connection objects. A list field that can fail in a way the
 * client acts on returns one of these, so its result union holds an object
 * (GraphQL unions cannot hold lists) and no `...Success { data }` wrapper:
 * `cohorts { ... on CohortConnection { nodes { name } totalCount } }`.
 */
import type { InterfaceRef, ObjectRef } from '@pothos/core';
import { builder, type BuilderTypes } from './builder.js';

export interface ListShape<T> {
  readonly nodes: readonly T[];
}

export const listOf = <T>(nodes: readonly T[]): ListShape<T> => ({ nodes });

type NodeType<T> = ObjectRef<BuilderTypes, T> | InterfaceRef<BuilderTypes, T> | (T extends string ? 'String' : never);

/** `<Name>`: `nodes` (every item, in the source's order) and `totalCount`. */
export function listConnection<T>(name: string, nodeType: NodeType<T>, description: string, nodesDescription: string) {
  return builder.objectRef<ListShape<T>>(name).implement({
    description,
    fields: (t) => ({
      nodes: t.field({ type: [nodeType as ObjectRef<BuilderTypes, unknown>], description: nodesDescription, resolve: (list) => [...list.nodes] as never }),
      totalCount: t.int({ description: 'How many items there are (all of them are in `nodes`).', resolve: (list) => list.nodes.length }),
    }),
  });
}
