/**
 * GraphiQL opens with a short tour followed by the example frontend
 * operations from examples/operations, so people start from queries that
 * are known to work (the test suite runs the same files).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const OPERATIONS_DIR = fileURLToPath(new URL('../../examples/operations/', import.meta.url));

const INTRO = `# Mixpanel GraphQL gateway
#
# Every field below is served from Mixpanel's REST APIs through a per-project
# budget, a shared cache and batching loaders. Each response's
# "extensions.mixpanel" shows the upstream calls it cost.
#
# Press the run button and pick an operation.
`;

export function graphiqlDefaultQuery(operationsDir: string = OPERATIONS_DIR): string {
  let files: string[];
  try {
    files = readdirSync(operationsDir).filter((name) => name.endsWith('.graphql')).sort();
  } catch {
    return `${INTRO}\nquery Project {\n  project { id region }\n}\n`;
  }
  const operations = files.map((name) => `# ${name}\n${readFileSync(`${operationsDir}${name}`, 'utf8').trim()}\n`);
  return `${INTRO}\n${operations.join('\n')}`;
}
