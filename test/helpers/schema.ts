/**
 * Direct REST calls to the emulator, so schema tests compare the gateway's
 * answer with Mixpanel's own answer for the same data.
 */
import { DEMO_PROJECT, type Emulator } from '../../src/emulator/server.js';
import { createTestApp, type TestApp } from './app.js';
import { startGateway, type StartGatewayOptions, type TestGateway } from './gateway.js';

const AUTH = `Basic ${Buffer.from(`${DEMO_PROJECT.username}:${DEMO_PROJECT.secret}`).toString('base64')}`;

function withProject(params: Record<string, string | number>): URLSearchParams {
  return new URLSearchParams({ project_id: DEMO_PROJECT.projectId, ...Object.fromEntries(Object.entries(params).map(([k, v]) => [k, String(v)])) });
}

/** GET a Query API endpoint (`/api/query/<endpoint>`). */
export async function restQuery<T>(emulator: Emulator, endpoint: string, params: Record<string, string | number> = {}): Promise<T> {
  const response = await fetch(`${emulator.url}/api/query/${endpoint}?${withProject(params)}`, { headers: { authorization: AUTH } });
  if (!response.ok) throw new Error(`${endpoint}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

export interface RestEngageProfile {
  readonly $distinct_id: string;
  readonly $properties: Record<string, unknown>;
}

/** Every profile an engage query returns, through all its pages. */
export async function restEngageAll(emulator: Emulator, params: Record<string, string | number> = {}): Promise<RestEngageProfile[]> {
  const profiles: RestEngageProfile[] = [];
  let extra: Record<string, string | number> = {};
  for (;;) {
    const response = await fetch(`${emulator.url}/api/query/engage?project_id=${DEMO_PROJECT.projectId}`, {
      method: 'POST',
      headers: { authorization: AUTH, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(Object.fromEntries(Object.entries({ ...params, ...extra }).map(([k, v]) => [k, String(v)]))),
    });
    if (!response.ok) throw new Error(`engage: ${response.status} ${await response.text()}`);
    const page = (await response.json()) as { page: number; page_size: number; session_id: string; results: RestEngageProfile[] };
    profiles.push(...page.results);
    if (page.results.length < page.page_size) return profiles;
    extra = { session_id: page.session_id, page: page.page + 1 };
  }
}

/** Raw export JSONL, parsed. */
export async function restExport(
  emulator: Emulator,
  params: Record<string, string | number>,
): Promise<{ event: string; properties: Record<string, unknown> }[]> {
  const response = await fetch(`${emulator.url}/api/2.0/export?${withProject(params)}`, { headers: { authorization: AUTH } });
  if (!response.ok) throw new Error(`export: ${response.status} ${await response.text()}`);
  return (await response.text())
    .split('\n')
    .filter((line) => line.trim().startsWith('{'))
    .map((line) => JSON.parse(line) as { event: string; properties: Record<string, unknown> });
}

/** GET an App API path under the project (`/api/app/projects/{id}/<path>`), unwrapping `results`. */
export async function restApp<T>(emulator: Emulator, path: string, params: Record<string, string> = {}): Promise<T> {
  const query = new URLSearchParams(params);
  const response = await fetch(`${emulator.url}/api/app/projects/${DEMO_PROJECT.projectId}/${path}?${query}`, { headers: { authorization: AUTH } });
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  const body = (await response.json()) as { results?: T };
  return (body.results ?? body) as T;
}

/** A day relative to the emulator's today, `yyyy-mm-dd` (UTC). */
export function day(emulator: Emulator, offsetDays = 0): string {
  return new Date(emulator.clock.now() + offsetDays * 86_400_000).toISOString().slice(0, 10);
}

/**
 * A gateway over the small emulator whose own limits are lifted: the tests'
 * direct REST calls must not eat the budget the gateway accounts for (the
 * gateway still enforces Mixpanel's documented limits itself).
 */
const SCHEMA_GATEWAY: Pick<StartGatewayOptions, 'emulatorOptions'> = {
  emulatorOptions: {
    size: 'small',
    limits: { query: { perHour: 100_000, concurrent: 100 }, export: { perHour: 100_000, perSecond: 1_000 }, lexicon: { perMinute: 1_000 } },
  },
};

/** That gateway listening, for tests over WebSocket. */
export function startSchemaGateway(): Promise<TestGateway> {
  return startGateway(SCHEMA_GATEWAY);
}

/** That gateway without a socket (app.fetch). */
export function createSchemaApp(): Promise<TestApp> {
  return createTestApp(SCHEMA_GATEWAY);
}
