/**
 * `lexicon { drift }`: where the data departs from Lexicon. One export call
 * (the first `sample` events of the last `days` days, cached like any
 * export read) is compared with the Lexicon schemas (one cached call):
 * events Lexicon does not document, properties a documented event carries
 * but Lexicon does not list, and values whose JSON type is not the
 * documented one. Profiles are not sampled: that would cost engage calls.
 */
import type { Context } from './context.js';
import { coerce, jsonTypeOf, matchesDocumented, valueTypeOf } from './lexicon-coercion.js';
import type { JsonSchemaType, LexiconPropertySchema, LexiconSchemaEntry } from '../mixpanel/types.js';
import { builder } from './builder.js';
import { failures } from './errors.js';
import { JsonTypeEnum, Lexicon } from './lexicon/index.js';
import { exportEvents, lexiconEntries, type EventShape } from './loaders.js';
import { addDays, checkLimit, today } from './validation.js';

const DEFAULT_DAYS = 1;
const MAX_DAYS = 30;
const DEFAULT_SAMPLE = 1_000;
const MAX_SAMPLE = 10_000;

/**
 * Properties Mixpanel or its SDKs add to every event: nobody documents them,
 * so reporting them would bury real drift (https://developer.mixpanel.com/reference/import-events names
 * time, distinct_id and $insert_id; the rest are set at ingestion).
 */
const INGESTION_PROPERTIES: ReadonlySet<string> = new Set([
  'time',
  'distinct_id',
  '$distinct_id',
  '$insert_id',
  'token',
  '$source',
  'mp_processing_time_ms',
  '$mp_api_endpoint',
  '$mp_api_timestamp_ms',
]);

interface UndocumentedEventShape {
  readonly name: string;
  readonly count: number;
}

interface UndocumentedPropertyShape {
  readonly event: string;
  readonly property: string;
  readonly count: number;
}

interface TypeMismatchShape {
  readonly event: string;
  readonly property: string;
  readonly documented: readonly JsonSchemaType[];
  readonly actual: readonly JsonSchemaType[];
  readonly count: number;
  readonly convertible: boolean;
}

interface DriftShape {
  readonly from: string;
  readonly to: string;
  readonly sampledEvents: number;
  readonly undocumentedEvents: readonly UndocumentedEventShape[];
  readonly undocumentedProperties: readonly UndocumentedPropertyShape[];
  readonly typeMismatches: readonly TypeMismatchShape[];
}

const byCountThenName =
  <T extends { readonly count: number }>(key: (item: T) => string) =>
  (a: T, b: T) =>
    b.count - a.count || key(a).localeCompare(key(b));

const documentedTypes = (schema: LexiconPropertySchema): JsonSchemaType[] =>
  schema.type === undefined ? [] : typeof schema.type === 'string' ? [schema.type] : [...schema.type];

/** The drift between Lexicon entries and a sample of events. */
export function compareWithLexicon(entries: readonly LexiconSchemaEntry[], events: readonly EventShape[]): Omit<DriftShape, 'from' | 'to'> {
  const documented = new Map(entries.filter((e) => e.entityType === 'event').map((e) => [e.name, e.schemaJson.properties ?? {}]));
  const undocumentedEvents = new Map<string, number>();
  const undocumentedProperties = new Map<string, UndocumentedPropertyShape>();
  const mismatches = new Map<
    string,
    { event: string; property: string; schema: LexiconPropertySchema; actual: Set<JsonSchemaType>; count: number; convertible: boolean }
  >();

  for (const event of events) {
    const properties = documented.get(event.name);
    if (properties === undefined) {
      undocumentedEvents.set(event.name, (undocumentedEvents.get(event.name) ?? 0) + 1);
      continue;
    }
    for (const [property, value] of Object.entries(event.properties)) {
      const key = JSON.stringify([event.name, property]);
      const schema = properties[property];
      if (schema === undefined) {
        if (INGESTION_PROPERTIES.has(property)) continue;
        const seen = undocumentedProperties.get(key);
        undocumentedProperties.set(key, { event: event.name, property, count: (seen?.count ?? 0) + 1 });
        continue;
      }
      if (value === null || matchesDocumented(value, schema)) continue;
      const seen = mismatches.get(key) ?? { event: event.name, property, schema, actual: new Set(), count: 0, convertible: true };
      seen.actual.add(jsonTypeOf(value));
      seen.count += 1;
      seen.convertible &&= coerce(value, valueTypeOf(property, schema)).ok;
      mismatches.set(key, seen);
    }
  }

  const eventAndProperty = (item: { readonly event: string; readonly property: string }) => `${item.event}\u0000${item.property}`;
  return {
    sampledEvents: events.length,
    undocumentedEvents: [...undocumentedEvents].map(([name, count]) => ({ name, count })).sort(byCountThenName((e) => e.name)),
    undocumentedProperties: [...undocumentedProperties.values()].sort(byCountThenName<UndocumentedPropertyShape>(eventAndProperty)),
    typeMismatches: [...mismatches.values()]
      .map(({ event, property, schema, actual, count, convertible }) => ({
        event,
        property,
        documented: documentedTypes(schema),
        actual: [...actual].sort(),
        count,
        convertible,
      }))
      .sort(byCountThenName<TypeMismatchShape>(eventAndProperty)),
  };
}

