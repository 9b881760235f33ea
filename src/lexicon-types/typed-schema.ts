/**
 * A project's typed schema: the generic schema plus one object type per
 * documented event (implementing `Event`) and one typed `Profile` field per
 * documented profile property, generated from the project's Lexicon.
 *
 * How it is built, and why this way: the generic types live on the one
 * Pothos builder shared by every project, so the typed layer cannot be added
 * there (it would leak into every project). Instead graphql-js's
 * `extendSchema` extends the generic schema with an SDL document: new event
 * types, and an extension of `Profile`. `extendSchema` rebuilds *every* named
 * type of the result (resolvers, Pothos extensions such as field complexity,
 * scalars' serializers all carried over), so the result shares no mutable type
 * with the generic schema. On those fresh types this module then sets what
 * SDL cannot carry: the resolvers of the new fields, the interface fields'
 * resolvers of each new type (copied from `GenericEvent`), and
 * `Event.resolveType`, which picks the type by event name. The generic
 * schema, and schema/schema.graphql printed from it, stay unchanged.
 */
import {
  extendSchema,
  isInterfaceType,
  isObjectType,
  Kind,
  parse,
  printType,
  specifiedScalarTypes,
  type ConstDirectiveNode,
  type DocumentNode,
  type FieldDefinitionNode,
  type GraphQLFieldResolver,
  type GraphQLInterfaceType,
  type GraphQLObjectType,
  type GraphQLSchema,
  type NamedTypeNode,
  type ObjectTypeDefinitionNode,
  type ObjectTypeExtensionNode,
  type StringValueNode,
  type TypeNode,
} from 'graphql';
import type { Context } from '../schema/context.js';
import type { LexiconPropertySchema, LexiconSchema, LexiconSchemaEntry, MixpanelMetadata } from '../mixpanel/types.js';
import { USER_PROFILE_SCHEMA } from '../schema/lexicon/index.js';
import type { EventShape, ProfileShape } from '../schema/loaders.js';
import { propertyOf } from '../schema/profiles.js';
import { coerce, typeMismatchError, valueTypeOf, type ValueType } from '../schema/lexicon-coercion.js';
import { assignNames } from './naming.js';

export interface TypedField {
  /** GraphQL field name. */
  readonly name: string;
  /** Mixpanel property name. */
  readonly property: string;
  readonly type: ValueType;
  readonly description: string;
  readonly deprecationReason: string | undefined;
}

export interface TypedEvent {
  /** GraphQL type name. */
  readonly typeName: string;
  /** Mixpanel event name. */
  readonly event: string;
  readonly description: string;
  readonly fields: readonly TypedField[];
}

export interface TypedLayer {
  readonly events: readonly TypedEvent[];
  readonly profileFields: readonly TypedField[];
  /** Mixpanel names left out of the layer because of a name clash (see naming.ts), e.g. `event "X"`. */
  readonly leftOut: readonly string[];
}

export interface TypedSchema {
  readonly schema: GraphQLSchema;
  readonly layer: TypedLayer;
}

const EVENT_INTERFACE = 'Event';
const GENERIC_EVENT = 'GenericEvent';
const PROFILE = 'Profile';

const metadataOf = (schema: LexiconSchema | LexiconPropertySchema): MixpanelMetadata => schema.metadata?.['com.mixpanel'] ?? {};

function describe(text: string | undefined, origin: string): string {
  return text ? `${text}\n\n${origin}` : origin;
}

type LexiconState = 'dropped' | 'hidden';

const STATE_NOTE: Readonly<Record<LexiconState, string>> = {
  dropped: 'dropped in Lexicon: new data no longer carries it',
  hidden: 'hidden in Lexicon',
};

function lexiconState(metadata: MixpanelMetadata): LexiconState | undefined {
  if (metadata.dropped) return 'dropped';
  if (metadata.hidden) return 'hidden';
  return undefined;
}

const stateReason = (state: LexiconState | undefined, subject: string): string | undefined =>
  state === undefined ? undefined : `${subject} is ${STATE_NOTE[state]}`;

function typedFields(schema: LexiconSchema, reserved: ReadonlySet<string>, inherited: string | undefined, leftOut: string[], owner: string): TypedField[] {
  const properties = schema.properties ?? {};
  const { names, clashes } = assignNames(Object.keys(properties), 'field', reserved);
  leftOut.push(...clashes.map((property) => `property "${property}" of ${owner}`));
  return [...names].map(([property, name]) => {
    const definition = properties[property]!;
    const type = valueTypeOf(property, definition);
    return {
      name,
      property,
      type,
      description: describe(definition.description, `Mixpanel property \`${property}\`, documented as ${type.documented}.`),
      deprecationReason: stateReason(lexiconState(metadataOf(definition)), `The property \`${property}\``) ?? inherited,
    };
  });
}

