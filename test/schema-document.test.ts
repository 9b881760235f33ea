import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { parse, validate, type OperationDefinitionNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { schema } from '../src/schema/index.js';
import { createExampleValues, exampleVariables } from '../src/server/graphiql.js';
import { restQuery, createSchemaApp } from './helpers/schema.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OPERATIONS = join(ROOT, 'examples/operations');
const run = promisify(execFile);

describe('printed schema', () => {
  it('is committed up to date, and `--check` exits 1 when the file differs', async () => {
    // The stale copy lives in a temporary directory: the real file is never touched.
    const dir = mkdtempSync(join(tmpdir(), 'schema-check-'));
    try {
      const script = join(ROOT, 'scripts/print-schema.ts');
      const tsx = join(ROOT, 'node_modules/.bin/tsx');
      await expect(run(tsx, [script, '--check'], { cwd: ROOT })).resolves.toMatchObject({ stdout: expect.stringMatching(/up to date/) });
      const stale = join(dir, 'schema.graphql');
      writeFileSync(stale, `${readFileSync(join(ROOT, 'schema/schema.graphql'), 'utf8')}\ntype Stale { x: Int }\n`);
      await expect(run(tsx, [script, '--check', '--file', stale], { cwd: ROOT })).rejects.toMatchObject({ code: 1 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('describes every type, field, argument and enum value', () => {
    const missing: string[] = [];
    for (const type of Object.values(schema.getTypeMap())) {
      if (type.name.startsWith('__') || ['String', 'Int', 'Float', 'Boolean', 'ID'].includes(type.name)) continue;
      if (!type.description) missing.push(type.name);
      if ('getFields' in type) {
        for (const field of Object.values(type.getFields())) {
          if (!field.description) missing.push(`${type.name}.${field.name}`);
          for (const arg of 'args' in field ? field.args : []) if (!arg.description) missing.push(`${type.name}.${field.name}(${arg.name})`);
        }
      }
      if ('getValues' in type) for (const value of type.getValues()) if (!value.description) missing.push(`${type.name}.${value.name}`);
    }
    expect(missing).toEqual([]);
  });
});

describe('example operations', () => {
  const files = readdirSync(OPERATIONS)
    .filter((f) => f.endsWith('.graphql'))
    .sort();

  it('validate against the schema', () => {
    expect(files.length).toBeGreaterThan(5);
    for (const file of files) {
      expect(validate(schema, parse(readFileSync(join(OPERATIONS, file), 'utf8'))).map((e) => `${file}: ${e.message}`)).toEqual([]);
    }
  });

  it('run against the gateway without errors', async () => {
    const gw = await createSchemaApp();
    // The variables GraphiQL opens the examples with: ids read through the project's runtime, 3 Query calls once.
    const before = gw.emulator.calls('/api/query');
    const readValues = createExampleValues(gw.gateway.projects.get('default')!);
    const values = await readValues();
    expect(Object.keys(values).sort()).toEqual(['cohortId', 'distinctId', 'funnelId']);
    await readValues();
    expect(gw.emulator.calls('/api/query') - before).toBe(3);
    const [cohort] = await restQuery<{ id: number }[]>(gw.emulator, 'cohorts/list');
    expect(values.cohortId).toBe(String(cohort!.id));
    for (const file of files) {
      const document = parse(readFileSync(join(OPERATIONS, file), 'utf8'));
      const operation = document.definitions.find((d): d is OperationDefinitionNode => d.kind === 'OperationDefinition')!;
      if (operation.operation === 'subscription') continue; // covered over WebSocket in schema-cohorts.test.ts
      const needed = exampleVariables(operation, values, Date.now());
      const result = await gw.query(readFileSync(join(OPERATIONS, file), 'utf8'), needed);
      expect({ file, errors: result.errors }).toEqual({ file, errors: undefined });
      const json = JSON.stringify(result.data);
      expect({ file, typedError: /"code":"[A-Z_]+"/.test(json) }).toEqual({ file, typedError: false });
    }
  });
});

describe('complexity', () => {
  it('rejects an operation whose estimated cost is over the limit before any upstream call', async () => {
    const gw = await createSchemaApp();
    const fields = Array.from({ length: 30 }, (_, i) => `p${i}: profiles(first: 1000) { ... on ProfileConnection { edges { node { email } } } }`);
    const result = await gw.query(`{ ${fields.join('\n')} }`);
    expect(result.errors?.[0]?.message).toMatch(/complexity/);
    expect(gw.emulator.calls('/api/query')).toBe(0);
  });
});
