/**
 * Writes schema/schema.graphql from the code-first schema, sorted so that
 * diffs stay clean. `--check` writes nothing and exits 1 when the committed
 * file differs (CI runs it). `--file <path>` uses another file.
 *
 * `--project <key or Mixpanel project id>` prints that project's
 * Lexicon-typed schema instead (what `/projects/<key>/graphql` serves, and
 * `/graphql` for the default project), read from its Lexicon with the
 * configured credentials (environment, `.env` and MIXPANEL_PROJECTS_FILE, as
 * the gateway reads them), to stdout unless `--file` is given. Without
 * credentials the project is the demo one, on an emulator started for the
 * occasion:
 *   npm run schema -- --project default --file schema/projects/demo.graphql
 *   npm run --silent schema -- --project default > my-project.graphql
 */
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import { loadConfig, withDemoProject } from '../src/config/index.js';
import { withEnvFile } from '../src/config/env-file.js';
import { createEmulator, DEMO_PROJECT } from '../src/emulator/server.js';
import { createLogger } from '../src/observability/logger.js';
import { createMemoryMembershipStore } from '../src/membership/memory-store.js';
import { schema } from '../src/schema/index.js';
import { createGateway } from '../src/server/gateway.js';

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(2);
}

function option(name: string): string | undefined {
  const flag = process.argv.indexOf(name);
  if (flag === -1) return undefined;
  return process.argv[flag + 1] ?? fail(`${name} needs a value`);
}

/** The typed schema the gateway serves for one project, after reading its Lexicon once. */
async function projectSchema(wanted: string): Promise<GraphQLSchema> {
  let config = loadConfig(withEnvFile(process.env).env);
  // The demo Lexicon is the same at every data size: the small one starts fastest.
  const emulator = config.demo ? await createEmulator({ size: 'small' }) : undefined;
  if (emulator) config = withDemoProject(config, { ...DEMO_PROJECT, baseUrl: emulator.url });
  const project = config.projects.find((p) => p.key === wanted || p.projectId === wanted);
  if (!project) {
    await emulator?.close();
    fail(`No project "${wanted}"; configured: ${config.projects.map((p) => `${p.key} (${p.projectId})`).join(', ')}`);
  }
  const membership = createMemoryMembershipStore();
  const gateway = await createGateway({ ...config, host: '127.0.0.1', graphiql: false }, { port: 0, membership, logger: createLogger('warn') });
  try {
    const types = gateway.lexiconTypes.get(project.key)!;
    if (types.layer() === undefined) fail(`Could not read the Lexicon of project ${project.key}: see the warning above`);
    return types.current();
  } finally {
    await gateway.close();
    await membership.close();
    await emulator?.close();
  }
}

const project = option('--project');
const check = process.argv.includes('--check');
/** Undefined: stdout (a project's schema without --file). */
const SCHEMA_FILE =
  option('--file') ??
  (project === undefined
    ? fileURLToPath(new URL('../schema/schema.graphql', import.meta.url))
    : check
      ? fail('--check needs --file with --project')
      : undefined);

function readCommitted(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

const printed = `${printSchema(lexicographicSortSchema(project === undefined ? schema : await projectSchema(project)))}\n`;
if (SCHEMA_FILE === undefined) {
  process.stdout.write(printed);
} else if (check) {
  if (readCommitted(SCHEMA_FILE) !== printed) {
    process.stderr.write(`${SCHEMA_FILE} is out of date: run \`npm run schema\` and commit the result\n`);
    process.exit(1);
  }
  process.stdout.write(`${SCHEMA_FILE} is up to date\n`);
} else {
  mkdirSync(dirname(SCHEMA_FILE), { recursive: true });
  writeFileSync(SCHEMA_FILE, printed);
  process.stdout.write(`wrote ${SCHEMA_FILE}\n`);
}
