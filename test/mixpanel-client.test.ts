import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { Agent } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createEmulator, DEMO_PROJECT, type Emulator, type EmulatorOptions } from '../src/emulator/server.js';
import { createMixpanelClient, type MixpanelClientOptions } from '../src/mixpanel/client.js';
import {
  BadRequestError,
  ForbiddenError,
  RateLimitedError,
  UnauthorizedError,
  UpstreamError,
  UpstreamNotFoundError,
  UpstreamTimeoutError,
} from '../src/mixpanel/errors.js';
import { HOST_FAMILIES, REGION_BASE_URLS, resolveBaseUrls } from '../src/mixpanel/hosts.js';
import { parseRetryAfter } from '../src/mixpanel/http.js';
import type { BaseUrls, HostFamily, MixpanelClient } from '../src/mixpanel/types.js';
import { Secret } from '../src/core/secret.js';

const INTEGRATION_ID = 'gateway-test-suite';
const today = new Date().toISOString().slice(0, 10);
const daysAgo = (days: number) => new Date(Date.now() - days * 86_400_000).toISOString().slice(0, 10);
const nowSeconds = () => Math.floor(Date.now() / 1000);

// ---------- a registry that tears down everything a test starts ----------
const clients = new Set<MixpanelClient>();
const emulators = new Set<Emulator>();
const servers = new Set<{ close(): Promise<void> }>();
afterEach(async () => {
  await Promise.all([...clients].map((c) => c.close()));
  clients.clear();
  await Promise.all([...emulators].map((e) => e.close()));
  emulators.clear();
  await Promise.all([...servers].map((s) => s.close()));
  servers.clear();
});

async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const emulator = await createEmulator({ size: 'small', ...options });
  emulators.add(emulator);
  return emulator;
}

function client(baseUrls: BaseUrls, overrides: Partial<MixpanelClientOptions> = {}): MixpanelClient {
  const created = createMixpanelClient({
    projectId: DEMO_PROJECT.projectId,
    serviceAccount: { username: DEMO_PROJECT.username, secret: new Secret(DEMO_PROJECT.secret) },
    projectToken: new Secret(DEMO_PROJECT.token),
    baseUrls,
    integrationId: INTEGRATION_ID,
    ...overrides,
  });
  clients.add(created);
  return created;
}

interface Captured {
  readonly method: string;
  readonly url: URL;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  readonly socketId: number;
}

