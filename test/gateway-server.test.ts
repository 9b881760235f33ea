/**
 * Server-level behaviour of the gateway: API keys on every GraphQL transport,
 * graphql-ws operation errors, start-up on a busy port, and close() with
 * subscribers still connected.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:net';
import { createClient } from 'graphql-ws';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { WebSocket } from 'ws';
import { createEmulator, DEMO_PROJECT } from '../src/emulator/server.js';
import { createTestApp } from './helpers/app.js';
import { startGateway } from './helpers/gateway.js';
import { isProbeOf, publishCohortProbe, subscribe, type Subscriber } from './helpers/subscribers.js';

const API_KEY = 'key-aaaaaaaaaaaaaaaa';
const CHANGES = 'subscription { cohortMembershipChanged(cohortIds: ["1"]) { cohortId sessionId } }';

const subscribers: Subscriber[] = [];
const blockers: Server[] = [];
afterEach(async () => {
  await Promise.all(subscribers.splice(0).map((s) => s.close()));
  await Promise.all(blockers.splice(0).map((b) => new Promise((resolve) => b.close(resolve))));
});

describe('gateway server', () => {
  it('asks for the API key on a GET that accepts HTML when GraphiQL is off (no page to serve instead)', async () => {
    const gw = await createTestApp({ env: { GATEWAY_API_KEYS: API_KEY, GRAPHIQL: 'false' } });
    const query = `?query=${encodeURIComponent('{ __typename }')}`;
    for (const endpoint of ['/graphql', '/projects/default/graphql']) {
      const response = await gw.fetch(`${endpoint}${query}`, { headers: { accept: 'text/html, */*' } });
      expect(response.status).toBe(401);
      expect(await response.text()).not.toContain('"data"');
    }
  });

  it('still serves the GraphiQL page without a key when GraphiQL is on', async () => {
    const gw = await createTestApp({ env: { GATEWAY_API_KEYS: API_KEY } });
    const response = await gw.fetch('/graphql', { headers: { accept: 'text/html' } });
    expect(response.status).toBe(200);
    expect(await response.text()).toMatch(/^<!doctype html>/i);
  });

  it('answers through app.fetch without a socket, and refuses there the routes that stream through Node', async () => {
    const gw = await createTestApp();
    expect((await gw.fetch('/healthz')).status).toBe(200);
    expect((await gw.query('{ __typename }')).data).toEqual({ __typename: 'Query' });
    const missing = await gw.fetch('/projects/nope/graphql');
    expect(missing.status).toBe(404);
    expect(await missing.text()).not.toContain('default');
    const download = await gw.fetch('/projects/default/events.ndjson?from=2026-01-01&to=2026-01-02');
    expect(download.status).toBe(501);
    expect(gw.emulator.calls('/api/2.0/export')).toBe(0);
  });

  it('answers a graphql-ws syntax error with an error for that operation and keeps the socket open', async () => {
    const gw = await startGateway();
    const closes: number[] = [];
    const client = createClient({
      url: gw.graphqlUrl.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      lazyCloseTimeout: 60_000,
      on: { closed: (event) => closes.push((event as { code: number }).code) },
    });
    try {
      const run = (query: string) =>
        new Promise<unknown>((resolve, reject) => {
          const results: unknown[] = [];
          client.subscribe({ query }, { next: (r) => results.push(r), error: reject, complete: () => resolve(results) });
        });
      const failed = await run('{ nope').catch((error: unknown) => ({ rejected: error }));
      expect(JSON.stringify(failed)).toMatch(/Syntax Error/);
      expect(await run('{ __typename }')).toMatchObject([{ data: { __typename: 'Query' } }]);
      expect(closes).toEqual([]);
    } finally {
      await client.dispose();
    }
  });

  it('fails to start on a port in use with a clear message', async () => {
    const blocker = createServer();
    blockers.push(blocker);
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as { port: number };
    const error = await startGateway({ env: { PORT: String(port), HOST: '127.0.0.1' } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toBe(`Cannot listen on 127.0.0.1:${port}: the address is already in use (set PORT to a free port)`);
  });

  it('closes promptly while graphql-ws and SSE subscribers are still connected', async () => {
    const gw = await startGateway();
    for (const transport of ['ws', 'sse'] as const) {
      subscribers.push(subscribe({ url: gw.graphqlUrl, transport, ignore: isProbeOf('cohortMembershipChanged') }, { query: CHANGES }));
    }
    await Promise.all(subscribers.map((s) => s.waitForProbe(() => publishCohortProbe(gw.gateway.pubsub, DEMO_PROJECT.projectId, '1'))));
    await gw.close();
    expect(gw.gateway.server.listening).toBe(false);
  });
});

describe('main', () => {
  it('exits non-zero with a clear message when its port is in use', async () => {
    const blocker = createServer();
    blockers.push(blocker);
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as { port: number };
    const emulator = await createEmulator({ size: 'small' });
    onTestFinished(() => emulator.close());
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: {
        PATH: process.env['PATH'] ?? '',
        HOST: '127.0.0.1',
        PORT: String(port),
        LOG_LEVEL: 'silent',
        MEMBERSHIP_STORE: 'memory',
        MIXPANEL_PROJECT_ID: DEMO_PROJECT.projectId,
        MIXPANEL_SERVICE_ACCOUNT_USERNAME: DEMO_PROJECT.username,
        MIXPANEL_SERVICE_ACCOUNT_SECRET: DEMO_PROJECT.secret,
        MIXPANEL_BASE_URL: emulator.url,
        WEBHOOK_USERNAME: 'mixpanel',
        WEBHOOK_PASSWORD: 'test-webhook-password-0001',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(1);
    expect(stderr).toContain(`Cannot listen on 127.0.0.1:${port}: the address is already in use (set PORT to a free port)`);
    expect(stderr).not.toContain(DEMO_PROJECT.secret);
  });
});
