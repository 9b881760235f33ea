/**
 * The schema: the domain files register their types on the builder when
 * imported; this file only assembles them.
 */
import type { GraphQLSchema } from 'graphql';
import { builder } from './builder.js';
import './scalars.js';
import './errors.js';
import './project.js';
import './lexicon/index.js';
import './drift.js';
import './profiles.js';
import './events.js';
import './cohorts.js';
import './analytics/index.js';
import './annotations.js';
import './writes.js';
import './subscriptions.js';

export function buildSchema(): GraphQLSchema {
  return builder.toSchema();
}

export const schema = buildSchema();