/** A plain loopback server recording what the client sends on the wire. */
async function startCaptureServer(answer: (request: Captured, response: ServerResponse) => void) {
  const captured: Captured[] = [];
  const sockets = new WeakMap<object, number>();
  let nextSocket = 0;
  const server = createServer(async (request: IncomingMessage, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    if (!sockets.has(request.socket)) sockets.set(request.socket, nextSocket++);
    const entry: Captured = {
      method: request.method ?? '',
      url: new URL(request.url ?? '/', 'http://capture'),
      headers: request.headers,
      body: Buffer.concat(chunks).toString('utf8'),
      socketId: sockets.get(request.socket)!,
    };
    captured.push(entry);
    answer(entry, response);
  });
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const handle = {
    url,
    baseUrls: { query: url, export: url, ingestion: url, app: url } as BaseUrls,
    captured,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  servers.add(handle);
  return handle;
}

const json = (response: ServerResponse, status: number, body: unknown, gzip = false) => {
  const raw = Buffer.from(JSON.stringify(body));
  const payload = gzip ? gzipSync(raw) : raw;
  response.writeHead(status, { 'content-type': 'application/json', ...(gzip ? { 'content-encoding': 'gzip' } : {}) }).end(payload);
};

describe('Mixpanel client against the emulator', () => {
  let shared: Emulator;
  beforeAll(async () => {
    shared = await createEmulator({ size: 'small' });
  });
  afterAll(async () => {
    await shared.close();
  });
  afterEach(() => {
    shared.faults.clear();
  });

  it('calls Query, App and Export endpoints with project_id and returns typed results', async () => {
    const mixpanel = client(shared.baseUrls, { workspaceId: '42' });
    shared.resetCalls();

    const page = await mixpanel.engage({ pageSize: 5, outputProperties: ['$email'] });
    expect(page.results).toHaveLength(5);
    expect(page.page).toBe(0);
    const cohorts = await mixpanel.cohortsList();
    expect(cohorts.length).toBeGreaterThan(0);
    expect(typeof cohorts[0]?.id).toBe('number');
    const members = await mixpanel.engage({ filterByCohort: String(cohorts[0]!.id), pageSize: 1 });
    expect(members.results.length).toBeLessThanOrEqual(1);
    const series = await mixpanel.segmentation({ event: 'View Page', fromDate: daysAgo(7), toDate: today });
    expect(Array.isArray(series.data.series)).toBe(true);
    const schemas = await mixpanel.lexiconList('event');
    expect(schemas.every((s) => s.entityType === 'event')).toBe(true);

    const engageCall = shared.callLog.find((c) => c.path === '/api/query/engage');
    expect(engageCall?.method).toBe('POST');
    expect(engageCall?.params).toMatchObject({ project_id: DEMO_PROJECT.projectId, workspace_id: '42', page_size: '5' });
    // List params travel as JSON-array strings.
    expect(engageCall?.params.output_properties).toBe('["$email"]');
    expect(shared.callLog.find((c) => c.params.filter_by_cohort !== undefined)?.params.filter_by_cohort).toBe(`{"id":${cohorts[0]!.id}}`);
    expect(shared.callLog.find((c) => c.path === '/api/query/cohorts/list')?.method).toBe('POST');
    expect(shared.callLog.find((c) => c.path === '/api/query/segmentation')?.params.project_id).toBe(DEMO_PROJECT.projectId);
    expect(shared.calls(`/api/app/projects/${DEMO_PROJECT.projectId}/schemas/event`)).toBe(1);
  });

  it('adds $source to every tracked and imported event', async () => {
    const mixpanel = client(shared.baseUrls);
    const time = nowSeconds();
    await mixpanel.track([{ event: 'Client Track Test', properties: { distinct_id: 'source-user', time, $insert_id: 'track-src-1' } }]);
    const result = await mixpanel.importEvents([{ event: 'Client Import Test', properties: { distinct_id: 'source-user', time, $insert_id: 'import-src-1' } }]);
    expect(result.num_records_imported).toBe(1);

    const written = shared.data().events.filter((e) => e.event === 'Client Track Test' || e.event === 'Client Import Test');
    expect(written).toHaveLength(2);
    for (const event of written) expect(event.properties.$source).toBe(INTEGRATION_ID);
    expect(shared.callLog.find((c) => c.path === '/import')?.params).toMatchObject({ strict: '1', project_id: DEMO_PROJECT.projectId });
  });

  it('returns /import partial success (failed_records) instead of throwing', async () => {
    const mixpanel = client(shared.baseUrls);
    const result = await mixpanel.importEvents([
      { event: 'Partial Ok', properties: { distinct_id: 'p1', time: nowSeconds(), $insert_id: 'partial-ok-1' } },
      { event: 'Partial Bad', properties: { distinct_id: 'p1', time: 1, $insert_id: 'partial-bad-1' } },
    ]);
    expect(result.num_records_imported).toBe(1);
    expect(result.failed_records?.[0]).toMatchObject({ index: 1, field: 'properties.time' });
  });

  it('applies profile and group updates with the project token', async () => {
    const mixpanel = client(shared.baseUrls);
    await mixpanel.engageUpdate([{ $distinct_id: 'engage-update-user', $set: { plan: 'gold' } }]);
    expect(shared.data().profiles.get('engage-update-user')?.properties.plan).toBe('gold');
    await mixpanel.groupsUpdate([{ $group_key: 'company', $group_id: 'acme-test', $set: { tier: 'A' } }]);
    expect(shared.data().groups.get('company')?.get('acme-test')?.properties.tier).toBe('A');
  });

  it('refuses token-based ingestion when no project token is configured, without sending', async () => {
    const mixpanel = client(shared.baseUrls, { projectToken: undefined });
    shared.resetCalls();
    await expect(mixpanel.track([{ event: 'x', properties: {} }])).rejects.toBeInstanceOf(UnauthorizedError);
    expect(shared.calls('/track')).toBe(0);
  });

  it('401 from a wrong secret → UnauthorizedError that never quotes the credentials', async () => {
    const secret = 'wrong-secret-value-123';
    const mixpanel = client(shared.baseUrls, {
      serviceAccount: { username: DEMO_PROJECT.username, secret: new Secret(secret) },
    });
    const basic = Buffer.from(`${DEMO_PROJECT.username}:${secret}`).toString('base64');
    for (const call of [() => mixpanel.cohortsList(), () => mixpanel.lexiconList(), () => mixpanel.annotationTags()]) {
      const error = await call().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UnauthorizedError);
      expect((error as UnauthorizedError).status).toBe(401);
      const printed = `${(error as Error).message} ${JSON.stringify(error)} ${(error as Error).stack}`;
      expect(printed).toContain('Unable to authenticate request');
      expect(printed).not.toContain(secret);
      expect(printed).not.toContain(basic);
      expect(printed.toLowerCase()).not.toContain('authorization');
    }
  });

  it('scrubs a secret that an upstream body echoes back', async () => {
    shared.faults.inject({
      path: '/api/query/cohorts/list',
      kind: 'status',
      status: 400,
      body: JSON.stringify({ error: `bad credential ${DEMO_PROJECT.secret}` }),
      times: 1,
    });
    const error = await client(shared.baseUrls)
      .cohortsList()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BadRequestError);
    expect((error as Error).message).toContain('bad credential [redacted]');
    expect((error as Error).message).not.toContain(DEMO_PROJECT.secret);
  });

  it('scrubs the project token from a rejected ingestion batch’s reason', async () => {
    const server = await startCaptureServer((_request, response) => json(response, 200, { status: 0, error: `token ${DEMO_PROJECT.token} is not valid` }));
    const error = await client(server.baseUrls)
      .track([{ event: 'x', properties: {} }])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BadRequestError);
    expect((error as Error).message).toContain('token [redacted] is not valid');
    expect((error as Error).message).not.toContain(DEMO_PROJECT.token);
  });

  it('400 → BadRequestError carrying Mixpanel’s message (Query, Export and App bodies)', async () => {
    const mixpanel = client(shared.baseUrls);
    const query = await mixpanel.engage({ page: 1 }).catch((e: unknown) => e);
    expect(query).toBeInstanceOf(BadRequestError);
    expect((query as BadRequestError).status).toBe(400);
    expect((query as Error).message).toContain('session_id is required');

    const iterator = mixpanel.exportEvents({ fromDate: daysAgo(2), toDate: today, limit: 200_000 })[Symbol.asyncIterator]();
    const exported = await iterator.next().catch((e: unknown) => e);
    expect(exported).toBeInstanceOf(BadRequestError);
    expect((exported as Error).message).toContain('limit cannot be over 100000');

    const app = await mixpanel.lexiconUpload([{ entityType: 'event', name: '', schemaJson: {} }]).catch((e: unknown) => e);
    expect(app).toBeInstanceOf(BadRequestError);
    expect((app as BadRequestError).family).toBe('lexicon');
  });

  it('404 → UpstreamNotFoundError', async () => {
    // Mixpanel documents no 404 for an unknown annotation; the status is injected.
    shared.faults.inject({ path: `/api/app/projects/${DEMO_PROJECT.projectId}/annotations/987654`, kind: 'status', status: 404, times: 1 });
    const error = await client(shared.baseUrls)
      .annotationGet(987_654)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamNotFoundError);
    expect((error as UpstreamNotFoundError).status).toBe(404);
  });

  it('402 and 403 → ForbiddenError', async () => {
    shared.faults.inject({ path: '/api/query/engage', kind: 'status', status: 402, times: 1 });
    const payment = await client(shared.baseUrls)
      .engage({})
      .catch((e: unknown) => e);
    expect(payment).toBeInstanceOf(ForbiddenError);
    expect((payment as ForbiddenError).status).toBe(402);

    const other = await startEmulator({
      projects: [
        { projectId: DEMO_PROJECT.projectId, token: DEMO_PROJECT.token, serviceAccounts: [{ username: DEMO_PROJECT.username, secret: DEMO_PROJECT.secret }] },
        { projectId: '2000002', token: 'other-token', serviceAccounts: [{ username: 'other.sa', secret: 'other-secret' }] },
      ],
    });
    const forbidden = await client(other.baseUrls, { projectId: '2000002' })
      .cohortsList()
      .catch((e: unknown) => e);
    expect(forbidden).toBeInstanceOf(ForbiddenError);
    expect((forbidden as ForbiddenError).status).toBe(403);
  });

  it('5xx → retryable UpstreamError; non-JSON or unexpected bodies → UpstreamError', async () => {
    const mixpanel = client(shared.baseUrls);
    shared.faults.inject({ path: '/api/query/cohorts/list', kind: 'status', status: 503, times: 1 });
    const unavailable = await mixpanel.cohortsList().catch((e: unknown) => e);
    expect(unavailable).toBeInstanceOf(UpstreamError);
    expect((unavailable as UpstreamError).status).toBe(503);
    expect((unavailable as UpstreamError).retryable).toBe(true);

    shared.faults.inject({ path: '/api/query/cohorts/list', kind: 'status', status: 200, body: '<html>maintenance</html>', times: 1 });
    const garbage = await mixpanel.cohortsList().catch((e: unknown) => e);
    expect(garbage).toBeInstanceOf(UpstreamError);
    expect((garbage as Error).message).toMatch(/not JSON/);

    shared.faults.inject({ path: '/api/query/engage', kind: 'status', status: 200, body: '{"status":"ok","results":"nope"}', times: 1 });
    const shape = await mixpanel.engage({}).catch((e: unknown) => e);
    expect(shape).toBeInstanceOf(UpstreamError);
    expect((shape as Error).message).toMatch(/unexpected body for engage/);

    shared.faults.inject({ path: '/api/query/cohorts/list', kind: 'status', status: 502, body: '<html><body>Bad Gateway</body></html>', times: 1 });
    const html = await mixpanel.cohortsList().catch((e: unknown) => e);
    expect(html).toBeInstanceOf(UpstreamError);
    expect((html as Error).message).not.toContain('<html>');
  });

  it('a hanging call → UpstreamTimeoutError after timeoutMs; an aborted one rejects with the abort reason', async () => {
    shared.faults.inject({ path: '/api/query/cohorts/list', kind: 'hang', times: 2 });
    const mixpanel = client(shared.baseUrls, { timeoutMs: 200 });
    const timedOut = await mixpanel.cohortsList().catch((e: unknown) => e);
    expect(timedOut).toBeInstanceOf(UpstreamTimeoutError);
    expect((timedOut as UpstreamTimeoutError).retryable).toBe(true);

    const controller = new AbortController();
    const reason = new Error('client went away');
    const pending = client(shared.baseUrls).cohortsList({ signal: controller.signal });
    setTimeout(() => controller.abort(reason), 50);
    await expect(pending).rejects.toBe(reason);
  });

  it('a per-call timeoutMs overrides the client default', async () => {
    shared.faults.inject({ path: '/api/query/funnels/list', kind: 'hang', times: 1 });
    const error = await client(shared.baseUrls)
      .funnelsList({ timeoutMs: 150 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamTimeoutError);
  });

  it('a refused connection → UpstreamError without a status', async () => {
    const capture = await startCaptureServer(() => undefined);
    const deadUrl = capture.url;
    await capture.close();
    servers.delete(capture);
    const error = await client(resolveBaseUrls('US', { baseUrl: deadUrl }))
      .cohortsList()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamError);
    expect((error as UpstreamError).status).toBeUndefined();
    expect((error as UpstreamError).retryable).toBe(true);
  });
});

