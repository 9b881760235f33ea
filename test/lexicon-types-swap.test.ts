import { setTimeout as sleep } from 'node:timers/promises';
import { createClient } from 'graphql-ws';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { DEMO_PROJECT } from '../src/emulator/server.js';
import { createTestApp } from './helpers/app.js';
import { createTypedApp, eventAt, importEvents, PROJECT_KEY, projectQuery, retype, todayUtc, uploadLexicon } from './helpers/lexicon-types.js';
import { startGateway } from './helpers/gateway.js';

const SCHEMAS_PATH = `/api/app/projects/${DEMO_PROJECT.projectId}/schemas`;
const SWAP_EVENTS = `query($day: Date!) { events(from: $day, to: $day, names: ["Swap Test"]) {
  ... on EventConnection { edges { node { __typename name } } } } }`;

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await sleep(5);
}

describe('Lexicon-typed schema swaps', () => {
  it('reads Lexicon once at start-up, through the budget, and serves the typed schema at once', async () => {
    const gw = await createTestApp();
    expect(gw.emulator.calls(SCHEMAS_PATH)).toBe(1);
    const result = await projectQuery(gw, `{ __type(name: "SignUp") { name interfaces { name } } }`);
    expect(result.data!['__type']).toEqual({ name: 'SignUp', interfaces: [{ name: 'Event' }] });
    // The start-up read is counted by the project's Lexicon budget like any call.
    expect((await gw.gateway.projects.get(PROJECT_KEY)!.budget.snapshot('lexicon')).used).toBe(1);
  });

  it('serves the typed schema over graphql-ws too', async () => {
    const gw = await startGateway();
    const client = createClient({ url: `${gw.url.replace('http', 'ws')}/projects/${PROJECT_KEY}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0 });
    try {
      const result = await client.iterate({ query: '{ __type(name: "SignUp") { name } }' }).next();
      expect(result.value).toMatchObject({ data: { __type: { name: 'SignUp' } } });
      expect(result.value.errors).toBeUndefined();
    } finally {
      await client.dispose();
    }
  });

  it('adds a type while a request is in flight: the request completes on its schema, new requests see the type', async () => {
    const gw = await createTypedApp();
    await importEvents(gw.emulator, [eventAt('Swap Test', 60, { step: 1 })]);

    gw.emulator.setLatency(1_500);
    let inFlightDone = false;
    const inFlight = projectQuery(gw, SWAP_EVENTS, { day: todayUtc() }).finally(() => {
      inFlightDone = true;
    });
    await until(() => gw.emulator.callLog.some((call) => call.path === '/api/2.0/export' && call.status === 0));
    await sleep(50); // the emulator picks a request's latency as it admits it
    gw.emulator.setLatency(0);

    await uploadLexicon(gw.emulator, [{ entityType: 'event', name: 'Swap Test', schemaJson: { properties: { step: { type: 'integer' } } } }]);
    await retype(gw);
    expect(inFlightDone).toBe(false);
    const after = projectQuery(gw, SWAP_EVENTS.replace('name }', 'name ... on SwapTest { step } }'), { day: todayUtc() });

    const [before, next] = await Promise.all([inFlight, after]);
    expect(before.errors).toBeUndefined();
    expect(before.data!['events'].edges).toEqual([{ node: { __typename: 'GenericEvent', name: 'Swap Test' } }]);
    expect(next.errors).toBeUndefined();
    expect(next.data!['events'].edges).toEqual([{ node: { __typename: 'SwapTest', name: 'Swap Test', step: 1 } }]);
  });

  it('retypes at once after a Lexicon edit made through the gateway', async () => {
    const gw = await createTypedApp();
    const edit = await projectQuery(
      gw,
      `mutation { updateLexiconEventDefinition(input: { name: "Brand New", description: "Added from GraphQL" }) { __typename } }`,
    );
    expect(edit.data!['updateLexiconEventDefinition']).toEqual({ __typename: 'EventDefinition' });
    await gw.gateway.lexiconTypes.get(PROJECT_KEY)!.refresh();
    const result = await projectQuery(gw, `{ __type(name: "BrandNew") { description } }`);
    expect(result.data!['__type'].description).toContain('Added from GraphQL');
    expect(result.data!['__type'].description).toContain('Mixpanel event `Brand New`');
  });
});
