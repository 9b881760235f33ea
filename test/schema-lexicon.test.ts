import { describe, expect, it } from 'vitest';
import { restApp, createSchemaApp } from './helpers/schema.js';

interface Entry {
  entityType: 'event' | 'profile';
  name: string;
  schemaJson: {
    description?: string;
    properties?: Record<string, { type?: string; description?: string }>;
    metadata?: { 'com.mixpanel'?: { tags?: string[] } };
  };
}

describe('lexicon and annotations', () => {
  it('lists event and profile definitions from one schemas call, as the Lexicon API has them', async () => {
    const gw = await createSchemaApp();
    const entries = await restApp<Entry[]>(gw.emulator, 'schemas');
    gw.emulator.resetCalls();
    const result = await gw.query(`{ lexicon {
      events { ... on EventDefinitionConnection { nodes { name description tags properties { name type description } } } }
      profileProperties { ... on PropertyDefinitionConnection { nodes { name description } } }
      signUp: eventDefinition(name: "Sign Up") { __typename ... on EventDefinition { name } }
      missing: eventDefinition(name: "No Such Event") { __typename ... on NotFoundError { entity id } }
    } }`);
    expect(result.errors).toBeUndefined();
    const events = entries.filter((e) => e.entityType === 'event').sort((a, b) => a.name.localeCompare(b.name));
    expect(
      result.data!['lexicon'].events.nodes.map((e: { name: string; description: string | null; tags: string[] }) => [e.name, e.description, e.tags]),
    ).toEqual(events.map((e) => [e.name, e.schemaJson.description ?? null, e.schemaJson.metadata?.['com.mixpanel']?.tags ?? []]));
    const purchase = result.data!['lexicon'].events.nodes.find((e: { name: string }) => e.name === 'Purchase');
    const expectedPurchase = events.find((e) => e.name === 'Purchase')!;
    expect(purchase.properties.map((p: { name: string }) => p.name)).toEqual(Object.keys(expectedPurchase.schemaJson.properties ?? {}).sort());
    const user = entries.find((e) => e.entityType === 'profile' && e.name === '$user')!;
    expect(result.data!['lexicon'].profileProperties.nodes.map((p: { name: string }) => p.name)).toEqual(Object.keys(user.schemaJson.properties ?? {}).sort());
    expect(result.data!['lexicon'].signUp).toEqual({ __typename: 'EventDefinition', name: 'Sign Up' });
    expect(result.data!['lexicon'].missing).toEqual({ __typename: 'NotFoundError', entity: 'EventDefinition', id: 'No Such Event' });
    // At most one schemas call (none when the typed-schema start-up read already filled the cache).
    expect(gw.emulator.calls('/api/app/projects/1000001/schemas')).toBeLessThanOrEqual(1);
  });

  it('updates an event definition, and the next read sees the change', async () => {
    const gw = await createSchemaApp();
    const before = await gw.query(`{ lexicon { eventDefinition(name: "Sign Up") { ... on EventDefinition { description properties { name } } } } }`);
    const update = await gw.query(`mutation { updateLexiconEventDefinition(input: { name: "Sign Up", description: "A new account", tags: ["growth"] }) {
      __typename ... on EventDefinition { name description tags properties { name } } } }`);
    expect(update.data!['updateLexiconEventDefinition']).toMatchObject({
      __typename: 'EventDefinition',
      name: 'Sign Up',
      description: 'A new account',
      tags: ['growth'],
    });
    // The other properties of the schema survive the write.
    expect(update.data!['updateLexiconEventDefinition'].properties).toEqual(before.data!['lexicon'].eventDefinition.properties);
    const stored = (await restApp<Entry[]>(gw.emulator, 'schemas/event', { entity_name: 'Sign Up' })).find((e) => e.name === 'Sign Up')!;
    expect(stored.schemaJson.description).toBe('A new account');
    const after = await gw.query(`{ lexicon { eventDefinition(name: "Sign Up") { ... on EventDefinition { description tags } } } }`);
    expect(after.data!['lexicon'].eventDefinition).toEqual({ description: 'A new account', tags: ['growth'] });

    const nothing = await gw.query(
      `mutation { updateLexiconEventDefinition(input: { name: "Sign Up" }) { __typename ... on InvalidArgumentError { argument } } }`,
    );
    expect(nothing.data!['updateLexiconEventDefinition']).toEqual({ __typename: 'InvalidArgumentError', argument: 'input' });
  });

  it('creates an annotation, lists it, finds it by id, and reports unknown ids', async () => {
    const gw = await createSchemaApp();
    const created = await gw.query(`mutation { createAnnotation(input: { date: "2024-03-01T10:00:00Z", description: "Release 2.0" }) {
      __typename ... on Annotation { id date description } } }`);
    const annotation = created.data!['createAnnotation'];
    expect(annotation).toMatchObject({ __typename: 'Annotation', date: '2024-03-01T10:00:00.000Z', description: 'Release 2.0' });
    const listed = await gw.query(
      `query($id: ID!) {
      annotations(from: "2024-03-01", to: "2024-03-01") { ... on AnnotationConnection { nodes { id description } } }
      one: annotation(id: $id) { __typename ... on Annotation { description } }
      missing: annotation(id: "987654") { __typename ... on NotFoundError { entity } }
      half: annotations(from: "2024-03-01") { __typename ... on InvalidArgumentError { argument } }
    }`,
      { id: annotation.id },
    );
    const rest = await restApp<{ id: number; description: string }[]>(gw.emulator, 'annotations', { fromDate: '2024-03-01', toDate: '2024-03-01' });
    expect(listed.data!['annotations'].nodes).toEqual(rest.map((a) => ({ id: String(a.id), description: a.description })));
    expect(listed.data!['annotations'].nodes).toContainEqual({ id: annotation.id, description: 'Release 2.0' });
    expect(listed.data!['one']).toEqual({ __typename: 'Annotation', description: 'Release 2.0' });
    expect(listed.data!['missing']).toEqual({ __typename: 'NotFoundError', entity: 'Annotation' });
    expect(listed.data!['half']).toEqual({ __typename: 'InvalidArgumentError', argument: 'to' });
  });
});
