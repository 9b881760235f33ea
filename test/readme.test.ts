/**
 * The README's GraphQL examples are valid against the schema, and its
 * configuration table names every variable of .env.example: docs that rot fail here.
 */
import { readFileSync } from 'node:fs';
import { parse, validate } from 'graphql';
import { describe, expect, it } from 'vitest';
import { schema } from '../src/schema/index.js';

const read = (path: string) => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8');
const readme = read('README.md');

describe('README', () => {
  const blocks = [...readme.matchAll(/```graphql\n([\s\S]*?)```/g)].map((match) => match[1]!);

  it('has GraphQL examples', () => {
    expect(blocks.length).toBeGreaterThan(1);
  });

  it.each(blocks.map((block, index) => [index, block] as const))('example %i validates against the schema', (_index, block) => {
    expect(validate(schema, parse(block)).map((error) => error.message)).toEqual([]);
  });

  it('documents every variable of .env.example', () => {
    const variables = [...read('.env.example').matchAll(/^#? ?([A-Z][A-Z0-9_]+)=/gm)].map((match) => match[1]!);
    expect(variables.length).toBeGreaterThan(20);
    expect(variables.filter((name) => !readme.includes(`\`${name}\``))).toEqual([]);
  });
});
