/**
 * Writes schema/schema.graphql from the code-first schema, sorted so that
 * diffs stay clean. `--check` writes nothing and exits 1 when the committed
 * file differs (CI runs it). `--file <path>` uses another file.
 */
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { lexicographicSortSchema, printSchema } from 'graphql';
import { schema } from '../src/schema/index.js';

function schemaFile(): string {
  const flag = process.argv.indexOf('--file');
  if (flag === -1) return fileURLToPath(new URL('../schema/schema.graphql', import.meta.url));
  const path = process.argv[flag + 1];
  if (path === undefined) {
    process.stderr.write('--file needs a path\n');
    process.exit(2);
  }
  return path;
}

const SCHEMA_FILE = schemaFile();

function printedSchema(): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}

function readCommitted(): string | undefined {
  try {
    return readFileSync(SCHEMA_FILE, 'utf8');
  } catch {
    return undefined;
  }
}

const printed = printedSchema();
if (process.argv.includes('--check')) {
  if (readCommitted() !== printed) {
    process.stderr.write(`${SCHEMA_FILE} is out of date: run \`npm run schema\` and commit the result\n`);
    process.exit(1);
  }
  process.stdout.write(`${SCHEMA_FILE} is up to date\n`);
} else {
  mkdirSync(dirname(SCHEMA_FILE), { recursive: true });
  writeFileSync(SCHEMA_FILE, printed);
  process.stdout.write(`wrote ${SCHEMA_FILE}\n`);
}
