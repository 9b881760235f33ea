/**
 * Helpers of the Lexicon-typed schema tests: a gateway whose Lexicon budget
 * leaves room for test edits, queries on a project endpoint, and direct
 * Lexicon and /import calls to the emulator.
 */
import { expect } from 'vitest';
import { DEMO_PROJECT, type Emulator } from '../../src/emulator/server.js';
import type { LexiconSchemaEntry } from '../../src/mixpanel/types.js';
import { createTestApp, type CreateTestAppOptions, type TestApp } from './app.js';
import type { GatewayUnderTest, GraphQLResponse } from './gateway.js';

const AUTH = `Basic ${Buffer.from(`${DEMO_PROJECT.username}:${DEMO_PROJECT.secret}`).toString('base64')}`;
export const PROJECT_KEY = 'default';

/** Lexicon allows 5 calls a minute: tests that edit it lift both the emulator's and the gateway's limit. */
const TYPED_GATEWAY: Pick<CreateTestAppOptions, 'emulatorOptions' | 'env'> = {
  emulatorOptions: { size: 'small', limits: { lexicon: { perMinute: 1_000 }, export: { perHour: 10_000, perSecond: 1_000 } } },
  env: { LIMIT_LEXICON_PER_MINUTE: '1000', LIMIT_EXPORT_PER_HOUR: '10000', LIMIT_EXPORT_PER_SECOND: '1000' },
};

/** That gateway, without a socket (app.fetch). */
export function createTypedApp(): Promise<TestApp> {
  return createTestApp(TYPED_GATEWAY);
}

/** A query on a project endpoint (`/projects/{key}/graphql`), which serves the typed schema. */
export function projectQuery<T = Record<string, any>>(
  gw: GatewayUnderTest,
  document: string,
  variables?: Record<string, unknown>,
): Promise<GraphQLResponse<T>> {
  return gw.query<T>(document, variables, undefined, `/projects/${PROJECT_KEY}/graphql`);
}

/** Uploads schemas through the emulator's Lexicon API, as another Lexicon client would. */
export async function uploadLexicon(emulator: Emulator, entries: readonly LexiconSchemaEntry[], truncate = false): Promise<void> {
  const response = await fetch(`${emulator.url}/api/app/projects/${DEMO_PROJECT.projectId}/schemas`, {
    method: 'POST',
    headers: { authorization: AUTH, 'content-type': 'application/json' },
    body: JSON.stringify({ entries, truncate }),
  });
  expect(response.status).toBe(200);
}

/** Sends events through the emulator's /import (strict: every record must be accepted). */
export async function importEvents(emulator: Emulator, events: readonly { event: string; properties: Record<string, unknown> }[]): Promise<void> {
  const response = await fetch(`${emulator.url}/import?strict=1&project_id=${DEMO_PROJECT.projectId}`, {
    method: 'POST',
    headers: { authorization: AUTH, 'content-type': 'application/json' },
    body: JSON.stringify(events),
  });
  expect(response.status, await response.clone().text()).toBe(200);
}

/** An imported event `secondsAgo` before now, with a unique $insert_id. */
export function eventAt(event: string, secondsAgo: number, properties: Record<string, unknown>): { event: string; properties: Record<string, unknown> } {
  const insertId = `t${secondsAgo}-${Math.random().toString(36).slice(2, 12)}`;
  return { event, properties: { time: Math.floor(Date.now() / 1000) - secondsAgo, distinct_id: 'typed-tester', $insert_id: insertId, ...properties } };
}

/** As after a Lexicon edit through the gateway: drops the cached Lexicon and waits for the typed schema to be rebuilt. */
export async function retype(gw: GatewayUnderTest): Promise<void> {
  gw.gateway.projects.get(PROJECT_KEY)!.invalidate('lexicon');
  await gw.gateway.lexiconTypes.get(PROJECT_KEY)!.refresh();
}

export const todayUtc = (): string => new Date().toISOString().slice(0, 10);
