/**
 * Lexicon: what the project's events and profile properties mean, from the
 * Lexicon Schemas API. One schemas list call serves every definition a
 * request asks for (the loaders below share it, and the response cache
 * shares it between requests).
 */
import type { Context } from './context.js';
import { NotFoundError, InvalidArgumentError } from '../shared/errors.js';
import type { JsonSchemaType, LexiconPropertySchema, LexiconSchema, LexiconSchemaEntry, MixpanelMetadata } from '../mixpanel/types.js';
import { builder } from './builder.js';
import { failures } from './errors.js';
import { listConnection, listOf } from './lists.js';
import { lexiconEntries } from './loaders.js';
import { checkName } from './validation.js';
import { IDEMPOTENCY_KEY_DESCRIPTION, WRITE_ERRORS, onceFor, writesOf } from './writes.js';

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

const EventDefinitionConnection = listConnection('EventDefinitionConnection', EventDefinition, 'Event definitions.', 'Event definitions, by name.');
const PropertyDefinitionConnection = listConnection('PropertyDefinitionConnection', PropertyDefinition, 'Property definitions.', 'Property definitions, by name.');

export const Lexicon = builder.objectRef<Record<string, never>>('Lexicon').implement({
  description: "The project's data dictionary (Lexicon). Only entities that have a schema appear.",
  fields: (t) => ({
    events: t.field({
      type: EventDefinitionConnection,
      nullable: true,
      complexity: 10,
      description: 'Every documented event, by name.',
      errors: { types: failures('upstream') },
      resolve: async (_root, _args, ctx) => listOf(await eventEntries(ctx)),
    }),
    eventDefinition: t.field({
      type: EventDefinition,
      nullable: true,
      complexity: 10,
      description: 'One event definition by event name.',
      args: { name: t.arg.string({ required: true, description: 'Event name, e.g. `Sign Up`.' }) },
      errors: { types: failures('lookup') },
      resolve: async (_root, args, ctx) => {
        const definition = await EventDefinition.getDataloader(ctx).load(checkName(args.name, 'name'));
        if (!definition) throw new NotFoundError('EventDefinition', args.name);
        return definition;
      },
    }),
    profileProperties: t.field({
      type: PropertyDefinitionConnection,
      nullable: true,
      complexity: 10,
      description: 'Every documented user-profile property, by name.',
      errors: { types: failures('upstream') },
      resolve: async (_root, _args, ctx) => listOf(await profileProperties(ctx)),
    }),
    profileProperty: t.field({
      type: PropertyDefinition,
      nullable: true,
      complexity: 10,
      description: 'One user-profile property definition by name.',
      args: { name: t.arg.string({ required: true, description: 'Property name, e.g. `$email`.' }) },
      errors: { types: failures('lookup') },
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

type MetadataEdit = Partial<Record<keyof MixpanelMetadata, unknown>>;

const EVENT_METADATA_FIELDS = ['displayName', 'tags', 'hidden', 'dropped', 'contacts', 'teamContacts'] as const;
const PROPERTY_METADATA_FIELDS = ['displayName', 'hidden', 'dropped'] as const;
const MAX_LEXICON_TEXT = 4_000;
const MAX_LEXICON_LIST = 100;

/**
 * The metadata an input changes: a field left out keeps its value; a field
 * given as null is removed (Mixpanel merges uploaded metadata into the
 * stored one and removes keys sent as null).
 */
function metadataEdit(input: Record<string, unknown>, fields: readonly string[]): MetadataEdit {
  const edit: Record<string, unknown> = {};
  for (const field of fields) {
    const value = input[field];
    if (value === undefined) continue;
    if (Array.isArray(value)) {
      if (value.length > MAX_LEXICON_LIST) throw new InvalidArgumentError(`${field} takes at most ${MAX_LEXICON_LIST} entries`, field);
      for (const item of value as string[]) checkLexiconText(item, field);
      edit[field] = [...new Set(value as string[])];
    } else {
      if (typeof value === 'string') checkLexiconText(value, field);
      edit[field] = value;
    }
  }
  return edit as MetadataEdit;
}

function checkLexiconText(value: string, argument: string): string {
  checkName(value, argument);
  if (value.length > MAX_LEXICON_TEXT) throw new InvalidArgumentError(`${argument} must be at most ${MAX_LEXICON_TEXT} characters`, argument);
  return value;
}

function checkDefinitionName(value: string, argument: string): string {
  checkName(value, argument);
  if (value.length > 255) throw new InvalidArgumentError(`${argument} must be at most 255 characters`, argument);
  return value;
}

/** Metadata after an edit; removed keys are sent as null so the stored ones go too. */
function editedMetadata<T extends { readonly metadata?: { readonly 'com.mixpanel'?: MixpanelMetadata } }>(schema: T, edit: MetadataEdit): T {
  if (Object.keys(edit).length === 0) return schema;
  return { ...schema, metadata: { ...schema.metadata, 'com.mixpanel': { ...metadataOf(schema), ...edit } as MixpanelMetadata } };
}

/** What the client sees: removed keys gone rather than null. */
function withoutNulls<T extends { readonly metadata?: { readonly 'com.mixpanel'?: MixpanelMetadata } }>(schema: T): T {
  const metadata = schema.metadata?.['com.mixpanel'];
  if (!metadata) return schema;
  const kept = Object.fromEntries(Object.entries(metadata).filter(([, value]) => value !== null));
  return { ...schema, metadata: { ...schema.metadata, 'com.mixpanel': kept } };
}

function cleanSchema(schema: LexiconSchema): LexiconSchema {
  const properties = schema.properties && Object.fromEntries(Object.entries(schema.properties).map(([name, property]) => [name, withoutNulls(property)]));
  return withoutNulls(properties ? { ...schema, properties } : schema);
}

type EventEditMode = 'create' | 'update' | 'upsert';

/** An edit of an event definition, merged with every concurrent Lexicon edit into one upload. */
async function editEventDefinition(ctx: Context, mode: EventEditMode, input: Record<string, unknown> & { name: string; description?: string | null }): Promise<LexiconSchemaEntry> {
  const name = checkDefinitionName(input.name, 'name');
  const edit = metadataEdit(input, EVENT_METADATA_FIELDS);
  const description = input.description;
  if (typeof description === 'string') checkLexiconText(description, 'description');
  if (mode !== 'create' && description === undefined && Object.keys(edit).length === 0) {
    throw new InvalidArgumentError('Nothing to change: give at least one field besides name', 'input');
  }
  const schema = await writesOf(ctx).lexicon.edit(
    {
      entityType: 'event',
      name,
      apply(current) {
        if (mode === 'create' && current) throw new InvalidArgumentError(`Event ${JSON.stringify(name)} already has a definition; use updateEventDefinition`, 'name');
        if (mode === 'update' && !current) throw new NotFoundError('EventDefinition', name);
        // The whole schema is uploaded: an upload replaces the properties it carries, so they must all travel.
        const base: LexiconSchema = { ...current };
        const described = description === undefined ? base : description === null ? withoutKey(base, 'description') : { ...base, description };
        return editedMetadata(described, edit);
      },
    },
    ctx.upstream,
  );
  EventDefinition.getDataloader(ctx).clear(name);
  return { entityType: 'event', name, schemaJson: cleanSchema(schema ?? {}) };
}

function withoutKey<T extends object>(value: T, key: keyof T): T {
  const { [key]: _dropped, ...rest } = value;
  return rest as T;
}

/** Inputs are named for their mutation (`<Mutation>Input`); these mutations take the same fields. */
const eventDefinitionInput = (name: string, description: string) =>
  builder.inputType(name, {
    description,
    fields: (t) => ({
      name: t.string({ required: true, description: 'The event name the definition documents.' }),
      description: t.string({ description: 'What the event records (null removes it).' }),
      displayName: t.string({ description: 'Name shown in Mixpanel reports (null removes it).' }),
      tags: t.stringList({ description: 'Lexicon tags (replaces the current list).' }),
      hidden: t.boolean({ description: 'Hide the event from Mixpanel menus.' }),
      dropped: t.boolean({ description: 'Drop the event at ingestion.' }),
      contacts: t.stringList({ description: 'Owner email addresses (replaces the current list).' }),
      teamContacts: t.stringList({ description: 'Owner teams (replaces the current list).' }),
    }),
  });

const UpdateLexiconEventDefinitionInput = eventDefinitionInput(
  'UpdateLexiconEventDefinitionInput',
  'Changes to an event definition. Fields left out keep their current value.',
);
const CreateEventDefinitionInput = eventDefinitionInput('CreateEventDefinitionInput', 'A new event definition.');
const UpdateEventDefinitionInput = eventDefinitionInput(
  'UpdateEventDefinitionInput',
  'Changes to an event definition: fields left out keep their current value and null removes one.',
);

const propertyDefinitionInput = (name: string, description: string) =>
  builder.inputType(name, {
    description,
    fields: (t) => ({
      event: t.string({ description: 'The event that carries the property; leave it out for a user-profile property.' }),
      name: t.string({ required: true, description: 'The property name.' }),
      type: t.field({ type: JsonTypeEnum, description: 'Its JSON type (required to create a definition).' }),
      description: t.string({ description: 'What it records (null removes it).' }),
      displayName: t.string({ description: 'Name shown in Mixpanel reports (null removes it).' }),
      hidden: t.boolean({ description: 'Hide it from Mixpanel menus.' }),
      dropped: t.boolean({ description: 'Drop it at ingestion.' }),
    }),
  });

const CreatePropertyDefinitionInput = propertyDefinitionInput(
  'CreatePropertyDefinitionInput',
  'A new property definition: of an event (`event`), or of user profiles (no `event`).',
);
const UpdatePropertyDefinitionInput = propertyDefinitionInput(
  'UpdatePropertyDefinitionInput',
  'Changes to a property definition: of an event (`event`), or of user profiles (no `event`). Fields left out keep their value.',
);

interface DeletedDefinitionShape {
  readonly name: string;
  readonly event: string | null;
}

const DeletedDefinition = builder.objectRef<DeletedDefinitionShape>('DeletedDefinition').implement({
  description: 'A Lexicon definition that was deleted.',
  fields: (t) => ({
    name: t.exposeString('name', { description: 'The event or property name.' }),
    event: t.exposeString('event', { nullable: true, description: 'For an event property, its event; null for events and profile properties.' }),
  }),
});

type PropertyEditMode = 'create' | 'update' | 'delete';

async function editPropertyDefinition(
  ctx: Context,
  mode: PropertyEditMode,
  input: { event?: string | null; name: string; type?: JsonSchemaType | null; description?: string | null } & Record<string, unknown>,
): Promise<PropertyDefinitionShape | null> {
  const name = checkDefinitionName(input.name, 'name');
  const event = input.event === null || input.event === undefined ? undefined : checkDefinitionName(input.event, 'event');
  const entityType = event === undefined ? 'profile' : 'event';
  const edit = metadataEdit(input, PROPERTY_METADATA_FIELDS);
  if (typeof input.description === 'string') checkLexiconText(input.description, 'description');
  if (mode === 'create' && (input.type === null || input.type === undefined)) throw new InvalidArgumentError('type is required to create a property definition', 'type');
  if (mode === 'update' && input.type == null && input.description === undefined && Object.keys(edit).length === 0) {
    throw new InvalidArgumentError('Nothing to change: give at least one field besides event and name', 'input');
  }
  const entity = event ?? USER_PROFILE_SCHEMA;
  const schema = await writesOf(ctx).lexicon.edit(
    {
      entityType,
      name: entity,
      apply(current) {
        const properties = { ...current?.properties };
        const existing = properties[name];
        if (mode === 'create' && existing) throw new InvalidArgumentError(`Property ${JSON.stringify(name)} already has a definition; use updatePropertyDefinition`, 'name');
        if (mode !== 'create' && !existing) throw new NotFoundError('PropertyDefinition', event === undefined ? name : `${event}.${name}`);
        if (mode === 'delete') delete properties[name];
        else {
          let property: LexiconPropertySchema = { ...existing };
          if (input.type != null) property = { ...property, type: input.type };
          if (input.description === null) property = withoutKey(property, 'description');
          else if (input.description !== undefined) property = { ...property, description: input.description };
          properties[name] = editedMetadata(property, edit);
        }
        return { ...current, properties };
      },
    },
    ctx.upstream,
  );
  if (entityType === 'event') EventDefinition.getDataloader(ctx).clear(entity);
  else PropertyDefinition.getDataloader(ctx).clear(name);
  const property = schema?.properties?.[name];
  return property ? { name, entityType, schema: withoutNulls(property) } : null;
}

const lexiconWrite = <T>(ctx: Context, mutation: string, idempotencyKey: string | null | undefined, input: unknown, run: () => Promise<T>): Promise<T> =>
  // Every Lexicon edit sets a state: applying it twice leaves the same Lexicon.
  onceFor(ctx, mutation, { idempotencyKey, input, replaySafe: true }, run);

const LEXICON_EDIT_NOTE = 'Needs an admin service account. Concurrent edits of every client are merged into one upload, within 5 Lexicon calls and 4,000 updates a minute; the typed schema follows at once.';

builder.mutationFields((t) => ({
  updateLexiconEventDefinition: t.field({
    type: EventDefinition,
    nullable: true,
    complexity: 50,
    deprecationReason: 'Use updateEventDefinition (or createEventDefinition).',
    description: `Documents an event in Lexicon, creating its schema if it has none. ${LEXICON_EDIT_NOTE}`,
    args: { input: t.arg({ type: UpdateLexiconEventDefinitionInput, required: true, description: 'The event and the changes.' }) },
    errors: { types: failures('arguments') },
    resolve: (_root, { input }, ctx) => editEventDefinition(ctx, 'upsert', input),
  }),
  createEventDefinition: t.field({
    type: EventDefinition,
    nullable: true,
    complexity: 50,
    description: `Creates the Lexicon definition of an event that has none. ${LEXICON_EDIT_NOTE}`,
    args: {
      input: t.arg({ type: CreateEventDefinitionInput, required: true, description: 'The definition.' }),
      idempotencyKey: t.arg.string({ description: IDEMPOTENCY_KEY_DESCRIPTION }),
    },
    errors: { types: WRITE_ERRORS },
    resolve: (_root, args, ctx) => lexiconWrite(ctx, 'createEventDefinition', args.idempotencyKey, args.input, () => editEventDefinition(ctx, 'create', args.input)),
  }),
  updateEventDefinition: t.field({
    type: EventDefinition,
    nullable: true,
    complexity: 50,
    description: `Changes an existing event definition. ${LEXICON_EDIT_NOTE}`,
    args: {
      input: t.arg({ type: UpdateEventDefinitionInput, required: true, description: 'The event and the changes.' }),
      idempotencyKey: t.arg.string({ description: IDEMPOTENCY_KEY_DESCRIPTION }),
    },
    errors: { types: [...WRITE_ERRORS, NotFoundError] },
    resolve: (_root, args, ctx) => lexiconWrite(ctx, 'updateEventDefinition', args.idempotencyKey, args.input, () => editEventDefinition(ctx, 'update', args.input)),
  }),
  deleteEventDefinition: t.field({
    type: DeletedDefinition,
    nullable: true,
    complexity: 50,
    description: `Deletes an event definition and the property definitions it holds (one Lexicon call of its own). ${LEXICON_EDIT_NOTE}`,
    args: {
      name: t.arg.string({ required: true, description: 'The event name.' }),
      idempotencyKey: t.arg.string({ description: IDEMPOTENCY_KEY_DESCRIPTION }),
    },
    errors: { types: [...WRITE_ERRORS, NotFoundError] },
    resolve: (_root, args, ctx) =>
      lexiconWrite(ctx, 'deleteEventDefinition', args.idempotencyKey, { name: args.name }, async () => {
        const name = checkDefinitionName(args.name, 'name');
        await writesOf(ctx).lexicon.edit(
          {
            entityType: 'event',
            name,
            apply(current) {
              if (!current) throw new NotFoundError('EventDefinition', name);
              return null;
            },
          },
          ctx.upstream,
        );
        EventDefinition.getDataloader(ctx).clear(name);
        return { name, event: null };
      }),
  }),
  createPropertyDefinition: t.field({
    type: PropertyDefinition,
    nullable: true,
    complexity: 50,
    description: `Creates the definition of an event or user-profile property. ${LEXICON_EDIT_NOTE}`,
    args: {
      input: t.arg({ type: CreatePropertyDefinitionInput, required: true, description: 'The definition.' }),
      idempotencyKey: t.arg.string({ description: IDEMPOTENCY_KEY_DESCRIPTION }),
    },
    errors: { types: WRITE_ERRORS },
    resolve: (_root, args, ctx) =>
      lexiconWrite(ctx, 'createPropertyDefinition', args.idempotencyKey, args.input, async () => (await editPropertyDefinition(ctx, 'create', args.input))!),
  }),
  updatePropertyDefinition: t.field({
    type: PropertyDefinition,
    nullable: true,
    complexity: 50,
    description: `Changes an existing property definition. ${LEXICON_EDIT_NOTE}`,
    args: {
      input: t.arg({ type: UpdatePropertyDefinitionInput, required: true, description: 'The property and the changes.' }),
      idempotencyKey: t.arg.string({ description: IDEMPOTENCY_KEY_DESCRIPTION }),
    },
    errors: { types: [...WRITE_ERRORS, NotFoundError] },
    resolve: (_root, args, ctx) =>
      lexiconWrite(ctx, 'updatePropertyDefinition', args.idempotencyKey, args.input, async () => (await editPropertyDefinition(ctx, 'update', args.input))!),
  }),
  deletePropertyDefinition: t.field({
    type: DeletedDefinition,
    nullable: true,
    complexity: 50,
    description: `Deletes a property definition (its event's or the profile schema is uploaded without it). ${LEXICON_EDIT_NOTE}`,
    args: {
      event: t.arg.string({ description: 'The event that carries the property; leave it out for a user-profile property.' }),
      name: t.arg.string({ required: true, description: 'The property name.' }),
      idempotencyKey: t.arg.string({ description: IDEMPOTENCY_KEY_DESCRIPTION }),
    },
    errors: { types: [...WRITE_ERRORS, NotFoundError] },
    resolve: (_root, args, ctx) =>
      lexiconWrite(ctx, 'deletePropertyDefinition', args.idempotencyKey, { event: args.event, name: args.name }, async () => {
        await editPropertyDefinition(ctx, 'delete', { event: args.event, name: args.name });
        return { name: args.name, event: args.event ?? null };
      }),
  }),
}));

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
