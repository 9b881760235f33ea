/**
 * Gateways as child processes (`node --import tsx src/main.ts`), as they run
 * in production: each its own event loop, caches and Redis connections.
 * The URL comes from the start-up line.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';

export interface GatewayProcess {
  readonly child: ChildProcess;
  /** Origin, e.g. http://127.0.0.1:PORT. */
  readonly url: string;
  readonly graphqlUrl: string;
  /** SIGKILL, and waits for the exit. */
  kill(): Promise<void>;
  /** SIGTERM (graceful), and waits for the exit. */
  stop(): Promise<void>;
}

/** Starts one gateway process with `env` (plus PATH, loopback host, port 0, silent logs). */
export async function startGatewayProcess(env: Readonly<Record<string, string>>, timeoutMs = 90_000): Promise<GatewayProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: { PATH: process.env['PATH'] ?? '', HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'silent', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no start-up line within ${timeoutMs} ms: ${output}`)), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`gateway exited (${code}) before starting: ${output}`));
    });
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /Webhook:\s+(http:\/\/\S+?)\/webhooks/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
  });
  const exit = async (signal: NodeJS.Signals): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill(signal);
    await exited;
  };
  return { child, url, graphqlUrl: `${url}/graphql`, kill: () => exit('SIGKILL'), stop: () => exit('SIGTERM') };
}
