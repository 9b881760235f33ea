/**
 * Typed clients: the committed codegen outputs (examples/generated over the
 * generic schema, examples/project-generated over the demo project's typed
 * schema, the one /graphql serves) are what `npm run codegen` makes from the
 * committed SDL and operations, and the typed client built on them
 * (examples/typed-client.ts, compiled by `npm run typecheck`) runs against
 * the gateway.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generate } from '@graphql-codegen/cli';
import { afterEach, describe, expect, it } from 'vitest';
import config from '../codegen.js';
import { signUpsAndRevenue } from '../examples/typed-client.js';
import { startGateway } from './helpers/gateway.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('codegen', () => {
  it('outputs in examples/ are up to date with the SDL and the operations (run `npm run codegen`)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'codegen-check-'));
    dirs.push(dir);
    const outputs = Object.entries(config.generates);
    expect(outputs.map(([out]) => out)).toEqual(['examples/generated/', 'examples/persisted/', 'examples/project-generated/']);
    await generate({ ...config, cwd: ROOT, silent: true, generates: Object.fromEntries(outputs.map(([out, target]) => [join(dir, out), target])) }, true);
    for (const [out] of outputs) {
      const files = (await readdir(join(dir, out))).sort();
      expect(files).toEqual((await readdir(join(ROOT, out))).sort());
      for (const file of files) {
        const fresh = await readFile(join(dir, out, file), 'utf8');
        expect({ file: `${out}${file}`, upToDate: fresh === (await readFile(join(ROOT, out, file), 'utf8')) }).toEqual({
          file: `${out}${file}`,
          upToDate: true,
        });
      }
    }
  }, 60_000);

  it('gives a typed client that reads typed events from /graphql', async () => {
    const gw = await startGateway();
    const today = new Date().toISOString().slice(0, 10);
    const weekAgo = new Date(Date.now() - 6 * 86_400_000).toISOString().slice(0, 10);
    const { plans, revenue } = await signUpsAndRevenue(gw.graphqlUrl, weekAgo, today);
    expect(Object.keys(plans).length).toBeGreaterThan(0);
    expect(Object.keys(plans)).not.toContain('unknown');
    expect(revenue).toBeGreaterThan(0);
  });
});