const UndocumentedEvent = builder.objectRef<UndocumentedEventShape>('UndocumentedEvent').implement({
  description: 'An event in the data that Lexicon does not document.',
  fields: (t) => ({
    name: t.exposeString('name', { description: 'The event name.' }),
    count: t.exposeInt('count', { description: 'How many sampled events had it.' }),
  }),
});

const UndocumentedProperty = builder.objectRef<UndocumentedPropertyShape>('UndocumentedProperty').implement({
  description: "A property a documented event carries in the data but not in its Lexicon schema (Mixpanel's ingestion properties aside).",
  fields: (t) => ({
    event: t.exposeString('event', { description: 'The event name.' }),
    property: t.exposeString('property', { description: 'The property name.' }),
    count: t.exposeInt('count', { description: 'How many sampled events carried it.' }),
  }),
});

const LexiconTypeMismatch = builder.objectRef<TypeMismatchShape>('LexiconTypeMismatch').implement({
  description: 'A documented property whose values in the data do not have the documented JSON type.',
  fields: (t) => ({
    event: t.exposeString('event', { description: 'The event name.' }),
    property: t.exposeString('property', { description: 'The property name.' }),
    documented: t.field({ type: [JsonTypeEnum], description: 'The types Lexicon documents.', resolve: (m) => [...m.documented] }),
    actual: t.field({
      type: [JsonTypeEnum],
      description: 'The other types seen in the data (a whole number counts as INTEGER).',
      resolve: (m) => [...m.actual],
    }),
    count: t.exposeInt('count', { description: 'How many sampled values did not have the documented type.' }),
    convertible: t.exposeBoolean('convertible', {
      description: 'Whether every such value converts to the documented type without loss (e.g. "42" for an integer), as typed fields do.',
    }),
  }),
});

const LexiconDrift = builder.objectRef<DriftShape>('LexiconDrift').implement({
  description: 'Where a sample of recent events departs from Lexicon.',
  fields: (t) => ({
    from: t.field({ type: 'Date', description: 'First day sampled (UTC).', resolve: (d) => d.from }),
    to: t.field({ type: 'Date', description: 'Last day sampled (UTC).', resolve: (d) => d.to }),
    sampledEvents: t.exposeInt('sampledEvents', { description: 'How many events were compared (the first ones of the range, up to `sample`).' }),
    undocumentedEvents: t.field({
      type: [UndocumentedEvent],
      description: 'Events Lexicon does not document, most frequent first.',
      resolve: (d) => [...d.undocumentedEvents],
    }),
    undocumentedProperties: t.field({
      type: [UndocumentedProperty],
      description: 'Properties of documented events that their schema does not list, most frequent first.',
      resolve: (d) => [...d.undocumentedProperties],
    }),
    typeMismatches: t.field({
      type: [LexiconTypeMismatch],
      description: 'Documented properties holding values of another type, most frequent first.',
      resolve: (d) => [...d.typeMismatches],
    }),
  }),
});

builder.objectField(Lexicon, 'drift', (t) =>
  t.field({
    type: LexiconDrift,
    nullable: true,
    complexity: 30,
    description: `Compares Lexicon with a sample of recent events: one export call (Export budget) and the cached Lexicon schemas.`,
    args: {
      days: t.arg.int({ description: `Days sampled, ending today (UTC), 1..${MAX_DAYS} (default ${DEFAULT_DAYS}).` }),
      sample: t.arg.int({ description: `Most events compared, 1..${MAX_SAMPLE} (default ${DEFAULT_SAMPLE}).` }),
    },
    errors: { types: failures('arguments') },
    resolve: async (_root, args, ctx: Context) => {
      const days = checkLimit(args.days, MAX_DAYS, 'days') ?? DEFAULT_DAYS;
      const sample = checkLimit(args.sample, MAX_SAMPLE, 'sample') ?? DEFAULT_SAMPLE;
      const to = today();
      const from = addDays(to, 1 - days);
      const [entries, events] = await Promise.all([lexiconEntries(ctx), exportEvents(ctx, { fromDate: from, toDate: to, limit: sample })]);
      return { from, to, ...compareWithLexicon(entries, events) };
    },
  }),
);
