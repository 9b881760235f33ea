/**
 * Standalone emulator:
 *   node dist/emulator/main.js [--port N] [--host H] [--seed S] [--size demo|small] [--time-scale X] [--timezone Z]
 * Prints its URL and the demo credentials; stops cleanly on SIGINT/SIGTERM.
 */
import { parseArgs } from 'node:util';
import { createEmulator, DEMO_PROJECT, DEMO_PROJECT_OPTIONS, type EmulatorOptions } from './server.js';

const USAGE = `Usage: node dist/emulator/main.js [options]
  --port N          port to listen on (default 4100; 0 = any free port)
  --host H          interface to listen on (default 127.0.0.1)
  --seed S          seed of the generated data (default 1)
  --size demo|small data size (default demo)
  --time-scale X    emulated ms per real ms, e.g. 60 = one hour per minute (default 1)
  --timezone Z      the demo project's timezone, an IANA name such as America/Los_Angeles (default UTC)
  --help            show this message`;

class UsageError extends Error {}

/** A fixed default, so a standalone emulator has a URL people can put in MIXPANEL_BASE_URL. */
const DEFAULT_PORT = 4100;

function numberFlag(value: string | undefined, name: string, check: (n: number) => boolean): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !check(n)) throw new UsageError(`invalid --${name}: ${value}`);
  return n;
}

function checkTimezone(name: string): string {
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    throw new UsageError(`invalid --timezone: ${name} (expected an IANA name such as America/Los_Angeles)`);
  }
}

function parseOptions(argv: string[]): EmulatorOptions | 'help' {
  let values: { port?: string; host?: string; seed?: string; size?: string; 'time-scale'?: string; timezone?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        seed: { type: 'string' },
        size: { type: 'string' },
        'time-scale': { type: 'string' },
        timezone: { type: 'string' },
        help: { type: 'boolean' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) return 'help';
  const size = values.size ?? 'demo';
  if (size !== 'demo' && size !== 'small') throw new UsageError(`invalid --size: ${size} (expected demo or small)`);
  return {
    port: numberFlag(values.port, 'port', (n) => Number.isInteger(n) && n >= 0 && n <= 65_535) ?? DEFAULT_PORT,
    host: values.host,
    seed: numberFlag(values.seed, 'seed', Number.isInteger),
    size,
    timeScale: numberFlag(values['time-scale'], 'time-scale', (n) => Number.isFinite(n) && n > 0),
    ...(values.timezone === undefined ? {} : { projects: [{ ...DEMO_PROJECT_OPTIONS, timezone: checkTimezone(values.timezone) }] }),
  };
}

async function main(): Promise<void> {
  let options: EmulatorOptions | 'help';
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`${error.message}\n\n${USAGE}\n`);
    process.exit(2);
  }
  if (options === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const emulator = await createEmulator(options);
  // The demo credentials are public fixtures of the emulator, not secrets.
  process.stdout.write(
    [
      `Mixpanel emulator listening on ${emulator.url}`,
      `  base URL (query, export, ingestion, app): ${emulator.url}`,
      `  project id:               ${DEMO_PROJECT.projectId}`,
      `  service account username: ${DEMO_PROJECT.username}`,
      `  service account secret:   ${DEMO_PROJECT.secret}`,
      `  project token:            ${DEMO_PROJECT.token}`,
      '',
    ].join('\n'),
  );
  const stop = (): void => {
    emulator.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`emulator failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
