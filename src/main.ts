/**
 * The only side effects: read the configuration (the environment, then
 * `.env` in the working folder for what it leaves unset), start the demo
 * emulator when no Mixpanel credentials are given, listen, and stop cleanly
 * on a signal.
 */
import { loadConfig, withDemoProject } from './config/index.js';
import { ConfigError } from './core/errors.js';
import { createLogger } from './observability/logger.js';
import { createEmulator, DEMO_PROJECT, DEMO_PROJECT_OPTIONS, DEMO_TIMEZONE, type Emulator } from './emulator/server.js';
import { startDemoActivity, type DemoActivity } from './emulator/demo-activity.js';
import { withEnvFile, type EnvWithFile } from './config/env-file.js';
import { createGateway } from './server/gateway.js';
import { describeMode, startupBanner, startupHeader } from './server/startup-banner.js';

async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  let envFile: EnvWithFile;
  try {
    envFile = withEnvFile(process.env);
    config = loadConfig(envFile.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger(config.logLevel);
  process.stdout.write(startupHeader(describeMode(config, envFile)));

  let emulator: Emulator | undefined;
  if (config.demo) {
    emulator = await createEmulator({ size: 'demo', projects: [{ ...DEMO_PROJECT_OPTIONS, timezone: DEMO_TIMEZONE }] });
    config = withDemoProject(config, { ...DEMO_PROJECT, baseUrl: emulator.url, timezone: DEMO_TIMEZONE });
  }

  const gateway = await createGateway(config, { logger });
  let demoActivity: DemoActivity | undefined;
  if (emulator) {
    const { username, password } = config.webhook;
    demoActivity = startDemoActivity({
      data: emulator.data(DEMO_PROJECT.projectId),
      webhookUrl: `${gateway.url}${config.webhook.path}`,
      basicAuth: username && password ? { username, password } : undefined,
      logger,
    });
    // The first query of a newcomer should find the cohorts synced: membership then costs no Query call.
    await demoActivity.ready;
  }
  process.stdout.write(
    startupBanner({ config, url: gateway.url, genericGraphqlPath: new URL(gateway.genericGraphqlUrl).pathname, emulatorUrl: emulator?.url }),
  );

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) {
      // A second Ctrl-C: the user does not want to wait for the graceful part.
      process.exit(130);
    }
    stopping = true;
    logger.info(`${signal} received: finishing requests in flight, then closing (at most ${config.shutdownTimeoutMs} ms)`);
    // The gateway bounds its own close; this guards against anything else that would hang the exit.
    setTimeout(() => {
      logger.warn('shutdown took too long: exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs + FORCED_EXIT_GRACE_MS).unref();
    await demoActivity?.stop();
    await gateway.close();
    await emulator?.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

/** Time past the gateway's shutdown bound before the process exits regardless. */
const FORCED_EXIT_GRACE_MS = 5_000;

main().catch((error: unknown) => {
  process.stderr.write(`Failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
