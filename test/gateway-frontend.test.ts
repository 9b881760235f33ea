/**
 * What a person opening the gateway in a browser gets: the landing page,
 * GraphiQL served with every asset from the gateway itself (nothing from
 * another host), its example tabs with working variables, and the SDL files
 * codegen reads, behind the API keys like introspection.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { parse, type OperationDefinitionNode } from 'graphql';
import { createClient } from 'graphql-ws';
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { exampleVariables } from '../src/server/graphiql.js';
import { restQuery } from './helpers/schema.js';
import { createTestApp, type TestApp } from './helpers/app.js';
import { startGateway } from './helpers/gateway.js';

const API_KEY = 'key-frontend-aaaaaaaaaaaa';
const read = (path: string) => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8');
/** Hosts yoga's stock GraphiQL and common font setups load from. */
const CDN = /https?:\/\/(unpkg\.com|cdn\.jsdelivr\.net|esm\.sh|fonts\.googleapis\.com|fonts\.gstatic\.com|cdnjs\.cloudflare\.com)/;

const html = (url: string, headers: Record<string, string> = {}) => fetch(url, { headers: { accept: 'text/html', ...headers } });
/** The same GET as `html`, through `app.fetch` (no socket). */
const appHtml = (app: TestApp, path: string, headers: Record<string, string> = {}) => app.fetch(path, { headers: { accept: 'text/html', ...headers } });

/** The options GraphiQL renders with, from the page's JSON data block. */
function pageOptions(page: string): { title: string; defaultTabs: { query: string; variables: string | null }[] } {
  const json = /<script type="application\/json" id="graphiql-options">(.*?)<\/script>/s.exec(page)?.[1];
  expect(json).toBeDefined();
  return JSON.parse(json!) as ReturnType<typeof pageOptions>;
}

describe('landing page', () => {
  it('links GraphiQL, the typed SDL, metrics and health, and loads nothing', async () => {
    const gw = await createTestApp();
    const response = await appHtml(gw, '/');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
    const page = await response.text();
    const links = [...page.matchAll(/href="([^"]+)"/g)].map((m) => m[1]);
    expect(links).toEqual(
      expect.arrayContaining(['/graphql', '/graphql/generic', '/schema.graphql', '/metrics', '/healthz', '/readyz', '/projects/default/graphql']),
    );
    expect(links.filter((link) => !link!.startsWith('/'))).toEqual([]);
    expect(page).not.toMatch(/<script|<link|src=/);
    for (const link of ['/graphql', '/graphql/generic', '/schema.graphql', '/metrics', '/projects/default/schema.graphql']) {
      expect({ link, status: (await appHtml(gw, link)).status }).toEqual({ link, status: 200 });
    }
  });

  it('is off, with GraphiQL and its assets, when GRAPHIQL=false', async () => {
    const gw = await createTestApp({ env: { GRAPHIQL: 'false' } });
    expect((await appHtml(gw, '/')).status).toBe(404);
    expect((await gw.fetch(`/graphiql/${'x'}/graphiql.js`)).status).toBe(404);
  });

  it('names no project when API keys lock the gateway', async () => {
    const gw = await createTestApp({ env: { GATEWAY_API_KEYS: API_KEY } });
    const page = await (await appHtml(gw, '/')).text();
    expect(page).not.toContain('/projects/default');
    expect(page).toContain('Authorization: Bearer');
  });
});

