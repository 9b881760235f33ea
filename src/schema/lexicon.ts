/**
 * Lexicon: what the project's events and profile properties mean, from the
 * Lexicon Schemas API. One schemas list call serves every definition a
 * request asks for (the loaders below share it, and the response cache
 * shares it between requests).
 */
import type { Context } from '../context.js';
import { NotFoundError, InvalidArgumentError } from '../errors.js';
import type { JsonSchemaType, LexiconPropertySchema, LexiconSchema, LexiconSchemaEntry, MixpanelMetadata } from '../mixpanel/types.js';
import { builder } from './builder.js';
import { lexiconEntries, uploadLexiconSchema } from './loaders.js';
import { checkName } from './validation.js';

/** Mixpanel's name of the user-profile schema (https://developer.mixpanel.com/reference/lexicon-schemas-api). */
export const USER_PROFILE_SCHEMA = '$user';

export interface PropertyDefinitionShape {
  readonly name: string;
  readonly entityType: 'event' | 'profile';
  readonly schema: LexiconPropertySchema;
}

function propertiesOf(entry: LexiconSchemaEntry): PropertyDefinitionShape[] {
  return Object.entries(entry.schemaJson.properties ?? {})
    .map(([name, schema]) => ({ name, entityType: entry.entityType, schema }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

async function eventEntries(ctx: Context): Promise<LexiconSchemaEntry[]> {
  return (await lexiconEntries(ctx)).filter((entry) => entry.entityType === 'event').sort((a, b) => a.name.localeCompare(b.name));
}

async function profileProperties(ctx: Context): Promise<PropertyDefinitionShape[]> {
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

const metadataOf = (schema: { readonly metadata?: { readonly 'com.mixpanel'?: MixpanelMetadata } }): MixpanelMetadata =>
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

export const Lexicon = builder.objectRef<Record<string, never>>('Lexicon').implement({
  description: "The project's data dictionary (Lexicon). Only entities that have a schema appear.",
  fields: (t) => ({
    events: t.field({
      type: [EventDefinition],
      nullable: true,
      complexity: 10,
      description: 'Every documented event, by name.',
      errors: { dataField: { description: 'Event definitions, by name.' } },
      resolve: (_root, _args, ctx) => eventEntries(ctx),
    }),
    eventDefinition: t.field({
      type: EventDefinition,
      nullable: true,
      complexity: 10,
      description: 'One event definition by event name.',
      args: { name: t.arg.string({ required: true, description: 'Event name, e.g. `Sign Up`.' }) },
      errors: { directResult: true },
      resolve: async (_root, args, ctx) => {
        const definition = await EventDefinition.getDataloader(ctx).load(checkName(args.name, 'name'));
        if (!definition) throw new NotFoundError('EventDefinition', args.name);
        return definition;
      },
    }),
    profileProperties: t.field({
      type: [PropertyDefinition],
      nullable: true,
      complexity: 10,
      description: 'Every documented user-profile property, by name.',
      errors: { dataField: { description: 'Profile property definitions, by name.' } },
      resolve: (_root, _args, ctx) => profileProperties(ctx),
    }),
    profileProperty: t.field({
      type: PropertyDefinition,
      nullable: true,
      complexity: 10,
      description: 'One user-profile property definition by name.',
      args: { name: t.arg.string({ required: true, description: 'Property name, e.g. `$email`.' }) },
      errors: { directResult: true },
      resolve: async (_root, args, ctx) => {
        const definition = await PropertyDefinition.getDataloader(ctx).load(checkName(args.name, 'name'));
        if (!definition) throw new NotFoundError('PropertyDefinition', args.name);
        return definition;
      },
    }),
  }),
});

builder.queryField('lexicon', (t) =>
  t.field({
    type: Lexicon,
    description: "The project's Lexicon: event and profile property definitions.",
    resolve: () => ({}),
  }),
);

const UpdateEventDefinitionInput = builder.inputType('UpdateEventDefinitionInput', {
  description: 'Changes to an event definition. Fields left out keep their current value.',
  fields: (t) => ({
    name: t.string({ required: true, description: 'The event name the definition documents.' }),
    description: t.string({ description: 'What the event records.' }),
    displayName: t.string({ description: 'Name shown in Mixpanel reports.' }),
    tags: t.stringList({ description: 'Lexicon tags (replaces the current list).' }),
    hidden: t.boolean({ description: 'Hide the event from Mixpanel menus.' }),
    dropped: t.boolean({ description: 'Drop the event at ingestion.' }),
    contacts: t.stringList({ description: 'Owner email addresses (replaces the current list).' }),
    teamContacts: t.stringList({ description: 'Owner teams (replaces the current list).' }),
  }),
});

builder.mutationField('updateLexiconEventDefinition', (t) =>
  t.field({
    type: EventDefinition,
    nullable: true,
    complexity: 50,
    description:
      "Documents an event in Lexicon (creating its schema if it has none). Needs an admin service account; Lexicon allows 5 writes a minute.",
    args: { input: t.arg({ type: UpdateEventDefinitionInput, required: true, description: 'The event and the changes.' }) },
    errors: { directResult: true },
    resolve: async (_root, { input }, ctx) => {
      const name = checkName(input.name, 'name');
      const { name: _name, description, ...metadataChanges } = input;
      const changedMetadata = Object.fromEntries(Object.entries(metadataChanges).filter(([, value]) => value !== null && value !== undefined));
      if ((description === null || description === undefined) && Object.keys(changedMetadata).length === 0) {
        throw new InvalidArgumentError('Nothing to change: give at least one field besides name', 'input');
      }
      // Upload the whole schema: Mixpanel merges metadata but its docs do not say what an upload does to properties it omits.
      const current = (await eventEntries(ctx)).find((entry) => entry.name === name)?.schemaJson ?? {};
      const schema: LexiconSchema = {
        ...current,
        ...(description === null || description === undefined ? {} : { description }),
        metadata: { ...current.metadata, 'com.mixpanel': { ...metadataOf(current), ...changedMetadata } },
      };
      await uploadLexiconSchema(ctx, { entityType: 'event', name, schemaJson: schema });
      ctx.project.invalidate('lexicon');
      EventDefinition.getDataloader(ctx).clear(name);
      return { entityType: 'event' as const, name, schemaJson: schema };
    },
  }),
);

export interface PropertyValueShape {
  readonly name: string;
  readonly value: unknown;
  /** The event that carried it; undefined for profile properties. */
  readonly eventName?: string;
}

/** A property value paired with its Lexicon definition (loaded once per request for all of them). */
export const PropertyValue = builder.objectRef<PropertyValueShape>('PropertyValue').implement({
  description: 'One property of an event or profile, with its Lexicon definition.',
  fields: (t) => ({
    name: t.exposeString('name', { description: 'Property name.' }),
    value: t.field({ type: 'JSON', nullable: true, description: 'The value as Mixpanel stores it.', resolve: (p) => p.value ?? null }),
    definition: t.field({
      type: PropertyDefinition,
      nullable: true,
      description: 'Its Lexicon definition, or null when Lexicon does not document it.',
      resolve: async (p, _args, ctx) => {
        if (p.eventName === undefined) return PropertyDefinition.getDataloader(ctx).load(p.name);
        const event = await EventDefinition.getDataloader(ctx).load(p.eventName);
        return event ? (propertiesOf(event).find((property) => property.name === p.name) ?? null) : null;
      },
    }),
  }),
});

/** The values of a property bag, by name. */
export function propertyValues(properties: Readonly<Record<string, unknown>>, eventName?: string): PropertyValueShape[] {
  return Object.keys(properties)
    .sort()
    .map((name) => ({ name, value: properties[name], ...(eventName === undefined ? {} : { eventName }) }));
}
