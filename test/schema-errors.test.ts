/**
 * The error model, read from the schema itself: each field's result union
 * holds its value and only the failures a client can act on for that field;
 * transport failures are in no union; lists are connections, never
 * `...Success { data }` wrappers; every name follows the one rule.
 */
import { getNamedType, isListType, isNonNullType, isObjectType, isUnionType, type GraphQLField, type GraphQLObjectType, type GraphQLUnionType } from 'graphql';
import { describe, expect, it } from 'vitest';
import { schema } from '../src/schema/index.js';

const ERRORS = new Set(['NotFoundError', 'InvalidArgumentError', 'RateLimitedError', 'IdempotencyConflictError', 'EventRangeTooLargeError']);
const ROOTS = new Set(['Query', 'Mutation', 'Subscription']);
const pascal = (name: string) => name.charAt(0).toUpperCase() + name.slice(1);

/** Every field whose type is a union, with its parent type. */
function unionFields(): { parent: GraphQLObjectType; field: GraphQLField<unknown, unknown>; union: GraphQLUnionType }[] {
  return Object.values(schema.getTypeMap()).flatMap((type) =>
    isObjectType(type) && !type.name.startsWith('__')
      ? Object.values(type.getFields()).flatMap((field) => {
          const named = getNamedType(field.type);
          return isUnionType(named) ? [{ parent: type, field, union: named }] : [];
        })
      : [],
  );
}

const members = (union: GraphQLUnionType) =>
  union
    .getTypes()
    .map((t) => t.name)
    .sort();

describe('result unions', () => {
  it('hold one value and only the declared failures, at most four', () => {
    const fields = unionFields();
    expect(fields.length).toBeGreaterThan(40);
    for (const { parent, field, union } of fields) {
      const coordinate = `${parent.name}.${field.name}`;
      const failures = members(union).filter((name) => ERRORS.has(name));
      expect(members(union).length - failures.length, coordinate).toBe(1);
      expect(failures.length, coordinate).toBeGreaterThanOrEqual(1);
      expect(failures.length, coordinate).toBeLessThanOrEqual(4);
      const args = new Set(field.args.map((a) => a.name));
      // NotFoundError and InvalidArgumentError only where there are arguments to blame; IdempotencyConflictError only with a key.
      if (failures.includes('NotFoundError') || failures.includes('InvalidArgumentError')) expect(args.size, coordinate).toBeGreaterThan(0);
      expect(failures.includes('IdempotencyConflictError'), coordinate).toBe(args.has('idempotencyKey'));
    }
  });

  it('give the no-argument cohorts list only RateLimitedError, and lookups NotFoundError', () => {
    const query = schema.getQueryType()!.getFields();
    expect(members(getNamedType(query['cohorts']!.type) as GraphQLUnionType)).toEqual(['CohortConnection', 'RateLimitedError']);
    expect(members(getNamedType(query['cohort']!.type) as GraphQLUnionType)).toEqual(['Cohort', 'InvalidArgumentError', 'NotFoundError', 'RateLimitedError']);
    expect(members(getNamedType(query['segmentation']!.type) as GraphQLUnionType)).toEqual(['InvalidArgumentError', 'RateLimitedError', 'Series']);
    expect(members(getNamedType(query['events']!.type) as GraphQLUnionType)).toEqual([
      'EventConnection',
      'EventRangeTooLargeError',
      'InvalidArgumentError',
      'RateLimitedError',
    ]);
  });

  it('carry no transport failure and no Success wrapper anywhere in the schema', () => {
    const names = Object.keys(schema.getTypeMap());
    for (const gone of [
      'UpstreamTimeoutError',
      'UpstreamUnavailableError',
      'UpstreamBadRequestError',
      'UpstreamNotFoundError',
      'UnauthorizedError',
      'ForbiddenError',
      'GatewayError',
    ]) {
      expect(names).not.toContain(gone);
    }
    expect(names.filter((name) => name.endsWith('Success'))).toEqual([]);
  });

  it('are named <Field>Result on root types and <Type><Field>Result elsewhere', () => {
    for (const { parent, field, union } of unionFields()) {
      const expected = ROOTS.has(parent.name) ? `${pascal(field.name)}Result` : `${parent.name}${pascal(field.name)}Result`;
      expect(union.name, `${parent.name}.${field.name}`).toBe(expected);
    }
  });
});

describe('lists and connections', () => {
  it('give every connection nodes and totalCount', () => {
    const connections = Object.values(schema.getTypeMap()).filter((type): type is GraphQLObjectType => isObjectType(type) && type.name.endsWith('Connection'));
    expect(connections.map((c) => c.name)).toEqual(
      expect.arrayContaining(['CohortConnection', 'ProfileConnection', 'EventConnection', 'AnnotationConnection']),
    );
    for (const connection of connections) {
      const fields = connection.getFields();
      expect(fields['nodes'], connection.name).toBeDefined();
      expect(isNonNullType(fields['nodes']!.type) && isListType(fields['nodes']!.type.ofType), connection.name).toBe(true);
      expect(fields['totalCount'], connection.name).toBeDefined();
    }
  });

  it('name inputs <Mutation>Input after the mutation that takes them', () => {
    for (const field of Object.values(schema.getMutationType()!.getFields())) {
      const input = field.args.find((a) => a.name === 'input');
      if (input) expect(getNamedType(input.type).name, field.name).toBe(`${pascal(field.name)}Input`);
    }
  });
});
