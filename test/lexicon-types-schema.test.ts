import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lexicographicSortSchema, printSchema } from 'graphql';
import { describe, expect, it } from 'vitest';
import { DEMO_PROJECT_OPTIONS } from '../src/emulator/auth.js';
import { createEmulator, DEMO_PROJECT } from '../src/emulator/server.js';
import { nameHash } from '../src/lexicon-types/naming.js';
import type { LexiconSchemaEntry } from '../src/mixpanel/types.js';
import { schema as genericSchema } from '../src/schema/index.js';
import { createTestApp } from './helpers/app.js';
import { eventAt, importEvents, PROJECT_KEY, projectQuery, retype, createTypedApp, todayUtc, uploadLexicon } from './helpers/lexicon-types.js';

const AWKWARD: LexiconSchemaEntry[] = [
  {
    entityType: 'event',
    name: '$mp_web_page_view',
    schemaJson: {
      description: 'A page view',
      properties: {
        $browser: { type: 'string', description: 'Browser' },
        'Plan Type': { type: 'string' },
        name: { type: 'integer', description: 'Collides with Event.name' },
        '3d_ratio': { type: 'number' },
        注册: { type: 'boolean' },
        '': { type: 'string' },
        old_flag: { type: 'boolean', metadata: { 'com.mixpanel': { hidden: true } } },
      },
    },
  },
  { entityType: 'event', name: 'Sign Up', schemaJson: { properties: { plan: { type: 'string' }, referrer: { type: ['string', 'null'] } } } },
  { entityType: 'event', name: 'sign_up', schemaJson: { properties: { plan: { type: 'integer' } } } },
  { entityType: 'event', name: 'Profile', schemaJson: { description: 'Named like a generic type' } },
];

interface IntrospectedType {
  name: string;
  fields:
    | { name: string; description: string | null; isDeprecated: boolean; deprecationReason: string | null; type: { name: string | null; kind: string } }[]
    | null;
}

/** Every type implementing Event, with its fields: what a frontend sees of the typed layer. */
async function typedLayer(gw: Awaited<ReturnType<typeof createTypedApp>>): Promise<Map<string, IntrospectedType>> {
  const result = await projectQuery<{ __type: { possibleTypes: IntrospectedType[] } }>(
    gw,
    `{ __type(name: "Event") { possibleTypes { name fields(includeDeprecated: true) { name description isDeprecated deprecationReason type { name kind } } } } }`,
  );
  expect(result.errors).toBeUndefined();
  return new Map(result.data!.__type.possibleTypes.map((type) => [type.name, type]));
}

