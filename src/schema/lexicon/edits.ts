/**
 * Applying a Lexicon edit: the checks an edit's fields pass, the metadata it
 * changes or removes, and the event and property edits merged with every
 * concurrent Lexicon edit into one upload.
 */
import type { JsonSchemaType, LexiconPropertySchema, LexiconSchema, LexiconSchemaEntry, MixpanelMetadata } from '../../mixpanel/types.js';
import { InvalidArgumentError, NotFoundError } from '../../core/errors.js';
import type { Context } from '../context.js';
import { checkName } from '../validation.js';
import { writesOf } from '../writes.js';
import { EventDefinition, PropertyDefinition, type PropertyDefinitionShape, USER_PROFILE_SCHEMA, metadataOf } from './definitions.js';

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

export function checkDefinitionName(value: string, argument: string): string {
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
export async function editEventDefinition(
  ctx: Context,
  mode: EventEditMode,
  input: Record<string, unknown> & { name: string; description?: string | null },
): Promise<LexiconSchemaEntry> {
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
        if (mode === 'create' && current)
          throw new InvalidArgumentError(`Event ${JSON.stringify(name)} already has a definition; use updateEventDefinition`, 'name');
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

type PropertyEditMode = 'create' | 'update' | 'delete';

export async function editPropertyDefinition(
  ctx: Context,
  mode: PropertyEditMode,
  input: { event?: string | null; name: string; type?: JsonSchemaType | null; description?: string | null } & Record<string, unknown>,
): Promise<PropertyDefinitionShape | null> {
  const name = checkDefinitionName(input.name, 'name');
  const event = input.event === null || input.event === undefined ? undefined : checkDefinitionName(input.event, 'event');
  const entityType = event === undefined ? 'profile' : 'event';
  const edit = metadataEdit(input, PROPERTY_METADATA_FIELDS);
  if (typeof input.description === 'string') checkLexiconText(input.description, 'description');
  if (mode === 'create' && (input.type === null || input.type === undefined))
    throw new InvalidArgumentError('type is required to create a property definition', 'type');
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
        if (mode === 'create' && existing)
          throw new InvalidArgumentError(`Property ${JSON.stringify(name)} already has a definition; use updatePropertyDefinition`, 'name');
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
