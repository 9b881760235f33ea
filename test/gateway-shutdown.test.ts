/**
 * Liveness, readiness and graceful shutdown of a real gateway on loopback:
 * /healthz and /readyz answer JSON; close() lets a request in flight finish,
 * closes graphql-ws subscribers with 1001, completes SSE streams, and turns
 * /readyz to 503 while it drains. And main.ts exits on SIGTERM in time.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { createEmulator, DEMO_PROJECT } from '../src/emulator/server.js';
import { createTestApp } from './helpers/app.js';
import { startGateway, WEBHOOK_CREDENTIALS } from './helpers/gateway.js';
import { isProbeOf, publishCohortProbe, subscribe, type Subscriber } from './helpers/subscribers.js';

const CHANGES = 'subscription { cohortMembershipChanged(cohortIds: ["1"]) { cohortId sessionId } }';
const COHORTS = `{ cohorts { __typename ... on CohortConnection { nodes { id name } } ... on Error { code } } }`;

const subscribers: Subscriber[] = [];
afterEach(async () => {
  await Promise.all(subscribers.splice(0).map((s) => s.close()));
});

describe('health endpoints', () => {
  it('answers /healthz and /health with a small JSON body and /readyz with every dependency', async () => {
    const gw = await createTestApp();
    for (const path of ['/healthz', '/health']) {
      const response = await gw.fetch(path);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ status: 'alive', uptimeSeconds: expect.any(Number) });
    }
    const ready = await gw.fetch('/readyz');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', checks: { membership: { status: 'up' }, mixpanel: { status: 'up' } } });
  });

  it('reports Mixpanel as degraded, still with 200, when its host cannot be reached', async () => {
    const emulator = await createEmulator({ size: 'small' });
    const gw = await createTestApp({ emulator });
    await emulator.close();
    await new Promise((resolve) => setTimeout(resolve, 2100)); // past the report cache
    const ready = await gw.fetch('/readyz');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'degraded', checks: { mixpanel: { status: 'down' }, membership: { status: 'up' } } });
    expect((await gw.query('{ __typename }')).data).toEqual({ __typename: 'Query' });
  });
});

describe('graceful shutdown', () => {
  it('finishes a request in flight, closes graphql-ws with 1001, completes SSE, and is not ready meanwhile', async () => {
    const gw = await startGateway({ env: { SHUTDOWN_TIMEOUT_MS: '8000' } });
    const ws = subscribe({ url: gw.graphqlUrl, transport: 'ws', ignore: isProbeOf('cohortMembershipChanged') }, { query: CHANGES });
    const sse = subscribe({ url: gw.graphqlUrl, transport: 'sse', ignore: isProbeOf('cohortMembershipChanged') }, { query: CHANGES });
    subscribers.push(ws, sse);
    await Promise.all([ws, sse].map((s) => s.waitForProbe(() => publishCohortProbe(gw.gateway.pubsub, DEMO_PROJECT.projectId, '1'))));

    gw.emulator.setLatency(1500);
    const inFlight = gw.query(COHORTS);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const closed = gw.gateway.close();
    const readyWhileClosing = await fetch(`${gw.url}/readyz`).then(
      (r) => r.status,
      () => 'refused',
    );

    const answer = await inFlight;
    expect(answer.status).toBe(200);
    expect(answer.data?.['cohorts']?.__typename).toBe('CohortConnection');
    await closed;
    await ws.waitFor((s) => s.failure !== undefined || s.completed);
    expect((ws.failure as { code?: number } | undefined)?.code).toBe(1001);
    await sse.waitFor((s) => s.completed || s.failure !== undefined);
    expect(sse.completed).toBe(true);
    expect(sse.failure).toBeUndefined();
    // A new connection is refused once close() began; a probe on a kept-alive connection would get 503.
    expect(['refused', 503]).toContain(readyWhileClosing);
    expect(gw.gateway.server.listening).toBe(false);
  });

  it('exits on SIGTERM within its shutdown bound, with a graphql-ws subscriber connected', async () => {
    const emulator = await createEmulator({ size: 'small' });
    onTestFinished(() => emulator.close());
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: {
        PATH: process.env['PATH'] ?? '',
        HOST: '127.0.0.1',
        PORT: '0',
        LOG_LEVEL: 'info',
        MEMBERSHIP_STORE: 'memory',
        MIXPANEL_PROJECT_ID: DEMO_PROJECT.projectId,
        MIXPANEL_SERVICE_ACCOUNT_USERNAME: DEMO_PROJECT.username,
        MIXPANEL_SERVICE_ACCOUNT_SECRET: DEMO_PROJECT.secret,
        MIXPANEL_BASE_URL: emulator.url,
        WEBHOOK_USERNAME: WEBHOOK_CREDENTIALS.username,
        WEBHOOK_PASSWORD: WEBHOOK_CREDENTIALS.password,
        SHUTDOWN_TIMEOUT_MS: '3000',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    onTestFinished(() => void child.kill('SIGKILL'));
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const graphqlUrl = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no start-up line: ${stdout}`)), 20_000);
      child.stdout.on('data', () => {
        const match = /GraphQL:\s+(\S+)/.exec(stdout);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]!);
        }
      });
    });
    const ws = subscribe({ url: graphqlUrl, transport: 'ws' }, { query: CHANGES });
    subscribers.push(ws);
    await new Promise((resolve) => setTimeout(resolve, 300));

    const started = Date.now();
    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(0);
    expect(Date.now() - started).toBeLessThan(3000 + 5000);
    await ws.waitFor((s) => s.failure !== undefined || s.completed);
    expect((ws.failure as { code?: number } | undefined)?.code).toBe(1001);
  });
});
