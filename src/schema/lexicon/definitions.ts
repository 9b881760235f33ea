/**
 * What Lexicon documents, as GraphQL types: event and property definitions
 * (loaded by name from the one schemas list), their owners and JSON types,
 * and the helpers that read a Lexicon schema.
 */
import type { JsonSchemaType, LexiconPropertySchema, LexiconSchemaEntry, MixpanelMetadata } from '../../mixpanel/types.js';
import { builder } from '../builder.js';
import type { Context } from '../context.js';
import { listConnection } from '../lists.js';
import { lexiconEntries } from '../loaders.js';

/** Mixpanel's name of the user-profile schema (https://developer.mixpanel.com/reference/lexicon-schemas-api). */
export const USER_PROFILE_SCHEMA = '$user';

export interface PropertyDefinitionShape {
  readonly name: string;
  readonly entityType: 'event' | 'profile';
  readonly schema: LexiconPropertySchema;
}

export function propertiesOf(entry: LexiconSchemaEntry): PropertyDefinitionShape[] {
  return Object.entries(entry.schemaJson.properties ?? {})
    .map(([name, schema]) => ({ name, entityType: entry.entityType, schema }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

export async function eventEntries(ctx: Context): Promise<LexiconSchemaEntry[]> {
  return (await lexiconEntries(ctx)).filter((entry) => entry.entityType === 'event').sort((a, b) => a.name.localeCompare(b.name));
}

export async function profileProperties(ctx: Context): Promise<PropertyDefinitionShape[]> {
  const entry = (await lexiconEntries(ctx)).find((e) => e.entityType === 'profile' && e.name === USER_PROFILE_SCHEMA);
  return entry ? propertiesOf(entry) : [];
}

/** Event definitions by event name; an event without a schema loads as null. */
export const EventDefinition = builder.loadableObjectRef('EventDefinition', {
  load: (_names: string[], ctx: Context) => eventEntries(ctx),
  sort: (entry) => entry.name,
});

/** Profile property definitions by property name. Event properties are reached through their EventDefinition instead. */
export const PropertyDefinition = builder.loadableObjectRef('PropertyDefinition', {
  load: (_names: string[], ctx: Context) => profileProperties(ctx),
  sort: (property) => property.name,
});

export const JsonTypeEnum = builder.enumType('JsonType', {
  description: 'JSON Schema types a Lexicon property may declare.',
  values: {
    ARRAY: { value: 'array', description: 'A list.' },
    BOOLEAN: { value: 'boolean', description: 'True or false.' },
    INTEGER: { value: 'integer', description: 'A whole number.' },
    NULL: { value: 'null', description: 'May be null.' },
    NUMBER: { value: 'number', description: 'Any number.' },
    OBJECT: { value: 'object', description: 'A nested object.' },
    STRING: { value: 'string', description: 'Text.' },
  } as const satisfies Record<string, { value: JsonSchemaType; description: string }>,
});

const Owners = builder.objectRef<MixpanelMetadata>('LexiconOwners').implement({
  description: 'Who to ask about a definition.',
  fields: (t) => ({
    contacts: t.stringList({ description: 'Email addresses of the people who own it.', resolve: (m) => [...(m.contacts ?? [])] }),
    teamContacts: t.stringList({ description: 'Teams that own it.', resolve: (m) => [...(m.teamContacts ?? [])] }),
  }),
});

export const metadataOf = (schema: { readonly metadata?: { readonly 'com.mixpanel'?: MixpanelMetadata } }): MixpanelMetadata =>
  schema.metadata?.['com.mixpanel'] ?? {};

function typesOf(schema: LexiconPropertySchema): JsonSchemaType[] {
  if (schema.type === undefined) return [];
  return typeof schema.type === 'string' ? [schema.type] : [...schema.type];
}

PropertyDefinition.implement({
  description: 'What a property means, as documented in Lexicon.',
  fields: (t) => ({
    name: t.exposeString('name', { description: 'The property name as sent with events or profiles, e.g. `$city` or `plan`.' }),
    displayName: t.string({ nullable: true, description: 'Name shown in Mixpanel reports.', resolve: (p) => metadataOf(p.schema).displayName ?? null }),
    description: t.string({ nullable: true, description: 'What the property records.', resolve: (p) => p.schema.description ?? null }),
    type: t.field({
      type: JsonTypeEnum,
      nullable: true,
      description: 'The declared type, ignoring `null` (see `types` for all of them).',
      resolve: (p) => typesOf(p.schema).find((type) => type !== 'null') ?? null,
    }),
    types: t.field({ type: [JsonTypeEnum], description: 'Every declared JSON Schema type.', resolve: (p) => typesOf(p.schema) }),
    hidden: t.boolean({ description: 'Hidden from Mixpanel menus.', resolve: (p) => metadataOf(p.schema).hidden ?? false }),
    dropped: t.boolean({ description: 'Dropped at ingestion: new data no longer carries it.', resolve: (p) => metadataOf(p.schema).dropped ?? false }),
  }),
});

EventDefinition.implement({
  description: 'What an event means and which properties it carries, as documented in Lexicon.',
  fields: (t) => ({
    name: t.exposeString('name', { description: 'The event name as tracked.' }),
    displayName: t.string({ nullable: true, description: 'Name shown in Mixpanel reports.', resolve: (e) => metadataOf(e.schemaJson).displayName ?? null }),
    description: t.string({ nullable: true, description: 'What the event records.', resolve: (e) => e.schemaJson.description ?? null }),
    hidden: t.boolean({ description: 'Hidden from Mixpanel menus.', resolve: (e) => metadataOf(e.schemaJson).hidden ?? false }),
    dropped: t.boolean({ description: 'Dropped at ingestion: new data is discarded.', resolve: (e) => metadataOf(e.schemaJson).dropped ?? false }),
    tags: t.stringList({ description: 'Lexicon tags.', resolve: (e) => [...(metadataOf(e.schemaJson).tags ?? [])] }),
    owners: t.field({ type: Owners, description: 'Owners named in Lexicon.', resolve: (e) => metadataOf(e.schemaJson) }),
    properties: t.field({ type: [PropertyDefinition], description: 'Properties the event is documented to carry, by name.', resolve: propertiesOf }),
    property: t.field({
      type: PropertyDefinition,
      nullable: true,
      description: 'One documented property of the event, or null.',
      args: { name: t.arg.string({ required: true, description: 'Property name.' }) },
      resolve: (e, args) => propertiesOf(e).find((p) => p.name === args.name) ?? null,
    }),
  }),
});

export const EventDefinitionConnection = listConnection('EventDefinitionConnection', EventDefinition, 'Event definitions.', 'Event definitions, by name.');
export const PropertyDefinitionConnection = listConnection(
  'PropertyDefinitionConnection',
  PropertyDefinition,
  'Property definitions.',
  'Property definitions, by name.',
);
