/**
 * The schema: the domain files register their types on the builder when
 * imported; this file only assembles them.
 */
import type { GraphQLSchema } from 'graphql';
import type { ComplexityResult } from '@pothos/plugin-complexity';
import type { Context } from '../context.js';
import { builder } from './builder.js';
import './scalars.js';
import './errors.js';
import './project.js';
import './lexicon.js';
import './drift.js';
import './profiles.js';
import './events.js';
import './cohorts.js';
import './analytics.js';
import './annotations.js';
import './writes.js';
import './subscriptions.js';

export interface BuildSchemaOptions {
  /**
   * Largest estimated cost, depth and breadth an operation may have; over it,
   * the operation fails before any resolver runs. A function gets each
   * operation's context (e.g. to allow less when the budget is low).
   * Default: DEFAULT_COMPLEXITY_LIMIT (src/schema/builder.ts).
   */
  readonly complexityLimit?: Partial<ComplexityResult> | ((ctx: Context) => Partial<ComplexityResult>);
}

export function buildSchema(options: BuildSchemaOptions = {}): GraphQLSchema {
  return builder.toSchema(options.complexityLimit === undefined ? {} : { complexity: { limit: options.complexityLimit } });
}

export const schema = buildSchema();
