/**
 * Events: the raw export stream as a connection, and each profile's recent
 * activity from /stream/query. `Event` is an interface so that typed event
 * types (one per Lexicon event) can implement it beside `GenericEvent`.
 */
import type { Context } from './context.js';
import { decodeEventCursor, eventPage, EventRangeTooLargeError } from './event-pages.js';
import { builder } from './builder.js';
import { failures } from './errors.js';
import { listConnection, listOf } from './lists.js';
import { EventDefinition, PropertyValue, propertyValues } from './lexicon/index.js';
import { loadActivity, type EventShape } from './loaders.js';
import { Profile } from './profiles.js';
import { checkDateRange, checkExpression, checkFirst, checkNames } from './validation.js';

const MAX_EVENTS_PER_PAGE = 1_000;
const DEFAULT_EVENTS_PER_PAGE = 100;
/** Longest `events` range: one read holds it (on disk, see src/events/spill.ts). */
const MAX_EXPORT_DAYS = 366;
/** Longest `activity` range. Mixpanel's stream also refuses dates more than 365 days back (https://github.com/ploner/RMixpanel/issues/7). */
const MAX_ACTIVITY_DAYS = 90;
const MAX_ACTIVITY_DAYS_BACK = 365;
/** /stream/query takes the distinct ids in the URL: batches stay well under URL length limits. */
const ACTIVITY_BATCH = 200;
const MAX_EVENT_NAMES = 100;

export const Event = builder.interfaceRef<EventShape>('Event').implement({
  description: 'Something a user did, as Mixpanel recorded it.',
  resolveType: () => 'GenericEvent',
  fields: (t) => ({
    name: t.exposeString('name', { description: 'The event name, e.g. `Sign Up`.' }),
    time: t.field({ type: 'DateTime', description: 'When it happened.', resolve: (e) => new Date(e.time) }),
    distinctId: t.exposeID('distinctId', { nullable: true, description: 'Distinct id of the user who did it.' }),
    insertId: t.exposeString('insertId', { nullable: true, description: 'The `$insert_id` Mixpanel deduplicates on.' }),
    properties: t.field({ type: 'JSON', description: 'Every property, as Mixpanel stores them.', resolve: (e) => e.properties }),
    property: t.field({
      type: 'JSON',
      nullable: true,
      description: 'One property by name (null when absent).',
      args: { name: t.arg.string({ required: true, description: 'Property name, e.g. `$browser`.' }) },
      resolve: (e, args) => e.properties[args.name] ?? null,
    }),
    propertyValues: t.field({
      type: [PropertyValue],
      complexity: 2,
      description: 'Every property with its Lexicon definition.',
      resolve: (e) => propertyValues(e.properties, e.name),
    }),
    profile: t.field({
      type: Profile,
      nullable: true,
      complexity: 2,
      description: 'The profile of the user who did it (batched: one engage call for all events of the operation).',
      resolve: (e) => e.distinctId,
    }),
    definition: t.field({
      type: EventDefinition,
      nullable: true,
      complexity: 1,
      description: 'Its Lexicon definition, or null when Lexicon does not document the event.',
      resolve: (e) => e.name,
    }),
  }),
});

builder.objectRef<EventShape>('GenericEvent').implement({
  description: 'An event of any name, with its properties as JSON.',
  interfaces: [Event],
});

const EventConnection = builder.connectionObject(
  {
    type: Event,
    name: 'EventConnection',
    description: 'A page of exported events, oldest first (ties in time broken by `$insert_id`).',
    fields: (t) => ({
      totalCount: t.int({
        nullable: true,
        description: 'Events in the whole range and filter, every page together.',
        resolve: (connection) => connection.totalCount ?? null,
      }),
    }),
  },
  { name: 'EventEdge', description: 'An event and its cursor.' },
);

builder.queryField('events', (t) =>
  t.field({
    type: EventConnection,
    nullable: true,
    complexity: (args) => ({ field: 20, multiplier: Math.min(args.first ?? DEFAULT_EVENTS_PER_PAGE, MAX_EVENTS_PER_PAGE) }),
    description:
      `Raw events from Mixpanel's export, oldest first, a page at a time (at most ${MAX_EVENTS_PER_PAGE} per page). ` +
      `The range is read from Mixpanel once and pages are cut from that read, so paging costs one export call per ` +
      `range and filter while the read is kept.`,
    args: {
      from: t.arg({ type: 'Date', required: true, description: 'First day, inclusive (UTC, as the export reads it).' }),
      to: t.arg({ type: 'Date', required: true, description: 'Last day, inclusive; not later than today (UTC).' }),
      names: t.arg.stringList({ description: 'Only these event names.' }),
      where: t.arg.string({ description: 'Filter expression on event properties (Mixpanel segmentation-expression syntax).' }),
      first: t.arg.int({ description: `Events per page, 1..${MAX_EVENTS_PER_PAGE} (default ${DEFAULT_EVENTS_PER_PAGE}).` }),
      after: t.arg.string({ description: 'The `endCursor` of the previous page.' }),
    },
    errors: { types: failures('arguments', EventRangeTooLargeError) },
    resolve: async (_root, args, ctx) => {
      // Export dates are UTC for projects created after 2023-01-01 (https://developer.mixpanel.com/reference/raw-event-export).
      const range = checkDateRange({ from: args.from, to: args.to }, { maxDays: MAX_EXPORT_DAYS, now: ctx.now() });
      const names = checkNames(args.names, 'names', MAX_EVENT_NAMES);
      const where = checkExpression(args.where, 'where');
      const first = checkFirst(args.first, { default: DEFAULT_EVENTS_PER_PAGE, max: MAX_EVENTS_PER_PAGE });
      const read = { fromDate: range.from, toDate: range.to, ...(names === undefined ? {} : { events: names }), ...(where === undefined ? {} : { where }) };
      const after = decodeEventCursor(read, args.after);
      return eventPage(ctx, read, after, first);
    },
  }),
);

const ActivityConnection = listConnection('ActivityConnection', Event, "A user's events.", 'The events, oldest first.');

builder.objectField(Profile, 'activity', (t) =>
  t.loadable({
    type: ActivityConnection,
    nullable: true,
    byPath: true,
    complexity: 5,
    loaderOptions: { maxBatchSize: ACTIVITY_BATCH },
    description:
      `The user's events between two days, oldest first (at most ${MAX_ACTIVITY_DAYS} days, within the last ` +
      `${MAX_ACTIVITY_DAYS_BACK}). One /stream/query call serves every profile of the list.`,
    args: {
      from: t.arg({ type: 'Date', required: true, description: 'First day, inclusive, in the project’s timezone.' }),
      to: t.arg({ type: 'Date', required: true, description: 'Last day, inclusive; not later than today in the project’s timezone.' }),
    },
    errors: { types: failures('arguments') },
    load: async (distinctIds: string[], ctx: Context, args) => (await loadActivity(ctx, distinctIds, args.from, args.to)).map(listOf),
    resolve: (profile, args, ctx) => {
      checkDateRange(
        { from: args.from, to: args.to },
        { maxDays: MAX_ACTIVITY_DAYS, maxDaysBack: MAX_ACTIVITY_DAYS_BACK, now: ctx.now(), timeZone: ctx.project.config.timezone },
      );
      return profile.distinctId;
    },
  }),
);