describe('Lexicon-typed schema', () => {
  it('types awkward names by a stable rule, and an added event renames nothing', async () => {
    const gw = await createTypedApp();
    await uploadLexicon(gw.emulator, AWKWARD, true);
    await retype(gw);
    const before = await typedLayer(gw);

    expect([...before.keys()].sort()).toEqual(
      ['GenericEvent', `Profile_${nameHash('Profile')}`, 'SignUp', `SignUp_${nameHash('sign_up')}`, '_MpWebPageView'].sort(),
    );
    const pageView = new Map(before.get('_MpWebPageView')!.fields!.map((f) => [f.name, f]));
    expect(pageView.get('_browser')).toMatchObject({ type: { name: 'String' } });
    expect(pageView.get('_browser')!.description).toContain('Mixpanel property `$browser`');
    expect(pageView.get(`planType_${nameHash('Plan Type')}`)).toMatchObject({ type: { name: 'String' } });
    expect(pageView.get(`name_${nameHash('name')}`)).toMatchObject({ type: { name: 'Int' } });
    expect(pageView.get('name')).toMatchObject({ type: { kind: 'NON_NULL' } }); // still Event.name
    expect(pageView.get(`_3dRatio_${nameHash('3d_ratio')}`)).toMatchObject({ type: { name: 'Float' } });
    expect(pageView.get(`unnamed_${nameHash('注册')}`)).toMatchObject({ type: { name: 'Boolean' } });
    expect(pageView.get(`unnamed_${nameHash('')}`)).toMatchObject({ type: { name: 'String' } });
    expect(pageView.get('oldFlag')).toMatchObject({ isDeprecated: true, deprecationReason: 'The property `old_flag` is hidden in Lexicon' });

    // /graphql serves the default project's typed schema; /graphql/generic keeps the generic one, exactly as printed for CI.
    const typedDefault = await gw.query(`{ __type(name: "SignUp") { name } }`);
    expect(typedDefault.data!['__type']).toEqual({ name: 'SignUp' });
    const generic = await gw.fetch(gw.gateway.genericGraphqlPath, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ __type(name: "SignUp") { name } }' }),
    });
    expect(((await generic.json()) as { data: Record<string, unknown> }).data['__type']).toBeNull();
    expect(`${printSchema(lexicographicSortSchema(genericSchema))}\n`).toBe(readFileSync(new URL('../schema/schema.graphql', import.meta.url), 'utf8'));

    await uploadLexicon(gw.emulator, [
      { entityType: 'event', name: 'sign up', schemaJson: { properties: { plan: { type: 'string' } } } },
      {
        entityType: 'event',
        name: 'Sign Up',
        schemaJson: { properties: { plan: { type: 'string' }, referrer: { type: ['string', 'null'] }, Plan: { type: 'string' } } },
      },
    ]);
    await retype(gw);
    const after = await typedLayer(gw);
    expect(after.size).toBe(before.size + 1);
    for (const [name, type] of before) {
      const fields = new Map(after.get(name)!.fields!.map((f) => [f.name, f.type]));
      for (const field of type.fields!) expect(fields.get(field.name), `${name}.${field.name}`).toEqual(field.type);
    }
    expect(after.get('SignUp')!.fields!.map((f) => f.name)).toContain(`plan_${nameHash('Plan')}`);
  });

  it('converts values that fit losslessly, and reports the others as typed field errors', async () => {
    const gw = await createTypedApp();
    await uploadLexicon(gw.emulator, [
      {
        entityType: 'event',
        name: 'Typed Test',
        schemaJson: {
          properties: {
            count: { type: 'integer' },
            price: { type: 'number' },
            active: { type: 'boolean' },
            label: { type: 'string' },
            created: { type: 'string' },
            tags: { type: 'array', items: { type: 'integer' } } as never,
          },
        },
      },
    ]);
    await retype(gw);
    await importEvents(gw.emulator, [
      eventAt('Typed Test', 120, { count: '42', price: '3.5', active: 'true', label: 7, created: '2024-05-01T10:00:00', tags: ['1', 2] }),
      eventAt('Typed Test', 60, { count: 'many', price: 2, active: 'maybe', label: { nested: true }, created: 'yesterday', tags: [1, 'x'] }),
    ]);

    const result = await projectQuery(
      gw,
      `query($day: Date!) { events(from: $day, to: $day, names: ["Typed Test"]) {
      ... on EventConnection { edges { node { __typename name ... on TypedTest { count price active label created tags } } } } } }`,
      { day: todayUtc() },
    );
    const nodes = result.data!['events'].edges.map((edge: { node: unknown }) => edge.node);
    expect(nodes[0]).toEqual({
      __typename: 'TypedTest',
      name: 'Typed Test',
      count: 42,
      price: 3.5,
      active: true,
      label: '7',
      created: '2024-05-01T10:00:00.000Z',
      tags: [1, 2],
    });
    // The rest of the response stands: only the fields that do not fit are null.
    expect(nodes[1]).toEqual({ __typename: 'TypedTest', name: 'Typed Test', count: null, price: 2, active: null, label: null, created: null, tags: null });
    const errors = new Map(result.errors!.map((error) => [error.path!.at(-1), error]));
    expect([...errors.keys()].sort()).toEqual(['active', 'count', 'created', 'label', 'tags']);
    expect(errors.get('count')).toMatchObject({
      path: ['events', 'edges', 1, 'node', 'count'],
      extensions: { code: 'LEXICON_TYPE_MISMATCH', property: 'count', expected: 'integer', actual: 'string' },
    });
    expect(errors.get('label')!.extensions).toMatchObject({ property: 'label', expected: 'string', actual: 'object' });
    expect(errors.get('created')!.extensions).toMatchObject({ expected: 'string (date-time)', actual: 'string' });
    expect(errors.get('tags')!.extensions).toMatchObject({ expected: 'array of integer', actual: 'array with a string item' });
  });

  it('types documented profile properties on Profile beside its own fields', async () => {
    const gw = await createTypedApp();
    const [profile] = gw.emulator.data(DEMO_PROJECT.projectId).profiles.values();
    profile!.properties['age'] = '41';
    const result = await projectQuery(gw, `query($id: ID!) { profile(distinctId: $id) { ... on Profile { email _email plan age lifetimeValue _created } } }`, {
      id: profile!.distinctId,
    });
    expect(result.errors).toBeUndefined();
    const typed = result.data!['profile'];
    expect(typed).toMatchObject({ email: profile!.properties['$email'], _email: profile!.properties['$email'], plan: profile!.properties['plan'], age: 41 });
    expect(typeof typed.lifetimeValue).toBe('number');
    expect(new Date(typed._created).getTime()).not.toBeNaN();
    expect(
      gw.gateway.lexiconTypes
        .get(PROJECT_KEY)!
        .layer()!
        .profileFields.map((f) => f.name),
    ).toContain('_lastSeen');
  });

  it('reports drift between Lexicon and a day of events with one export call', async () => {
    const gw = await createTypedApp();
    await uploadLexicon(gw.emulator, [
      { entityType: 'event', name: 'Drift Test', schemaJson: { properties: { count: { type: 'integer' }, plan: { type: 'string' } } } },
    ]);
    await importEvents(gw.emulator, [
      eventAt('Drift Test', 300, { count: '3', plan: 'Pro', surprise: 1 }),
      eventAt('Drift Test', 200, { count: 'lots', plan: 'Pro' }),
      eventAt('Drift Test', 100, { count: 5, plan: 'Free', surprise: 2 }),
      eventAt('Mystery Event', 100, { anything: true }),
    ]);
    await retype(gw);
    gw.emulator.resetCalls();
    const result = await gw.query(`{ lexicon { drift(sample: 10000) { __typename ... on LexiconDrift {
      from to sampledEvents
      undocumentedEvents { name count }
      undocumentedProperties { event property count }
      typeMismatches { event property documented actual count convertible } } } } }`);
    expect(result.errors).toBeUndefined();
    const drift = result.data!['lexicon'].drift;
    expect(drift).toMatchObject({ __typename: 'LexiconDrift', from: todayUtc(), to: todayUtc() });
    expect(drift.sampledEvents).toBeGreaterThanOrEqual(4);
    expect(drift.undocumentedEvents).toContainEqual({ name: 'Mystery Event', count: 1 });
    expect(drift.undocumentedProperties.filter((p: { event: string }) => p.event === 'Drift Test')).toEqual([
      { event: 'Drift Test', property: 'surprise', count: 2 },
    ]);
    expect(drift.typeMismatches.filter((m: { event: string }) => m.event === 'Drift Test')).toEqual([
      { event: 'Drift Test', property: 'count', documented: ['INTEGER'], actual: ['STRING'], count: 2, convertible: false },
    ]);
    expect(gw.emulator.calls('/api/2.0/export')).toBe(1);
    // Lexicon comes from the cache the typed schema's refresh filled.
    expect(gw.emulator.calls(`/api/app/projects/${DEMO_PROJECT.projectId}/schemas`)).toBe(0);
  });

  it('serves each project its own typed schema beside the generic one', async () => {
    const second = {
      projectId: '2000002',
      token: 'second-token',
      serviceAccounts: [{ username: 'second.1a2b3c.mp-service-account', secret: 'second-secret' }],
    };
    const emulator = await createEmulator({ size: 'small', projects: [DEMO_PROJECT_OPTIONS, second] });
    const dir = mkdtempSync(join(tmpdir(), 'lexicon-projects-'));
    try {
      emulator
        .data(second.projectId)
        .lexicon.set('event:Only Second', { entityType: 'event', name: 'Only Second', schemaJson: { properties: { level: { type: 'integer' } } } });
      const file = join(dir, 'projects.json');
      writeFileSync(file, JSON.stringify([{ key: 'second', projectId: second.projectId, serviceAccount: second.serviceAccounts[0] }]));
      const gw = await createTestApp({ emulator, env: { MIXPANEL_PROJECTS_FILE: file } });
      const typeOf = async (path: string) => {
        const response = await gw.fetch(path, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query: '{ only: __type(name: "OnlySecond") { name } signUp: __type(name: "SignUp") { name } }' }),
        });
        return ((await response.json()) as { data: Record<string, unknown> }).data;
      };
      expect(await typeOf('/projects/second/graphql')).toEqual({ only: { name: 'OnlySecond' }, signUp: { name: 'SignUp' } });
      expect(await typeOf(`/projects/${PROJECT_KEY}/graphql`)).toEqual({ only: null, signUp: { name: 'SignUp' } });
      expect(await typeOf('/graphql')).toEqual({ only: null, signUp: { name: 'SignUp' } });
      expect(await typeOf('/graphql/generic')).toEqual({ only: null, signUp: null });
      await gw.close();
    } finally {
      await emulator.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
