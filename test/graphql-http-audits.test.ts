/**
 * graphql-http's audits of the GraphQL over HTTP specification against the
 * real gateway over loopback, open and behind API keys.
 *
 * Every MUST and SHOULD passes. Three MAY audits send a bare GET (no
 * custom header): the gateway refuses it with 403 on purpose, because a
 * simple GET is what a foreign page can send without a CORS preflight
 * (CSRF prevention). The same audits pass once the request carries
 * `x-graphql-yoga-csrf`, as a legitimate GET client sends it.
 *
 * The variables audits query `__type`, which is introspection: behind API
 * keys introspection is off by default, so they pass there with
 * INTROSPECTION=true, and fail only for that reason without it.
 */
import { serverAudits } from 'graphql-http';
import { describe, expect, it } from 'vitest';
import { hashApiKey } from '../src/core/secret.js';
import { startGateway } from './helpers/gateway.js';

interface AuditOutcome {
  readonly name: string;
  readonly status: string;
  readonly reason?: string | undefined;
}

async function audit(url: string, headers: Record<string, string> = {}, csrfHeaderOnGet = false): Promise<AuditOutcome[]> {
  const fetchFn = (input: RequestInfo | URL, init: RequestInit = {}) => {
    const method = (init.method ?? 'GET').toUpperCase();
    const extra = { ...headers, ...(csrfHeaderOnGet && method === 'GET' ? { 'x-graphql-yoga-csrf': '1' } : {}) };
    return fetch(input, { ...init, headers: { ...Object.fromEntries(new Headers(init.headers).entries()), ...extra } });
  };
  const outcomes: AuditOutcome[] = [];
  for (const { name, fn } of serverAudits({ url, fetchFn })) {
    const result = await fn();
    outcomes.push({ name, status: result.status, reason: 'reason' in result ? result.reason : undefined });
  }
  return outcomes;
}

const failed = (outcomes: readonly AuditOutcome[]) => outcomes.filter((o) => o.status !== 'ok');

/** The MAY audits a bare GET fails, because of CSRF prevention. */
const BARE_GET_AUDITS = [
  'MAY accept application/x-www-form-urlencoded formatted GET requests',
  'MAY allow URL-encoded JSON string {variables} parameter in GETs when accepting application/graphql-response+json',
  'MAY allow URL-encoded JSON string {variables} parameter in GETs when accepting application/json',
];

describe('GraphQL over HTTP audits', () => {
  it('passes every MUST and SHOULD; refuses only bare GETs, which CSRF prevention requires', async () => {
    const gw = await startGateway();
    const outcomes = await audit(gw.graphqlUrl);
    expect(outcomes.filter((o) => /^(MUST|SHOULD)/.test(o.name)).length).toBeGreaterThan(20);
    expect(failed(outcomes)).toEqual(BARE_GET_AUDITS.map((name) => ({ name, status: 'notice', reason: 'Response status code is not 200' })));
    // The same GETs with the header a legitimate client sends: everything passes.
    expect(failed(await audit(gw.graphqlUrl, {}, true))).toEqual([]);
  });

  it('passes them all behind API keys, on the project endpoint too, for a client sending its key', async () => {
    const key = 'audit-key-0123456789abcdef';
    const GATEWAY_API_KEYS = JSON.stringify([{ id: 'auditor', sha256: hashApiKey(key), projects: '*' }]);
    const gw = await startGateway({ env: { GATEWAY_API_KEYS, INTROSPECTION: 'true' } });
    for (const url of [gw.graphqlUrl, `${gw.url}/projects/default/graphql`]) {
      expect(failed(await audit(url, { authorization: `Bearer ${key}` }, true))).toEqual([]);
    }
    // Without introspection (the keyed default) only the audits whose query is `__type` fail.
    const closed = await startGateway({ env: { GATEWAY_API_KEYS } });
    const closedFailures = failed(await audit(closed.graphqlUrl, { authorization: `Bearer ${key}` }, true)).map((o) => o.name);
    expect(closedFailures).toEqual([
      'SHOULD allow map {variables} parameter when accepting application/graphql-response+json',
      'MUST allow map {variables} parameter when accepting application/json',
      'MAY allow URL-encoded JSON string {variables} parameter in GETs when accepting application/graphql-response+json',
      'MAY allow URL-encoded JSON string {variables} parameter in GETs when accepting application/json',
    ]);
    const introspection = await closed.query(
      'query Type($name: String!) { __type(name: $name) { name } }',
      { name: 'Query' },
      { authorization: `Bearer ${key}` },
    );
    expect(introspection.errors?.[0]?.message).toMatch(/introspection/i);
  });
});
