import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';

const MAIN = new URL('../src/emulator/main.ts', import.meta.url).pathname;
const TSX = new URL('../node_modules/.bin/tsx', import.meta.url).pathname;

function run(args: string[]) {
  const child = spawn(TSX, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return { child, out: () => stdout, err: () => stderr };
}

describe('standalone emulator', () => {
  it('exits 2 with a usage message on bad flags', async () => {
    const { child, err } = run(['--size', 'huge']);
    const [code] = await once(child, 'exit');
    expect(code).toBe(2);
    expect(err()).toContain('invalid --size: huge');
    expect(err()).toContain('Usage:');
  });

  it('prints its URL and demo credentials, serves, and stops on SIGTERM', async () => {
    const { child, out } = run(['--port', '0', '--size', 'small', '--seed', '7']);
    try {
      while (!out().includes('project token')) {
        if (child.exitCode !== null) throw new Error(`exited early with ${child.exitCode}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const url = /listening on (http:\/\/\S+)/.exec(out())?.[1];
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(out()).toContain('demo.7f3a2c.mp-service-account');
      const response = await fetch(`${url}/api/query/funnels/list?project_id=1000001`, {
        headers: { authorization: 'Basic demo.7f3a2c.mp-service-account:demo-secret' },
      });
      expect(response.status).toBe(200);
    } finally {
      child.kill('SIGTERM');
    }
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
  });
});
