/**
 * Scalars: `Date` (a calendar day, as Mixpanel's date parameters take it),
 * `DateTime` (an instant, ISO 8601) and `JSON` (property bags as Mixpanel
 * sends them).
 */
import { Kind } from 'graphql';
import { createGraphQLError } from 'graphql-yoga';
import { DateTimeResolver, JSONResolver } from 'graphql-scalars';
import { builder } from './builder.js';
import { parseDay } from './validation.js';

function parseDateInput(value: unknown): string {
  if (typeof value !== 'string') throw createGraphQLError(`Date must be a string in the form yyyy-mm-dd, got ${typeof value}`);
  const day = parseDay(value);
  if (day === undefined) throw createGraphQLError(`Date must be a real calendar day in the form yyyy-mm-dd, got ${JSON.stringify(value)}`);
  return day;
}

builder.scalarType('Date', {
  description: 'A calendar day in the form `yyyy-mm-dd`, in UTC. Date ranges are inclusive at both ends, as in Mixpanel.',
  serialize: (value) => value,
  parseValue: parseDateInput,
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.STRING) throw createGraphQLError('Date must be a string in the form yyyy-mm-dd');
    return parseDateInput(ast.value);
  },
});

builder.addScalarType('DateTime', DateTimeResolver, {
  description: 'An instant, serialised as an ISO 8601 string in UTC (for example `2024-05-01T12:00:00.000Z`).',
});

builder.addScalarType('JSON', JSONResolver, {
  description: 'Any JSON value, as Mixpanel sends it (property bags, raw series).',
});
