/**
 * The README's GraphQL examples are valid against the schema /graphql serves
 * (the demo project's Lexicon-typed one) and run against the demo gateway
 * with data and no error, and its configuration table names every variable
 * of .env.example: docs that rot fail here.
 */
import { readFileSync } from 'node:fs';
import { buildSchema, parse, validate, type OperationDefinitionNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { startDemoActivity } from '../src/emulator/demo-activity.js';
import { createLogger } from '../src/observability/logger.js';
import { DEMO_PROJECT, DEMO_PROJECT_OPTIONS, DEMO_TIMEZONE } from '../src/emulator/server.js';
import { createExampleValues, exampleVariables } from '../src/server/graphiql.js';
import { startGateway, WEBHOOK_BASIC_AUTH } from './helpers/gateway.js';
import { isProbeOf, publishCohortProbe, subscribe } from './helpers/subscribers.js';

const read = (path: string) => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8');
const readme = read('README.md');
const typedSchema = buildSchema(read('schema/projects/demo.graphql'));

describe('README', () => {
  const blocks = [...readme.matchAll(/```graphql\n([\s\S]*?)```/g)].map((match) => match[1]!);

  it('has GraphQL examples', () => {
    expect(blocks.length).toBeGreaterThan(1);
  });

  it.each(blocks.map((block, index) => [index, block] as const))('example %i validates against the typed schema of /graphql', (_index, block) => {
    expect(validate(typedSchema, parse(block)).map((error) => error.message)).toEqual([]);
  });

  it('runs every example against the demo gateway as `npm start` runs it: data, no error, no empty selection', async () => {
    // The demo's data and its simulated cohort sync, as src/main.ts starts them.
    const gw = await startGateway({
      emulatorOptions: { size: 'demo', projects: [{ ...DEMO_PROJECT_OPTIONS, timezone: DEMO_TIMEZONE }] },
      env: { MIXPANEL_TIMEZONE: DEMO_TIMEZONE },
    });
    const demo = startDemoActivity({
      data: gw.emulator.data(DEMO_PROJECT.projectId),
      webhookUrl: `${gw.url}/webhooks/mixpanel/cohorts`,
      basicAuth: WEBHOOK_BASIC_AUTH,
      logger: createLogger('silent'),
    });
    await demo.ready;
    try {
      const values = await createExampleValues(gw.gateway.projects.get('default')!)();
      for (const [index, block] of blocks.entries()) {
        const operation = parse(block).definitions.find((d): d is OperationDefinitionNode => d.kind === 'OperationDefinition')!;
        const variables = exampleVariables(operation, values, Date.now());
        if (operation.operation === 'subscription') {
          const cohortId = values.cohortId!;
          const field = (operation.selectionSet.selections[0] as { name: { value: string } }).name.value;
          const subscriber = subscribe({ url: gw.graphqlUrl, transport: 'ws', ignore: isProbeOf(field) }, { query: block, variables });
          try {
            await subscriber.waitForProbe(() => publishCohortProbe(gw.gateway.pubsub, DEMO_PROJECT.projectId, cohortId));
            expect({ index, failure: subscriber.failure, results: subscriber.results }).toEqual({ index, failure: undefined, results: [] });
          } finally {
            await subscriber.close();
          }
          continue;
        }
        const result = await gw.query(block, variables);
        expect({ index, errors: result.errors }).toEqual({ index, errors: undefined });
        const json = JSON.stringify(result.data);
        // A typed error in the data, or an object with nothing selected (a union member the query left out), is a silent failure.
        expect({ index, typedError: /"code":"[A-Z_]+"/.exec(json)?.[0], empty: json.includes('{}') }).toEqual({ index, typedError: undefined, empty: false });
      }
      // Every demo cohort is synced by webhook: no cohort was read through engage's filter_by_cohort.
      expect(gw.emulator.callLog.filter((entry) => entry.path === '/api/query/engage' && entry.params['filter_by_cohort'] !== undefined)).toEqual([]);
    } finally {
      await demo.stop();
    }
  }, 60_000);

  it('documents every variable of .env.example', () => {
    const variables = [...read('.env.example').matchAll(/^#? ?([A-Z][A-Z0-9_]+)=/gm)].map((match) => match[1]!);
    expect(variables.length).toBeGreaterThan(20);
    expect(variables.filter((name) => !readme.includes(`\`${name}\``))).toEqual([]);
  });
});
