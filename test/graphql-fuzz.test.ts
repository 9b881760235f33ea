/**
 * Fuzzing the GraphQL endpoint over loopback: 10,000+ generated requests,
 * each a mutation with one invalid variable (wrong type, empty, oversized,
 * deeply nested, malformed date or id), a hostile or broken document, or a
 * malformed HTTP body. Every one must be answered with a 4xx or a GraphQL
 * error, and none may change anything: the emulator's call log shows no
 * write (no request other than a GET) at the end.
 *
 * The generator is seeded, so a failure names a case that can be replayed.
 */
import { describe, expect, it } from 'vitest';
import { createTestApp } from './helpers/app.js';
import { aliasFlood, fragmentBomb } from './helpers/hostile-documents.js';
import { mulberry32 } from '../src/emulator/seed.js';

const CASES = Number(process.env['FUZZ_CASES'] ?? 10_200);
const IN_FLIGHT = Number(process.env['FUZZ_IN_FLIGHT'] ?? 8);

interface FuzzCase {
  readonly body: string;
  readonly contentType: string;
}

const CREATE = 'mutation ($input: CreateAnnotationInput!) { createAnnotation(input: $input) { __typename } }';
const UPDATE = 'mutation ($input: UpdateLexiconEventDefinitionInput!) { updateLexiconEventDefinition(input: $input) { __typename } }';

function generator(seed: number) {
  const next = mulberry32(seed);
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
  const text = (length: number) =>
    Array.from({ length }, () => String.fromCharCode(pick([0x20 + int(95), 0x80 + int(0x700), 0xd800 + int(0x400), 0]))).join('');
  const nested = (depth: number): unknown => {
    let value: unknown = 'x';
    for (let i = 0; i < depth; i++) value = next() < 0.5 ? [value] : { a: value };
    return value;
  };

  /** A value that no String! / DateTime! / ID! field accepts as valid for this gateway. */
  const invalidScalar = (): unknown =>
    pick<() => unknown>([
      () => null,
      () => int(1e9) - 5e8,
      () => next() * 1e300,
      () => true,
      () => [],
      () => ({}),
      () => nested(1 + int(40)),
      () => '',
      () => ' '.repeat(1 + int(8)),
      () => 'x'.repeat(8_193 + int(20_000)),
    ])();
  const invalidDate = (): unknown =>
    pick<() => unknown>([invalidScalar, () => text(1 + int(30)), () => `2025-${13 + int(80)}-01T00:00:00Z`, () => '2025-02-30T00:00:00Z', () => 'Infinity'])();
  const invalidDescription = (): unknown =>
    pick<() => unknown>([() => null, () => '', () => ' \t ', () => 'd'.repeat(2_001 + int(5_000)), () => int(100), () => [text(5)], () => nested(20)])();
  const invalidTagIds = (): unknown =>
    pick<() => unknown>([
      () => [-1 - int(100)],
      () => ['abc'],
      () => [0],
      () => [''],
      () => Array.from({ length: 10_001 }, () => '1'),
      () => [[['1']]],
      () => [null],
    ])();
  const invalidName = (): unknown =>
    pick<() => unknown>([() => '', () => '   ', () => 'n'.repeat(256 + int(5_000)), () => null, () => int(10), () => nested(3)])();

  const json = (query: string, variables: unknown): FuzzCase => ({ body: JSON.stringify({ query, variables }), contentType: 'application/json' });

  const kinds: (() => FuzzCase)[] = [
    () => {
      // createAnnotation with exactly one invalid field: nothing may be written.
      const valid = { date: '2025-05-01T00:00:00Z', description: text(1 + int(40)).trim() || 'ok' };
      const field = pick(['date', 'description', 'tagIds', 'extra', 'whole']);
      if (field === 'whole') return json(CREATE, { input: invalidScalar() });
      if (field === 'extra') return json(CREATE, { input: { ...valid, [text(1 + int(8)) || 'x']: text(3) } });
      const value = field === 'date' ? invalidDate() : field === 'description' ? invalidDescription() : invalidTagIds();
      return json(CREATE, { input: { ...valid, [field]: value } });
    },
    () => {
      // updateLexiconEventDefinition with an invalid name, or nothing to change.
      const valid = { name: 'Sign Up', description: 'd' };
      const variant = int(3);
      if (variant === 0) return json(UPDATE, { input: { ...valid, name: invalidName() } });
      if (variant === 1) return json(UPDATE, { input: { name: 'Sign Up' } });
      return json(UPDATE, { input: { ...valid, hidden: pick(['yes', 1, [], {}]) } });
    },
    () => {
      // A broken or hostile document, mutation keyword included.
      const documents = [
        () => `mutation { ${text(int(200))} }`,
        () => `mutation { createAnnotation(input: { date: "2025-05-01T00:00:00Z", description: "x" ${'{'.repeat(1 + int(50))} }`,
        () => `mutation { createAnnotation(input: ${text(int(50))}) { __typename } }`,
        () =>
          `mutation { ${aliasFlood(101 + int(200), 'createAnnotation(input: { date: "2025-05-01T00:00:00Z", description: "x" }) { __typename }')} }`
            .replace(/^mutation \{ \{/, 'mutation {')
            .replace(/\} \}$/, '}'),
        () => fragmentBomb(8 + int(8), 3 + int(3)),
        () => `mutation { createAnnotation(input: { date: "2025-05-01T00:00:00Z", description: "${'x'.repeat(8_193)}" }) { __typename } }`,
        () => `{ ${'__typename '.repeat(2_001 + int(100))} }`,
        () => `mutation ${'@skip(if: false) '.repeat(51)} { createAnnotation(input: { date: "2025-05-01T00:00:00Z", description: "x" }) { __typename } }`,
        () => `subscription { createAnnotation(input: { date: "2025-05-01T00:00:00Z", description: "x" }) { __typename } }`,
        () => `query { createAnnotation(input: { date: "2025-05-01T00:00:00Z", description: "x" }) { __typename } }`,
      ];
      return json(pick(documents)(), undefined);
    },
    () => {
      // A malformed HTTP body or one in a form a page could send.
      const valid = JSON.stringify({ query: 'mutation { createAnnotation(input: { date: "2025-05-01T00:00:00Z", description: "x" }) { __typename } }' });
      return pick<() => FuzzCase>([
        () => ({ body: valid.slice(0, int(valid.length)), contentType: 'application/json' }),
        () => ({ body: valid, contentType: 'text/plain' }),
        () => ({ body: new URLSearchParams({ query: JSON.parse(valid).query as string }).toString(), contentType: 'application/x-www-form-urlencoded' }),
        () => ({ body: JSON.stringify({ query: pick([null, 1, [], {}]), variables: text(5) }), contentType: 'application/json' }),
        () => ({ body: JSON.stringify({ query: CREATE, variables: pick(['[]', 1, 'x', [1]]) }), contentType: 'application/json' }),
        () => ({ body: text(int(300)), contentType: 'application/json' }),
      ])();
    },
  ];
  return () => pick(kinds)();
}