describe('GraphiQL', () => {
  it('loads every asset from the gateway, with content types and long caching, and nothing from a CDN', async () => {
    const gw = await startGateway();
    const page = await (await html(gw.graphqlUrl)).text();
    expect(page).not.toMatch(CDN);
    expect(page).not.toContain('https://');
    const assets = [...page.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    const options = pageOptions(page);
    expect(assets.length).toBe(4); // favicon, stylesheet, boot script, GraphiQL
    // boot.js names the three Monaco workers.
    const boot = await (await fetch(`${gw.url}${assets.find((a) => a.endsWith('/boot.js'))!}`)).text();
    const workers = [...boot.matchAll(/"(\/graphiql\/[^"]+\.worker\.js)"/g)].map((m) => m[1]!);
    expect(workers).toHaveLength(3);
    const types: Record<string, string> = { js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8', ico: 'image/x-icon' };
    for (const asset of [...assets, ...workers]) {
      expect(asset).toMatch(/^\/graphiql\/\d+\.\d+\.\d+\//);
      const response = await fetch(`${gw.url}${asset}`, { headers: { 'accept-encoding': 'identity' } });
      expect({ asset, status: response.status }).toEqual({ asset, status: 200 });
      expect(response.headers.get('content-type')).toBe(types[asset.split('.').pop()!]);
      expect(response.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      const body = await response.text();
      expect({ asset, cdn: CDN.exec(body)?.[0] }).toEqual({ asset, cdn: undefined });
      // Fonts and images in the stylesheet are inlined, never fetched.
      expect(body).not.toMatch(/url\(\s*["']?https?:/);
    }
    expect(options.title).toBe('Mixpanel GraphQL gateway: default');

    // Compressed for browsers that ask, byte for byte the same script.
    const script = assets.find((a) => a.endsWith('/graphiql.js'))!;
    const plain = Buffer.from(await (await fetch(`${gw.url}${script}`, { headers: { 'accept-encoding': 'identity' } })).arrayBuffer());
    const { request } = await import('node:http');
    const gzipped = await new Promise<{ encoding: string | undefined; body: Buffer }>((resolve, reject) => {
      request(`${gw.url}${script}`, { headers: { 'accept-encoding': 'gzip' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ encoding: res.headers['content-encoding'], body: Buffer.concat(chunks) }));
      })
        .on('error', reject)
        .end();
    });
    expect(gzipped.encoding).toBe('gzip');
    expect(gzipped.body.length).toBeLessThan(plain.length / 2);
    expect(gunzipSync(gzipped.body).equals(plain)).toBe(true);
    expect((await fetch(`${gw.url}/graphiql/0.0.0/graphiql.js`)).status).toBe(404);
  });

  it('opens on an introduction, then the examples its schema accepts, with real ids and dates of the last week', async () => {
    const gw = await createTestApp();
    const cohorts = await restQuery<{ id: number }[]>(gw.emulator, 'cohorts/list');
    const typed = pageOptions(await (await appHtml(gw, '/graphql')).text()).defaultTabs;
    const generic = pageOptions(await (await appHtml(gw, '/graphql/generic')).text()).defaultTabs;
    const names = (tabs: typeof typed) => tabs.map((tab) => /^(?:query|subscription) (\w+)/m.exec(tab.query)?.[1]);
    expect(names(typed)).toEqual([...names(generic), 'TypedEvents', 'TypedProfile']);
    expect(names(generic)).toContain('CohortMembers');
    expect(names(generic)).not.toContain('TypedEvents');
    expect(typed[0]!.query).toContain('/graphql/generic');
    expect(generic[0]!.query).toContain('Lexicon-typed one is at /graphql.');

    const variables = (name: string) => JSON.parse(typed.find((tab) => tab.query.includes(` ${name}(`))!.variables!) as Record<string, unknown>;
    const today = new Date().toISOString().slice(0, 10);
    const weekAgo = new Date(Date.now() - 6 * 86_400_000).toISOString().slice(0, 10);
    expect(variables('CohortMembers')).toEqual({ cohortId: expect.stringMatching(/^\d+$/) });
    expect(variables('CohortChanges')).toEqual({ cohortIds: [variables('CohortMembers')['cohortId']] });
    expect(cohorts.map((c) => String(c.id))).toContain(variables('CohortMembers')['cohortId']);
    expect(variables('ProfileActivity')).toEqual({ distinctId: expect.any(String), from: weekAgo, to: today });
    expect(variables('FunnelConversion')).toEqual({ funnelId: expect.stringMatching(/^\d+$/), from: weekAgo, to: today });

    // The ids were read once, through the budget: a second page costs nothing more.
    const calls = gw.emulator.calls('/api/query');
    await appHtml(gw, '/graphql');
    await appHtml(gw, '/graphql/generic');
    expect(gw.emulator.calls('/api/query')).toBe(calls);
  });

  it('is served without a key when API keys are set, without the project ids; the SDL files need a key', async () => {
    const gw = await createTestApp({ env: { GATEWAY_API_KEYS: API_KEY } });
    const calls = gw.emulator.calls('/api/query');
    const anonymous = await appHtml(gw, '/graphql');
    expect(anonymous.status).toBe(200);
    const tabs = pageOptions(await anonymous.text()).defaultTabs;
    expect(tabs.length).toBeGreaterThan(5);
    expect(tabs.map((tab) => tab.variables ?? '').join('\n')).not.toMatch(/cohortId|distinctId|funnelId/);
    expect(gw.emulator.calls('/api/query')).toBe(calls);
    const withKey = pageOptions(await (await appHtml(gw, '/graphql', { authorization: `Bearer ${API_KEY}` })).text()).defaultTabs;
    expect(withKey.map((tab) => tab.variables ?? '').join('\n')).toMatch(/"distinctId": "[^"]+"/);
    for (const path of ['/schema.graphql', '/schema/generic.graphql', '/projects/default/schema.graphql']) {
      expect({ path, status: (await gw.fetch(path)).status }).toEqual({ path, status: 401 });
      expect({ path, status: (await gw.fetch(path, { headers: { authorization: `Bearer ${API_KEY}` } })).status }).toEqual({ path, status: 200 });
    }
  });
});

describe('example variables', () => {
  it('cover the last 7 days up to today in the project timezone, and only variables the operation declares', () => {
    const operation = parse('query Q($from: Date!, $to: Date!, $cohortId: ID!) { __typename }').definitions[0] as OperationDefinitionNode;
    const at = Date.UTC(2026, 11, 1, 3); // 03:00 UTC: still 30 November in Los Angeles
    expect(exampleVariables(operation, { cohortId: '7', distinctId: 'u' }, at)).toEqual({ from: '2026-11-25', to: '2026-12-01', cohortId: '7' });
    expect(exampleVariables(operation, {}, at, 'America/Los_Angeles')).toEqual({ from: '2026-11-24', to: '2026-11-30' });
  });
});

describe('typed and generic endpoints', () => {
  it('serve their schema over HTTP, SSE and graphql-ws alike', async () => {
    const gw = await startGateway();
    const query = '{ __type(name: "SignUp") { name } }';
    const overWs = async (url: string) => {
      const client = createClient({ url: url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, retryAttempts: 0 });
      try {
        return await new Promise<unknown>((resolve, reject) => {
          client.subscribe({ query }, { next: (result) => resolve(result.data), error: reject, complete: () => undefined });
        });
      } finally {
        await client.dispose();
      }
    };
    const overSse = async (url: string) => {
      const response = await fetch(`${url}?query=${encodeURIComponent(query)}`, { headers: { accept: 'text/event-stream', 'x-graphql-yoga-csrf': '1' } });
      const text = await response.text();
      return (JSON.parse(/^data: (.+)$/m.exec(text)![1]!) as { data: unknown }).data;
    };
    for (const [url, expected] of [
      [gw.graphqlUrl, { __type: { name: 'SignUp' } }],
      [gw.gateway.genericGraphqlUrl, { __type: null }],
    ] as const) {
      const overHttp = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) });
      expect({ url, http: ((await overHttp.json()) as { data: unknown }).data }).toEqual({ url, http: expected });
      expect({ url, ws: await overWs(url) }).toEqual({ url, ws: expected });
      expect({ url, sse: await overSse(url) }).toEqual({ url, sse: expected });
    }
  });
});

describe('SDL files', () => {
  it('serve the typed schema of /graphql and the generic one, as `npm run schema` prints them', async () => {
    const gw = await createTestApp();
    const typed = await gw.fetch('/schema.graphql');
    expect(typed.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    // The demo Lexicon is the same at every emulator size: the committed demo SDL is what /graphql serves.
    expect(await typed.text()).toBe(read('schema/projects/demo.graphql'));
    expect(await (await gw.fetch('/projects/default/schema.graphql')).text()).toBe(read('schema/projects/demo.graphql'));
    expect(await (await gw.fetch('/schema/generic.graphql')).text()).toBe(read('schema/schema.graphql'));
  });
});
