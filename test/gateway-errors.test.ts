/**
 * Bad input and upstream trouble through the gateway over HTTP: each gets a
 * clear error, the rest of the response stands, and no secret is ever in a
 * response or a log line, even with errors unmasked for development.
 */
import { describe, expect, it } from 'vitest';
import { DEMO_PROJECT } from '../src/emulator/server.js';
import { createLogger } from '../src/logger.js';
import { startGateway } from './helpers/gateway.js';

const post = (url: string, body: string, contentType = 'application/json') =>
  fetch(url, { method: 'POST', headers: { 'content-type': contentType, accept: 'application/graphql-response+json' }, body });

describe('gateway errors', () => {
  it('answers malformed GraphQL and malformed JSON with a 4xx and a message that says what is wrong', async () => {
    const gw = await startGateway();
    const syntax = await post(gw.graphqlUrl, JSON.stringify({ query: '{ project { id ' }));
    expect(syntax.status).toBe(400);
    expect(((await syntax.json()) as { errors: { message: string }[] }).errors[0]!.message).toMatch(/Syntax Error/);

    const unknownField = await gw.query('{ project { nope } }');
    expect(unknownField.status).toBe(400);
    expect(unknownField.errors?.[0]?.message).toMatch(/Cannot query field "nope" on type "Project"/);

    const badJson = await post(gw.graphqlUrl, '{"query": ');
    expect(badJson.status).toBe(400);
    expect(JSON.stringify(await badJson.json())).toMatch(/POST body sent invalid JSON/);

    const badVariable = await gw.query('query ($d: Date!) { segmentation(event: "Sign Up", from: $d, to: $d) { __typename } }', { d: '2025-13-45' });
    expect(badVariable.status).toBe(400);
    expect(badVariable.errors?.[0]?.message).toMatch(/yyyy-mm-dd/);
    expect(gw.emulator.calls('/api/query/segmentation')).toBe(0);
  });

  it('turns upstream garbage into a typed error on that field only', async () => {
    const gw = await startGateway();
    gw.emulator.faults.inject({ path: '/api/query/cohorts/list', kind: 'status', status: 200, body: '<html>not json</html>' });
    const result = await gw.query('{ cohorts { __typename ... on Error { message code } } project { id } }');
    expect(result.data?.['cohorts']).toMatchObject({ __typename: 'UpstreamUnavailableError', code: 'MIXPANEL_UNAVAILABLE' });
    expect(result.data?.['project']).toEqual({ id: DEMO_PROJECT.projectId });
  });

  it('never shows the service-account secret, even unmasked in development, nor logs it', async () => {
    const lines: string[] = [];
    const gw = await startGateway({
      env: { NODE_ENV: 'development', LOG_LEVEL: 'debug' },
      gatewayOptions: { logger: createLogger('debug', (line) => lines.push(line)) },
    });
    gw.emulator.faults.inject({ path: '/api/query/', kind: 'status', status: 500, body: `echo ${DEMO_PROJECT.secret}` });
    const result = await gw.query('{ cohorts { __typename ... on Error { message } } profile(distinctId: "x") { __typename ... on Error { message } } }');
    expect(result.data?.['cohorts']).toMatchObject({ __typename: 'UpstreamUnavailableError' });
    const seen = JSON.stringify(result) + lines.join('');
    expect(seen).not.toContain(DEMO_PROJECT.secret);
    expect(seen).not.toContain(Buffer.from(`${DEMO_PROJECT.username}:${DEMO_PROJECT.secret}`).toString('base64'));
  });

  it('answers 404 on paths it does not serve, including an unknown project key', async () => {
    const gw = await startGateway();
    const unknownProject = await fetch(`${gw.url}/projects/nope/graphql?query=${encodeURIComponent('{ project { id } }')}`);
    expect(unknownProject.status).toBe(404);
    const notFound = JSON.stringify(await unknownProject.json());
    expect(notFound).toMatch(/No endpoint at \/projects\/nope\/graphql/);
    // Configured project keys are not listed to an unauthenticated caller.
    expect(notFound).not.toMatch(/projects\/default/);
    expect((await fetch(`${gw.url}/elsewhere`)).status).toBe(404);
    expect((await fetch(`${gw.url}/health`)).status).toBe(200);
    // A GET must carry the CSRF header, as a legitimate (preflighted) client does.
    const known = await fetch(`${gw.url}/projects/default/graphql?query=${encodeURIComponent('{ project { id } }')}`, { headers: { 'x-graphql-yoga-csrf': '1' } });
    expect(((await known.json()) as { data: { project: { id: string } } }).data.project.id).toBe(DEMO_PROJECT.projectId);
  });
});