describe('rate limits (429)', () => {
  it('the Query 429 after the hourly limit → RateLimitedError with Mixpanel’s message', async () => {
    const emulator = await startEmulator({ limits: { query: { perHour: 2 } } });
    const mixpanel = client(emulator.baseUrls);
    await mixpanel.cohortsList();
    await mixpanel.funnelsList();
    const error = await mixpanel.cohortsList().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitedError);
    expect((error as RateLimitedError).family).toBe('query');
    expect((error as RateLimitedError).status).toBe(429);
    expect((error as Error).message).toMatch(/rate limit exceeded/i);
    expect(emulator.calls('/api/query')).toBe(3);
  });

  it('the export 429 carries Retry-After as retryAfterMs', async () => {
    const emulator = await startEmulator();
    emulator.faults.inject({ path: '/api/2.0/export', kind: 'rate-limit', times: 1 });
    const iterator = client(emulator.baseUrls)
      .exportEvents({ fromDate: daysAgo(1), toDate: today })
      [Symbol.asyncIterator]();
    const error = await iterator.next().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitedError);
    expect((error as RateLimitedError).family).toBe('export');
    expect((error as RateLimitedError).retryAfterMs).toBe(1000);
  });

  it('parses Retry-After as seconds or an HTTP-date', () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(parseRetryAfter('30', now)).toBe(30_000);
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:10 GMT', now)).toBe(10_000);
    expect(parseRetryAfter('Tue, 31 Dec 2024 00:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});

describe('what goes on the wire', () => {
  it('sends the integration id on every call, Basic auth only where a service account applies, and reuses connections', async () => {
    const capture = await startCaptureServer((request, response) => {
      if (request.url.pathname === '/track') return json(response, 200, { status: 1, error: null });
      if (request.url.pathname === '/api/query/cohorts/list') return json(response, 200, [], true);
      return json(response, 200, { status: 'ok', results: [] });
    });
    const mixpanel = client(capture.baseUrls, { userAgent: 'test-agent/1' });
    await mixpanel.cohortsList();
    await mixpanel.lexiconList();
    await mixpanel.track([{ event: 'Wire', properties: { distinct_id: 'w1', $source: 'caller' } }]);

    expect(capture.captured).toHaveLength(3);
    for (const request of capture.captured) {
      expect(request.headers['x-mixpanel-integration-id']).toBe(INTEGRATION_ID);
      expect(request.headers['accept-encoding']).toContain('gzip');
      expect(request.headers['user-agent']).toBe('test-agent/1');
    }
    const [cohorts, lexicon, track] = capture.captured;
    const basic = `Basic ${Buffer.from(`${DEMO_PROJECT.username}:${DEMO_PROJECT.secret}`).toString('base64')}`;
    expect(cohorts?.headers.authorization).toBe(basic);
    expect(cohorts?.url.searchParams.get('project_id')).toBe(DEMO_PROJECT.projectId);
    expect(cohorts?.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(lexicon?.url.pathname).toBe(`/api/app/projects/${DEMO_PROJECT.projectId}/schemas`);
    expect(lexicon?.url.searchParams.has('project_id')).toBe(false);
    expect(track?.headers.authorization).toBeUndefined();
    expect(JSON.parse(track?.body ?? '')).toEqual([{ event: 'Wire', properties: { distinct_id: 'w1', token: DEMO_PROJECT.token, $source: INTEGRATION_ID } }]);
    // A keep-alive pool per origin: sequential calls reuse its connections instead of opening one each.
    for (let i = 0; i < 5; i++) await mixpanel.lexiconList();
    expect(capture.captured).toHaveLength(8);
    expect(new Set(capture.captured.map((c) => c.socketId)).size).toBeLessThanOrEqual(2);
  });

  it('uses a shared dispatcher and leaves it open on close()', async () => {
    const capture = await startCaptureServer((_request, response) => json(response, 200, []));
    const agent = new Agent();
    try {
      const first = client(capture.baseUrls, { dispatcher: agent });
      await first.funnelsList();
      await first.close();
      await expect(client(capture.baseUrls, { dispatcher: agent }).funnelsList()).resolves.toEqual([]);
      expect(capture.captured).toHaveLength(2);
    } finally {
      await agent.close();
    }
  });

  it('decompresses gzip JSON answers', async () => {
    const capture = await startCaptureServer((_request, response) => json(response, 200, ['a', 'b'], true));
    await expect(client(capture.baseUrls).eventsNames({ type: 'general' })).resolves.toEqual(['a', 'b']);
  });
});

describe('hosts', () => {
  it('maps each region to its hosts', () => {
    expect(resolveBaseUrls('US')).toEqual({
      query: 'https://mixpanel.com',
      export: 'https://data.mixpanel.com',
      ingestion: 'https://api.mixpanel.com',
      app: 'https://mixpanel.com',
    });
    expect(resolveBaseUrls('EU')).toEqual({
      query: 'https://eu.mixpanel.com',
      export: 'https://data-eu.mixpanel.com',
      ingestion: 'https://api-eu.mixpanel.com',
      app: 'https://eu.mixpanel.com',
    });
    expect(resolveBaseUrls('IN')).toEqual({
      query: 'https://in.mixpanel.com',
      export: 'https://data-in.mixpanel.com',
      ingestion: 'https://api-in.mixpanel.com',
      app: 'https://in.mixpanel.com',
    });
  });

  it('lets one base URL replace every host, and per-family overrides win', () => {
    const urls = resolveBaseUrls('EU', { baseUrl: 'http://proxy:8080/', overrides: { export: 'http://export:9000' } });
    expect(urls).toEqual({ query: 'http://proxy:8080', export: 'http://export:9000', ingestion: 'http://proxy:8080', app: 'http://proxy:8080' });
    expect(resolveBaseUrls('IN', { overrides: { app: 'http://app' } })).toEqual({ ...REGION_BASE_URLS.IN, app: 'http://app' });
  });

  it('routes each host family to its own base URL (two emulators)', async () => {
    const [main, alternate] = await Promise.all([startEmulator(), startEmulator()]);
    const callOf: Record<HostFamily, { path: string; run: (c: MixpanelClient) => Promise<unknown> }> = {
      query: { path: '/api/query/cohorts/list', run: (c) => c.cohortsList() },
      export: {
        path: '/api/2.0/export',
        run: async (c) => {
          for await (const _ of c.exportEvents({ fromDate: today, toDate: today, limit: 1 })) break;
        },
      },
      ingestion: { path: '/track', run: (c) => c.track([{ event: 'Routed', properties: { distinct_id: 'r1', time: nowSeconds() } }]) },
      app: { path: `/api/app/projects/${DEMO_PROJECT.projectId}/annotations`, run: (c) => c.annotationsList({}) },
    };
    for (const family of HOST_FAMILIES) {
      main.resetCalls();
      alternate.resetCalls();
      const baseUrls = resolveBaseUrls('US', { baseUrl: main.url, overrides: { [family]: alternate.url } });
      await callOf[family].run(client(baseUrls));
      expect(alternate.calls(callOf[family].path), family).toBe(1);
      expect(main.calls('/'), family).toBe(0);
    }
  });
});