/** Names and types of the typed layer, from the Lexicon entries; the generic schema gives the reserved names. */
export function planTypedLayer(generic: GraphQLSchema, entries: readonly LexiconSchemaEntry[]): TypedLayer {
  const reservedTypes = new Set([...Object.keys(generic.getTypeMap()), ...specifiedScalarTypes.map((t) => t.name)]);
  const reservedEventFields = new Set(Object.keys(objectType(generic, GENERIC_EVENT).getFields()));
  const reservedProfileFields = new Set(Object.keys(objectType(generic, PROFILE).getFields()));
  const leftOut: string[] = [];

  const eventEntries = new Map(entries.filter((e) => e.entityType === 'event').map((e) => [e.name, e]));
  const { names, clashes } = assignNames(eventEntries.keys(), 'type', reservedTypes);
  leftOut.push(...clashes.map((event) => `event "${event}"`));
  const events = [...names].map(([event, typeName]): TypedEvent => {
    const schema = eventEntries.get(event)!.schemaJson;
    const state = lexiconState(metadataOf(schema));
    return {
      typeName,
      event,
      description: describe(schema.description, `Mixpanel event \`${event}\`${state ? `, ${STATE_NOTE[state]}` : ''}. Typed from Lexicon.`),
      fields: typedFields(schema, reservedEventFields, stateReason(state, `The event \`${event}\``), leftOut, `event "${event}"`),
    };
  });

  const user = entries.find((e) => e.entityType === 'profile' && e.name === USER_PROFILE_SCHEMA);
  const profileFields = user ? typedFields(user.schemaJson, reservedProfileFields, undefined, leftOut, 'the user profile') : [];
  return { events, profileFields, leftOut };
}

// ---------- SDL of the layer ----------

const nameNode = (value: string) => ({ kind: Kind.NAME, value }) as const;
const namedType = (name: string): NamedTypeNode => ({ kind: Kind.NAMED_TYPE, name: nameNode(name) });
const stringNode = (value: string, block = false): StringValueNode => ({ kind: Kind.STRING, value, block });
const typeNode = (type: ValueType): TypeNode => (type.list ? { kind: Kind.LIST_TYPE, type: namedType(type.scalar) } : namedType(type.scalar));

function deprecated(reason: string | undefined): ConstDirectiveNode[] {
  if (reason === undefined) return [];
  return [{ kind: Kind.DIRECTIVE, name: nameNode('deprecated'), arguments: [{ kind: Kind.ARGUMENT, name: nameNode('reason'), value: stringNode(reason) }] }];
}

const fieldNode = (field: TypedField): FieldDefinitionNode => ({
  kind: Kind.FIELD_DEFINITION,
  name: nameNode(field.name),
  description: stringNode(field.description, true),
  arguments: [],
  type: typeNode(field.type),
  directives: deprecated(field.deprecationReason),
});

function layerDocument(generic: GraphQLSchema, layer: TypedLayer): DocumentNode {
  // The interface's own fields, as SDL: each event type repeats them, as GraphQL requires.
  const [eventInterface] = parse(printType(interfaceType(generic, EVENT_INTERFACE))).definitions;
  const interfaceFields = eventInterface?.kind === Kind.INTERFACE_TYPE_DEFINITION ? (eventInterface.fields ?? []) : [];
  const events = layer.events.map(
    (event): ObjectTypeDefinitionNode => ({
      kind: Kind.OBJECT_TYPE_DEFINITION,
      name: nameNode(event.typeName),
      description: stringNode(event.description, true),
      interfaces: [namedType(EVENT_INTERFACE)],
      directives: [],
      fields: [...interfaceFields, ...event.fields.map(fieldNode)],
    }),
  );
  const profile: ObjectTypeExtensionNode[] =
    layer.profileFields.length === 0
      ? []
      : [{ kind: Kind.OBJECT_TYPE_EXTENSION, name: nameNode(PROFILE), interfaces: [], directives: [], fields: layer.profileFields.map(fieldNode) }];
  return { kind: Kind.DOCUMENT, definitions: [...events, ...profile] };
}

// ---------- resolvers ----------

function objectType(schema: GraphQLSchema, name: string): GraphQLObjectType {
  const type = schema.getType(name);
  if (!isObjectType(type)) throw new Error(`The generic schema has no object type ${name}`);
  return type;
}

function interfaceType(schema: GraphQLSchema, name: string): GraphQLInterfaceType {
  const type = schema.getType(name);
  if (!isInterfaceType(type)) throw new Error(`The generic schema has no interface ${name}`);
  return type;
}

function typedValue(field: TypedField, value: unknown): unknown {
  const result = coerce(value, field.type);
  // Thrown on a nullable field: the field is null with this error, the rest of the response stands.
  if (!result.ok) throw typeMismatchError(field.property, field.type.documented, result.actual);
  return result.value;
}

const eventFieldResolver =
  (field: TypedField): GraphQLFieldResolver<EventShape, Context> =>
  (event) =>
    typedValue(field, event.properties[field.property]);

const profileFieldResolver =
  (field: TypedField): GraphQLFieldResolver<ProfileShape, Context> =>
  async (profile, _args, ctx) =>
    typedValue(field, await propertyOf(profile, field.property, ctx));

/** Builds a project's typed schema from its Lexicon entries; `generic` is not modified. */
export function buildTypedSchema(generic: GraphQLSchema, entries: readonly LexiconSchemaEntry[]): TypedSchema {
  const layer = planTypedLayer(generic, entries);
  const schema = extendSchema(generic, layerDocument(generic, layer));

  const genericFields = objectType(schema, GENERIC_EVENT).getFields();
  for (const event of layer.events) {
    const fields = objectType(schema, event.typeName).getFields();
    for (const [name, inherited] of Object.entries(genericFields)) {
      const field = fields[name]!;
      field.resolve = inherited.resolve;
      field.extensions = inherited.extensions;
    }
    for (const typed of event.fields) fields[typed.name]!.resolve = eventFieldResolver(typed);
  }
  const profileFields = objectType(schema, PROFILE).getFields();
  for (const typed of layer.profileFields) profileFields[typed.name]!.resolve = profileFieldResolver(typed);

  const typeByEvent = new Map(layer.events.map((event) => [event.event, event.typeName]));
  interfaceType(schema, EVENT_INTERFACE).resolveType = (event: EventShape) => typeByEvent.get(event.name) ?? GENERIC_EVENT;
  return { schema, layer };
}
