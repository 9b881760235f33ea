/**
 * Bad input and upstream trouble through the gateway over HTTP: each gets a
 * clear error, the rest of the response stands, and no secret is ever in a
 * response or a log line, even with errors unmasked for development.
 */
import { describe, expect, it } from 'vitest';
import { DEMO_PROJECT } from '../src/emulator/server.js';
import { createLogger } from '../src/observability/logger.js';
import { createTestApp } from './helpers/app.js';
import type { GatewayUnderTest } from './helpers/gateway.js';
import { day } from './helpers/schema.js';

const post = (gw: GatewayUnderTest, body: string, contentType = 'application/json') =>
  gw.fetch(gw.graphqlPath, { method: 'POST', headers: { 'content-type': contentType, accept: 'application/graphql-response+json' }, body });

describe('gateway errors', () => {
  it('answers malformed GraphQL and malformed JSON with a 4xx and a message that says what is wrong', async () => {
    const gw = await createTestApp();
    const syntax = await post(gw, JSON.stringify({ query: '{ project { id ' }));
    expect(syntax.status).toBe(400);
    expect(((await syntax.json()) as { errors: { message: string }[] }).errors[0]!.message).toMatch(/Syntax Error/);

    const unknownField = await gw.query('{ project { nope } }');
    expect(unknownField.status).toBe(400);
    expect(unknownField.errors?.[0]?.message).toMatch(/Cannot query field "nope" on type "Project"/);

    const badJson = await post(gw, '{"query": ');
    expect(badJson.status).toBe(400);
    expect(JSON.stringify(await badJson.json())).toMatch(/POST body sent invalid JSON/);

    const badVariable = await gw.query('query ($d: Date!) { segmentation(event: "Sign Up", from: $d, to: $d) { __typename } }', { d: '2025-13-45' });
    expect(badVariable.status).toBe(400);
    expect(badVariable.errors?.[0]?.message).toMatch(/yyyy-mm-dd/);
    expect(gw.emulator.calls('/api/query/segmentation')).toBe(0);
  });

  it('turns upstream garbage into an error in `errors` for that field only, with its code', async () => {
    const gw = await createTestApp();
    gw.emulator.faults.inject({ path: '/api/query/cohorts/list', kind: 'status', status: 200, body: '<html>not json</html>' });
    const result = await gw.query('{ cohorts { __typename } project { id } }');
    expect(result.data?.['cohorts']).toBeNull();
    expect(result.errors).toHaveLength(1);
    expect(result.errors![0]).toMatchObject({ path: ['cohorts'], extensions: { code: 'MIXPANEL_UNAVAILABLE' } });
    expect(result.data?.['project']).toEqual({ id: DEMO_PROJECT.projectId });
  });

  it('reports a Mixpanel timeout in `errors` with MIXPANEL_TIMEOUT and no secret; the rest of the response stands', async () => {
    const gw = await createTestApp({ env: { UPSTREAM_TIMEOUT_MS: '200', NODE_ENV: 'development' } });
    gw.emulator.faults.inject({ path: '/api/query/cohorts/list', kind: 'hang' });
    const result = await gw.query('{ cohorts { __typename ... on CohortConnection { totalCount } } project { id } }');
    expect(result.data?.['cohorts']).toBeNull();
    expect(result.data?.['project']).toEqual({ id: DEMO_PROJECT.projectId });
    expect(result.errors).toHaveLength(1);
    expect(result.errors![0]).toMatchObject({ path: ['cohorts'], extensions: { code: 'MIXPANEL_TIMEOUT' } });
    const seen = JSON.stringify(result);
    expect(seen).not.toContain(DEMO_PROJECT.secret);
    expect(seen).not.toContain(Buffer.from(`${DEMO_PROJECT.username}:${DEMO_PROJECT.secret}`).toString('base64'));
    expect(gw.emulator.calls('/api/query/cohorts/list')).toBeGreaterThanOrEqual(1);
  });

  it('answers a rate-limited list field with RateLimitedError and retryAfterSeconds, in data, sending nothing', async () => {
    const gw = await createTestApp({ env: { LIMIT_QUERY_PER_HOUR: '1' } });
    const spent = await gw.query('{ funnels { __typename } }');
    expect(spent.data?.['funnels'].__typename).toBe('FunnelSummaryConnection');
    const before = gw.emulator.calls('/api/query');
    const result = await gw.query(
      '{ cohorts { __typename ... on RateLimitedError { code family retryAfterSeconds } ... on CohortConnection { totalCount } } project { id } }',
    );
    expect(result.errors).toBeUndefined();
    expect(result.data?.['cohorts']).toMatchObject({ __typename: 'RateLimitedError', code: 'MIXPANEL_RATE_LIMITED', family: 'QUERY' });
    // The one counted call leaves the hourly window in about an hour.
    expect(result.data?.['cohorts'].retryAfterSeconds).toBeGreaterThan(3000);
    expect(result.data?.['project']).toEqual({ id: DEMO_PROJECT.projectId });
    expect(gw.emulator.calls('/api/query')).toBe(before);
  });

  it('answers list fields as connections with nodes and totalCount', async () => {
    const gw = await createTestApp();
    const [from, to] = [day(gw.emulator, -3), day(gw.emulator, -1)];
    const result = await gw.query(`{
      cohorts { ... on CohortConnection { nodes { id } totalCount } }
      profiles(first: 3) { ... on ProfileConnection { nodes { distinctId } edges { node { distinctId } } totalCount } }
      events(from: "${from}", to: "${to}", first: 2) { ... on EventConnection { nodes { name } edges { node { name } } totalCount } }
    }`);
    expect(result.errors).toBeUndefined();
    const { cohorts, profiles, events } = result.data!;
    const [start, end] = [Date.parse(from) / 1000, Date.parse(to) / 1000 + 86_400];
    const inRange = gw.emulator.data(DEMO_PROJECT.projectId).events.filter((e) => e.time >= start && e.time < end).length;
    expect(inRange).toBeGreaterThan(2);
    expect(events.totalCount).toBe(inRange);
    expect(events.nodes).toHaveLength(2);
    expect(events.nodes).toEqual(events.edges.map((e: { node: unknown }) => e.node));
    const listed = (await (
      await fetch(`${gw.emulator.url}/api/query/cohorts/list?project_id=${DEMO_PROJECT.projectId}`, {
        headers: { authorization: `Basic ${Buffer.from(`${DEMO_PROJECT.username}:${DEMO_PROJECT.secret}`).toString('base64')}` },
      })
    ).json()) as { id: number }[];
    expect(cohorts.totalCount).toBe(listed.length);
    expect(cohorts.nodes.map((c: { id: string }) => c.id)).toEqual(listed.map((c) => String(c.id)));
    expect(profiles.nodes).toHaveLength(3);
    expect(profiles.nodes).toEqual(profiles.edges.map((e: { node: unknown }) => e.node));
    expect(profiles.totalCount).toBe(gw.emulator.data(DEMO_PROJECT.projectId).profiles.size);
    // One cohorts list, one engage page and one export, the REST check aside.
    expect(gw.emulator.calls('/api/query/engage')).toBe(1);
    expect(gw.emulator.calls('/api/2.0/export')).toBe(1);
    expect(gw.emulator.calls('/api/query/cohorts/list')).toBe(2);
  });

  it('never shows the service-account secret, even unmasked in development, nor logs it', async () => {
    const lines: string[] = [];
    const gw = await createTestApp({
      env: { NODE_ENV: 'development', LOG_LEVEL: 'debug' },
      gatewayOptions: { logger: createLogger('debug', (line) => lines.push(line)) },
    });
    gw.emulator.faults.inject({ path: '/api/query/', kind: 'status', status: 500, body: `echo ${DEMO_PROJECT.secret}` });
    const result = await gw.query('{ cohorts { __typename } profile(distinctId: "x") { __typename ... on Error { message } } }');
    expect(result.data?.['cohorts']).toBeNull();
    expect(result.errors?.find((e) => e.path?.[0] === 'cohorts')?.extensions?.['code']).toBe('MIXPANEL_UNAVAILABLE');
    const seen = JSON.stringify(result) + lines.join('');
    expect(seen).not.toContain(DEMO_PROJECT.secret);
    expect(seen).not.toContain(Buffer.from(`${DEMO_PROJECT.username}:${DEMO_PROJECT.secret}`).toString('base64'));
  });

  it('answers 404 on paths it does not serve, including an unknown project key', async () => {
    const gw = await createTestApp();
    const unknownProject = await gw.fetch(`/projects/nope/graphql?query=${encodeURIComponent('{ project { id } }')}`);
    expect(unknownProject.status).toBe(404);
    const notFound = JSON.stringify(await unknownProject.json());
    expect(notFound).toMatch(/No endpoint at \/projects\/nope\/graphql/);
    // Configured project keys are not listed to an unauthenticated caller.
    expect(notFound).not.toMatch(/projects\/default/);
    expect((await gw.fetch('/elsewhere')).status).toBe(404);
    expect((await gw.fetch('/health')).status).toBe(200);
    // A GET must carry the CSRF header, as a legitimate (preflighted) client does.
    const known = await gw.fetch(`/projects/default/graphql?query=${encodeURIComponent('{ project { id } }')}`, { headers: { 'x-graphql-yoga-csrf': '1' } });
    expect(((await known.json()) as { data: { project: { id: string } } }).data.project.id).toBe(DEMO_PROJECT.projectId);
  });
});
