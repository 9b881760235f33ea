import { execFile } from 'node:child_process';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { generate } from '@graphql-codegen/cli';
import { lexicographicSortSchema, printSchema } from 'graphql';
import { afterEach, describe, expect, it } from 'vitest';
import { clientPresetConfig } from '../codegen.js';
import { nameHash } from '../src/lexicon-types/naming.js';
import { PROJECT_KEY, retype, createTypedApp, uploadLexicon } from './helpers/lexicon-types.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const run = promisify(execFile);
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

const OPERATION = `query Awkward($day: Date!) {
  events(from: $day, to: $day) {
    ... on EventConnection {
      edges { node { __typename name ... on SignUp { plan seats _browser planType_${nameHash('Plan Type')} } } }
    }
  }
}`;

// Compiles only if the generated types carry the Lexicon types; the @ts-expect-error lines fail the build if they do not.
const USAGE = `import type { AwkwardQuery } from './generated/graphql.js';
type Node = Extract<NonNullable<AwkwardQuery['events']>, { edges: unknown }>['edges'][number]['node'];
type SignUp = Extract<Node, { __typename: 'SignUp' }>;
export function describeSignUp(event: SignUp): string {
  const plan: string | null | undefined = event.plan;
  const seats: number | null | undefined = event.seats;
  const browser: string | null | undefined = event._browser;
  // @ts-expect-error seats is documented as an integer
  const wrong: string | null | undefined = event.seats;
  // @ts-expect-error only documented properties are fields
  void event.undocumented;
  return [event.name, plan, seats, browser, event.planType_${nameHash('Plan Type')}, wrong].join(' ');
}
`;

describe('codegen over a project schema', () => {
  it('generates types that a typed operation compiles against', async () => {
    const gw = await createTypedApp();
    await uploadLexicon(gw.emulator, [
      {
        entityType: 'event',
        name: 'Sign Up',
        schemaJson: { properties: { plan: { type: 'string' }, seats: { type: 'integer' }, $browser: { type: 'string' }, 'Plan Type': { type: 'string' } } },
      },
    ]);
    await retype(gw);

    const dir = await mkdtemp(join(tmpdir(), 'lexicon-codegen-'));
    dirs.push(dir);
    await symlink(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
    const schema = gw.gateway.lexiconTypes.get(PROJECT_KEY)!.current();
    await writeFile(join(dir, 'project.graphql'), printSchema(lexicographicSortSchema(schema)));
    await writeFile(join(dir, 'awkward.graphql'), OPERATION);
    await generate(
      {
        cwd: dir,
        schema: join(dir, 'project.graphql'),
        documents: [join(dir, 'awkward.graphql')],
        emitLegacyCommonJSImports: false,
        silent: true,
        generates: { [join(dir, 'generated/')]: { preset: 'client', config: clientPresetConfig } },
      },
      true,
    );
    await writeFile(join(dir, 'usage.ts'), USAGE);
    await writeFile(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { strict: true, module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', noEmit: true, skipLibCheck: true, types: [] },
        files: ['usage.ts'],
      }),
    );
    await writeFile(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
    const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
    const result = await run(process.execPath, [tsc, '-p', join(dir, 'tsconfig.json')]).then(
      () => ({ ok: true, output: '' }),
      (error: { stdout?: string }) => ({ ok: false, output: error.stdout ?? String(error) }),
    );
    expect(result.output).toBe('');
    expect(result.ok).toBe(true);
  }, 30_000);
});
