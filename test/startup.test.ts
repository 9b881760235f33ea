/**
 * Start-up as a person runs it: `.env` in the working folder (the real
 * environment wins), one line saying whether it runs in demo mode and why,
 * the printed start page answering, and `npm run schema -- --project KEY`
 * printing to stdout.
 */
import { spawn, execFile } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { loadConfig } from '../src/config/index.js';
import { createEmulator, DEMO_PROJECT } from '../src/emulator/server.js';
import { withEnvFile } from '../src/config/env-file.js';
import { ConfigError } from '../src/core/errors.js';
import { describeMode } from '../src/server/startup-banner.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const run = promisify(execFile);

const directory = mkdtempSync(join(tmpdir(), 'mpgw-startup-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));
let dirCount = 0;
function folderWith(envFile: string | undefined): string {
  const dir = join(directory, `cwd-${dirCount++}`);
  mkdirSync(dir);
  if (envFile !== undefined) writeFileSync(join(dir, '.env'), envFile);
  return dir;
}

describe('.env', () => {
  it('fills in what the environment leaves unset; the environment wins', () => {
    const dir = folderWith('# a comment\nMIXPANEL_PROJECT_ID=111\nPORT=5000\nexport LOG_LEVEL="warn"\n');
    const { env, path, fromFile } = withEnvFile({ PORT: '6000' }, dir);
    expect(path).toBe(join(dir, '.env'));
    expect(env).toMatchObject({ MIXPANEL_PROJECT_ID: '111', PORT: '6000', LOG_LEVEL: 'warn' });
    expect([...fromFile].sort()).toEqual(['LOG_LEVEL', 'MIXPANEL_PROJECT_ID']);
  });

  it('is optional, and an unreadable one is a configuration error', () => {
    expect(withEnvFile({ A: '1' }, folderWith(undefined))).toEqual({ env: { A: '1' }, path: undefined, fromFile: new Set() });
    const dir = folderWith(undefined);
    mkdirSync(join(dir, '.env')); // a folder: EISDIR
    expect(() => withEnvFile({}, dir)).toThrow(ConfigError);
  });
});

describe('mode line', () => {
  it('says demo mode and which variables it looked for, and where', () => {
    const none = withEnvFile({}, folderWith(undefined));
    expect(describeMode(loadConfig(none.env), none)).toBe(
      'demo mode: none of MIXPANEL_PROJECT_ID, MIXPANEL_SERVICE_ACCOUNT_USERNAME, MIXPANEL_SERVICE_ACCOUNT_SECRET, ' +
        'MIXPANEL_PROJECTS_FILE is set in the environment (no .env in the working folder); serving the built-in ' +
        'Mixpanel emulator with seeded data',
    );
    const dir = folderWith('LOG_LEVEL=warn\n');
    const unrelated = withEnvFile({}, dir);
    expect(describeMode(loadConfig(unrelated.env), unrelated)).toContain(`is set in the environment or ${join(dir, '.env')};`);
  });

  it('names the projects and where their settings came from', () => {
    const dir = folderWith(
      `MIXPANEL_PROJECT_ID=1234567\nMIXPANEL_SERVICE_ACCOUNT_USERNAME=u\nMIXPANEL_SERVICE_ACCOUNT_SECRET=s-not-printed\nWEBHOOK_USERNAME=mixpanel\nWEBHOOK_PASSWORD=webhook-password-0042\n`,
    );
    const fromFile = withEnvFile({ MIXPANEL_REGION: 'EU' }, dir);
    const line = describeMode(loadConfig(fromFile.env), fromFile);
    expect(line).toBe(`Mixpanel mode: project default (1234567, EU) (MIXPANEL_PROJECT_ID from ${join(dir, '.env')})`);
    expect(line).not.toContain('s-not-printed');
  });
});

describe('npm start', () => {
  it('reads .env from the working folder, prints the mode line and a start page that answers', async () => {
    const emulator = await createEmulator({ size: 'small' });
    onTestFinished(() => emulator.close());
    const cwd = folderWith(
      [
        `MIXPANEL_PROJECT_ID=${DEMO_PROJECT.projectId}`,
        `MIXPANEL_SERVICE_ACCOUNT_USERNAME=${DEMO_PROJECT.username}`,
        `MIXPANEL_SERVICE_ACCOUNT_SECRET=${DEMO_PROJECT.secret}`,
        `MIXPANEL_BASE_URL=${emulator.url}`,
        'MEMBERSHIP_STORE=memory',
        'WEBHOOK_USERNAME=mixpanel',
        'WEBHOOK_PASSWORD=webhook-password-0042',
        'PORT=0',
        'LOG_LEVEL=silent',
      ].join('\n'),
    );
    const child = spawn(process.execPath, ['--import', TSX, join(ROOT, 'src/main.ts')], {
      cwd,
      // The real environment wins over .env: HOST comes from here.
      env: { PATH: process.env['PATH'] ?? '', HOST: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    onTestFinished(async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await once(child, 'exit');
      }
    });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        if (stdout.includes('Emulator:') || /Health: .*\n/.test(stdout)) resolve();
      });
      child.once('exit', (code) => reject(new Error(`exited with ${code}: ${stderr}`)));
    });
    expect(stdout).toContain(`Mixpanel mode: project default (${DEMO_PROJECT.projectId}, US) (MIXPANEL_PROJECT_ID from ${join(cwd, '.env')})`);
    expect(stdout + stderr).not.toContain(DEMO_PROJECT.secret);
    const start = /Start page: +(http:\/\/127\.0\.0\.1:\d+\/)/.exec(stdout)?.[1];
    expect(start).toBeDefined();
    const page = await fetch(start!);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Mixpanel GraphQL gateway');
    expect(stdout).toMatch(/GraphQL: +http:\/\/127\.0\.0\.1:\d+\/graphql +\(project default, Lexicon-typed schema/);
    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(0);
  }, 60_000);
});

describe('npm run schema -- --project', () => {
  it('prints the typed SDL to stdout when no --file is given', async () => {
    const tsx = join(ROOT, 'node_modules/.bin/tsx');
    const { stdout } = await run(tsx, [join(ROOT, 'scripts/print-schema.ts'), '--project', 'default'], {
      cwd: folderWith(undefined),
      env: { PATH: process.env['PATH'] ?? '', LOG_LEVEL: 'silent', MEMBERSHIP_STORE: 'memory' },
      maxBuffer: 64 * 1024 * 1024,
    });
    expect(stdout).toBe(readFileSync(join(ROOT, 'schema/projects/demo.graphql'), 'utf8'));
  }, 60_000);
});