/** A result whose every root field is one of the schema's typed errors (`... on Error`), e.g. InvalidArgumentError. */
function typedErrorsOnly(body: string): boolean {
  try {
    const data = (JSON.parse(body) as { data?: Record<string, { __typename?: string } | null> }).data;
    const roots = Object.values(data ?? {});
    return roots.length > 0 && roots.every((root) => typeof root?.__typename === 'string' && root.__typename.endsWith('Error'));
  } catch {
    return false;
  }
}

describe('GraphQL fuzz', () => {
  it(`answers ${CASES} generated invalid requests with a 4xx or a GraphQL error and writes nothing`, async () => {
    const gw = await createTestApp();
    const nextCase = generator(0x5eed);
    const unclear: { index: number; status: number; body: string; request: string }[] = [];
    let index = 0;
    const worker = async () => {
      while (index < CASES) {
        const mine = index++;
        const request = nextCase();
        let response: Response;
        try {
          response = await gw.fetch(gw.graphqlPath, {
            method: 'POST',
            headers: { 'content-type': request.contentType, accept: 'application/graphql-response+json' },
            body: request.body,
            // A hang is a failure too.
            signal: AbortSignal.timeout(10_000),
          });
        } catch (error) {
          unclear.push({ index: mine, status: 0, body: String((error as Error).cause ?? error), request: request.body.slice(0, 300) });
          continue;
        }
        const body = await response.text();
        let errors: unknown;
        try {
          errors = (JSON.parse(body) as { errors?: unknown }).errors;
        } catch {
          errors = undefined;
        }
        const clear = (response.status >= 400 && response.status < 500) || (Array.isArray(errors) && errors.length > 0) || typedErrorsOnly(body);
        if (!clear || response.status >= 500)
          unclear.push({ index: mine, status: response.status, body: body.slice(0, 300), request: request.body.slice(0, 300) });
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
    expect(index).toBeGreaterThanOrEqual(Math.min(CASES, 10_000));
    expect(unclear.slice(0, 5)).toEqual([]);
    const writes = gw.emulator.callLog.filter((entry) => entry.method !== 'GET');
    expect(writes).toEqual([]);
    // The gateway still answers.
    expect((await gw.query('{ __typename }')).data).toEqual({ __typename: 'Query' });
  }, 300_000);
});
