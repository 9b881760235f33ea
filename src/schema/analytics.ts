/**
 * Mixpanel's Query API reports as typed series: segmentation, event and
 * property counts, funnels, retention and saved Insights reports. Every
 * report field is generated from one table, REPORTS (name, description,
 * arguments, endpoint, parameter mapping, result type). Each is one Query
 * call (60 an hour per project), so each costs 20 in the complexity
 * estimate, and fails only with InvalidArgumentError or RateLimitedError;
 * answers over closed date ranges are cached long.
 */
import type { Context } from './context.js';
import { InvalidArgumentError } from '../shared/errors.js';
import type {
  CountType,
  FunnelParams,
  RetentionParams,
  SegmentationParams,
  SegmentationUnit,
  SeriesResponse,
  FunnelResponse,
  FunnelStep as MixpanelFunnelStep,
  AddictionParams,
} from '../mixpanel/types.js';
import type { InputFieldMap, InputShapeFromFields, ObjectRef } from '@pothos/core';
import type { EndpointName, ParamsOf, ResultOf } from '../upstream/endpoints.js';
import { builder, type BuilderTypes } from './builder.js';
import { failures } from './errors.js';
import { listConnection, listOf } from './lists.js';
import { analytics } from './loaders.js';
import { checkDateRange, checkExpression, checkLimit, checkName, checkNames, checkNumericId, type DateRange } from './validation.js';

/** Longest range of any report. Mixpanel documents none for most endpoints; a year keeps answers bounded. */
const MAX_REPORT_DAYS = 366;
/** Mixpanel's cap on segmentation, funnel and retention `limit` (https://developer.mixpanel.com/reference/segmentation-query, https://developer.mixpanel.com/reference/funnels-query). */
const MAX_SEGMENT_LIMIT = 10_000;
/** Funnel `length` and retention `interval` are capped at 90 days (https://developer.mixpanel.com/reference/funnels-query, https://developer.mixpanel.com/reference/retention-query). */
const MAX_WINDOW_DAYS = 90;
/** Caps for list endpoints whose maximum Mixpanel does not document. */
const MAX_LIST_LIMIT = 10_000;
const MAX_EVENTS_PER_QUERY = 100;
const REPORT_COST = 20;

// ---------- enums ----------

const TimeUnitEnum = builder.enumType('TimeUnit', {
  description: 'Bucket size of a time series.',
  values: {
    MINUTE: { value: 'minute', description: 'One bucket per minute.' },
    HOUR: { value: 'hour', description: 'One bucket per hour.' },
    DAY: { value: 'day', description: 'One bucket per day.' },
    WEEK: { value: 'week', description: 'One bucket per week.' },
    MONTH: { value: 'month', description: 'One bucket per month.' },
  } as const satisfies Record<string, { value: SegmentationUnit; description: string }>,
});

/** /segmentation's `unit` enum in the spec has no week (https://developer.mixpanel.com/reference/segmentation-query). */
const SegmentationUnitEnum = builder.enumType('SegmentationUnit', {
  description: 'Bucket size of a segmentation report.',
  values: {
    MINUTE: { value: 'minute', description: 'One bucket per minute.' },
    HOUR: { value: 'hour', description: 'One bucket per hour.' },
    DAY: { value: 'day', description: 'One bucket per day.' },
    MONTH: { value: 'month', description: 'One bucket per month.' },
  } as const satisfies Record<string, { value: SegmentationUnit; description: string }>,
});

const CountTypeEnum = builder.enumType('CountType', {
  description: 'What a count measures.',
  values: {
    GENERAL: { value: 'general', description: 'Every event.' },
    UNIQUE: { value: 'unique', description: 'Distinct users.' },
    AVERAGE: { value: 'average', description: 'Events per user.' },
  } as const satisfies Record<string, { value: CountType; description: string }>,
});

const PeriodUnitEnum = builder.enumType('PeriodUnit', {
  description: 'Calendar period of a funnel or retention row.',
  values: {
    DAY: { value: 'day', description: 'Daily.' },
    WEEK: { value: 'week', description: 'Weekly.' },
    MONTH: { value: 'month', description: 'Monthly.' },
  } as const,
});

const LengthUnitEnum = builder.enumType('FunnelLengthUnit', {
  description: 'Unit of the time a user has to complete a funnel.',
  values: {
    DAY: { value: 'day', description: 'Days.' },
    HOUR: { value: 'hour', description: 'Hours.' },
    MINUTE: { value: 'minute', description: 'Minutes.' },
    SECOND: { value: 'second', description: 'Seconds.' },
  } as const,
});

const RetentionTypeEnum = builder.enumType('RetentionType', {
  description: 'How users are grouped for retention.',
  values: {
    BIRTH: { value: 'birth', description: 'First-time retention: users grouped by when they first did `bornEvent`.' },
    COMPOUNDED: { value: 'compounded', description: 'Recurring retention: users grouped by when they did `event`.' },
  } as const,
});

const FrequencyUnitEnum = builder.enumType('FrequencyUnit', {
  description: 'Granularity at which frequency counts activity.',
  values: {
    HOUR: { value: 'hour', description: 'Hours.' },
    DAY: { value: 'day', description: 'Days.' },
  } as const,
});

// ---------- result types ----------

interface PointShape {
  readonly date: string;
  readonly value: number;
}
interface SegmentShape {
  readonly name: string;
  readonly points: readonly PointShape[];
}
interface SeriesShape {
  readonly series: readonly string[];
  readonly segments: readonly SegmentShape[];
}

const Point = builder.objectRef<PointShape>('Point').implement({
  description: 'One value of a time series.',
  fields: (t) => ({
    date: t.exposeString('date', { description: 'The bucket, as Mixpanel labels it: a day (`2024-05-01`), an hour or minute, or a range for numeric buckets.' }),
    value: t.exposeFloat('value', { description: 'The value in that bucket.' }),
  }),
});

const Segment = builder.objectRef<SegmentShape>('Segment').implement({
  description: 'One line of a report: an event, or one value of the property segmented on.',
  fields: (t) => ({
    name: t.exposeString('name', { description: 'The event name or property value.' }),
    points: t.field({ type: [Point], description: 'Values in series order.', resolve: (s) => s.points }),
    total: t.float({ description: 'Sum of the points.', resolve: (s) => s.points.reduce((sum, p) => sum + p.value, 0) }),
  }),
});

const Series = builder.objectRef<SeriesShape>('Series').implement({
  description: 'A time series per segment.',
  fields: (t) => ({
    series: t.stringList({ description: 'The buckets, in order.', resolve: (r) => [...r.series] }),
    segments: t.field({ type: [Segment], description: 'One line per segment.', resolve: (r) => r.segments }),
  }),
});

const ScalarSeries = builder.objectRef<{ readonly points: readonly PointShape[]; readonly computedAt: string | null }>('ScalarSeries').implement({
  description: 'One value per bucket (a sum or an average of a numeric property).',
  fields: (t) => ({
    points: t.field({ type: [Point], description: 'Values by bucket, in order.', resolve: (r) => r.points }),
    computedAt: t.field({ type: 'DateTime', nullable: true, description: 'When Mixpanel computed it.', resolve: (r) => (r.computedAt ? new Date(r.computedAt) : null) }),
  }),
});

const TopEvent = builder.objectRef<{ readonly event: string; readonly amount: number; readonly percent_change: number }>('TopEvent').implement({
  description: 'An event among today’s most common.',
  fields: (t) => ({
    event: t.exposeString('event', { description: 'Event name.' }),
    amount: t.exposeFloat('amount', { description: 'Count today.' }),
    percentChange: t.exposeFloat('percent_change', { description: 'Change against yesterday, as a ratio (-0.35 is 35% fewer).' }),
  }),
});

const PropertyCount = builder.objectRef<{ readonly name: string; readonly count: number }>('PropertyCount').implement({
  description: 'A property name and how many events carried it.',
  fields: (t) => ({
    name: t.exposeString('name', { description: 'Property name.' }),
    count: t.exposeFloat('count', { description: 'Events carrying it.' }),
  }),
});

function toSeries(response: SeriesResponse): SeriesShape {
  const { series, values } = response.data;
  return {
    series: [...series],
    segments: Object.entries(values).map(([name, byDate]) => ({
      name,
      points: (series.length > 0 ? series : Object.keys(byDate).sort()).map((date) => ({ date, value: byDate[date] ?? 0 })),
    })),
  };
}

function toPoints(values: Readonly<Record<string, number>>): PointShape[] {
  return Object.keys(values)
    .sort()
    .map((date) => ({ date, value: values[date] ?? 0 }));
}

// ---------- shared arguments ----------

/** The Query API reads dates in the project's timezone, so "today" is the project's. */
function range(args: { from: string; to: string }, ctx: Context): DateRange {
  return checkDateRange({ from: args.from, to: args.to }, { maxDays: MAX_REPORT_DAYS, now: ctx.now(), timeZone: ctx.project.config.timezone });
}

/** Copies the defined entries only: the cache key and Mixpanel's query string carry no empty parameters. */
function defined<T extends object>(params: T): T {
  return Object.fromEntries(Object.entries(params).filter(([, value]) => value !== undefined && value !== null)) as T;
}

function checkPositive(value: number | null | undefined, argument: string, max?: number): number | undefined {
  if (value === null || value === undefined) return undefined;
  if (!Number.isInteger(value) || value < 1 || (max !== undefined && value > max)) {
    throw new InvalidArgumentError(`${argument} must be a positive integer${max === undefined ? '' : ` up to ${max}`}, got ${value}`, argument);
  }
  return value;
}

const dateArgs = builder.args((t) => ({
  from: t.field({ type: 'Date', required: true, description: 'First day, inclusive, in the project’s timezone.' }),
  to: t.field({ type: 'Date', required: true, description: 'Last day, inclusive; not later than today in the project’s timezone.' }),
}));

function segmentationParams(ctx: Context, args: {
  event: string;
  from: string;
  to: string;
  on?: string | null;
  unit?: SegmentationUnit | null;
  where?: string | null;
  type?: CountType | null;
  limit?: number | null;
  interval?: number | null;
}): SegmentationParams {
  const { from, to } = range(args, ctx);
  if (args.unit && args.interval !== null && args.interval !== undefined) {
    throw new InvalidArgumentError('interval (days per bucket) replaces unit: give one of them', 'interval');
  }
  const on = checkExpression(args.on, 'on');
  const limit = checkLimit(args.limit, MAX_SEGMENT_LIMIT);
  if (limit !== undefined && on === undefined) throw new InvalidArgumentError('limit applies to segments: give `on` as well', 'limit');
  return defined({
    event: checkName(args.event, 'event'),
    fromDate: from,
    toDate: to,
    on,
    unit: args.unit ?? undefined,
    interval: checkPositive(args.interval, 'interval'),
    where: checkExpression(args.where, 'where'),
    type: args.type ?? undefined,
    limit,
  });
}

function numericParams(ctx: Context, args: Parameters<typeof segmentationParams>[1] & { on: string }): SegmentationParams & { on: string } {
  if (args.unit && args.unit !== 'hour' && args.unit !== 'day') {
    throw new InvalidArgumentError('unit must be HOUR or DAY for numeric segmentation', 'unit');
  }
  const params = segmentationParams(ctx, args);
  return { ...params, on: params.on ?? checkName(args.on, 'on') };
}

// ---------- funnels, retention, insights shapes ----------

/** One day of Mixpanel's funnel answer, with its date key moved inside. */
type FunnelDayShape = FunnelResponse['data'][string] & { readonly date: string };

const FunnelStep = builder.objectRef<MixpanelFunnelStep>('FunnelStep').implement({
  description: 'One step of a funnel on one day.',
  fields: (t) => ({
    event: t.exposeString('event', { description: 'The event of the step.' }),
    goal: t.exposeString('goal', { description: 'The step’s label.' }),
    count: t.exposeInt('count', { description: 'Users who reached the step.' }),
    averageSeconds: t.float({ nullable: true, description: 'Average seconds from the previous step.', resolve: (s) => s.avg_time }),
    averageSecondsFromStart: t.float({ nullable: true, description: 'Average seconds from the first step.', resolve: (s) => s.avg_time_from_start }),
    stepConversion: t.exposeFloat('step_conv_ratio', { description: 'Share of the previous step’s users who reached this one (0..1).' }),
    overallConversion: t.exposeFloat('overall_conv_ratio', { description: 'Share of the first step’s users who reached this one (0..1).' }),
  }),
});

const FunnelDay = builder.objectRef<FunnelDayShape>('FunnelDay').implement({
  description: 'A funnel’s steps for users who entered it in one period.',
  fields: (t) => ({
    date: t.exposeString('date', { description: 'The period (its first day).' }),
    steps: t.field({ type: [FunnelStep], description: 'Steps in order.', resolve: (d) => d.steps }),
    completion: t.int({ description: 'Users who completed every step.', resolve: (d) => d.analysis.completion }),
    startingAmount: t.int({ description: 'Users who entered the funnel.', resolve: (d) => d.analysis.starting_amount }),
    stepCount: t.int({ description: 'Number of steps.', resolve: (d) => d.analysis.steps }),
    worstStep: t.int({ description: 'Index of the step losing most users.', resolve: (d) => d.analysis.worst }),
  }),
});

const FunnelReport = builder.objectRef<{ readonly dates: readonly string[]; readonly days: readonly FunnelDayShape[] }>('FunnelReport').implement({
  description: 'A saved funnel’s conversion per period.',
  fields: (t) => ({
    dates: t.stringList({ description: 'The periods, in order.', resolve: (r) => [...r.dates] }),
    days: t.field({ type: [FunnelDay], description: 'One entry per period.', resolve: (r) => r.days }),
  }),
});

const FunnelSummary = builder.objectRef<{ readonly funnel_id: number; readonly name: string }>('FunnelSummary').implement({
  description: 'A saved funnel.',
  fields: (t) => ({
    id: t.id({ description: 'Funnel id.', resolve: (f) => String(f.funnel_id) }),
    name: t.exposeString('name', { description: 'Funnel name.' }),
  }),
});

const RetentionRow = builder.objectRef<{ readonly date: string; readonly first: number; readonly counts: readonly number[] }>('RetentionRow').implement({
  description: 'Users who started in one period, and how many came back in each later one.',
  fields: (t) => ({
    date: t.exposeString('date', { description: 'The period the users started in.' }),
    first: t.exposeInt('first', { description: 'Users who started then.' }),
    counts: t.field({ type: ['Int'], description: 'Users retained in each following interval.', resolve: (r) => [...r.counts] }),
  }),
});

const FrequencyRow = builder.objectRef<{ readonly date: string; readonly counts: readonly number[] }>('FrequencyRow').implement({
  description: 'How often users did the event within one period: `counts[i]` users did it in at least i+1 hours or days.',
  fields: (t) => ({
    date: t.exposeString('date', { description: 'The period.' }),
    counts: t.field({ type: ['Int'], description: 'Users active in at least 1, 2, … hours or days of the period.', resolve: (r) => [...r.counts] }),
  }),
});

interface InsightsShape {
  readonly computedAt: string;
  readonly fromDate: string;
  readonly toDate: string;
  readonly headers: readonly string[];
  readonly segments: readonly SegmentShape[];
}

const InsightsReport = builder.objectRef<InsightsShape>('InsightsReport').implement({
  description: 'A saved Insights report, as its series.',
  fields: (t) => ({
    computedAt: t.field({ type: 'DateTime', nullable: true, description: 'When Mixpanel computed it.', resolve: (r) => (r.computedAt ? new Date(r.computedAt) : null) }),
    fromDate: t.exposeString('fromDate', { description: 'First day of the report’s range.' }),
    toDate: t.exposeString('toDate', { description: 'Last day of the report’s range.' }),
    headers: t.stringList({ description: 'What each level of the series is broken down by.', resolve: (r) => [...r.headers] }),
    segments: t.field({
      type: [Segment],
      description: 'One line per leaf of the report, named by its path (`Logged in / US`).',
      resolve: (r) => r.segments,
    }),
  }),
});

/** Flattens the nested series of an Insights report into named lines of points. */
function flattenInsights(series: Readonly<Record<string, unknown>>, path: readonly string[] = []): SegmentShape[] {
  const segments: SegmentShape[] = [];
  const numbers: Record<string, number> = {};
  for (const [key, value] of Object.entries(series)) {
    if (typeof value === 'number') numbers[key] = value;
    else if (typeof value === 'object' && value !== null) segments.push(...flattenInsights(value as Record<string, unknown>, [...path, key]));
  }
  if (Object.keys(numbers).length > 0) segments.unshift({ name: path.join(' / '), points: toPoints(numbers) });
  return segments;
}

// ---------- list results ----------

const EventNameConnection = listConnection<string>('EventNameConnection', 'String', 'Event names.', 'Event names, alphabetical.');
const TopEventConnection = listConnection('TopEventConnection', TopEvent, 'Today’s most common events.', 'Top events, most common first.');
const PropertyCountConnection = listConnection('PropertyCountConnection', PropertyCount, 'Property names with their counts.', 'Property names with their counts, most common first.');
const TopPropertyValueConnection = listConnection<string>('TopPropertyValueConnection', 'String', 'The most common values of a property.', 'Property values, most common first.');
const FunnelSummaryConnection = listConnection('FunnelSummaryConnection', FunnelSummary, 'Saved funnels.', 'Saved funnels.');
const RetentionRowConnection = listConnection('RetentionRowConnection', RetentionRow, 'A retention report.', 'One row per starting period, oldest first.');
const FrequencyRowConnection = listConnection('FrequencyRowConnection', FrequencyRow, 'A frequency (addiction) report.', 'One row per period, oldest first.');

// ---------- the reports ----------

const FUNNELS_DEPRECATION = "Mixpanel's Funnels Query API is in maintenance mode; prefer `insights` with a saved funnel report.";

/**
 * One report field: one Query call to `endpoint` with the parameters `params`
 * makes of the (validated) arguments, and the answer reshaped by `result`.
 */
interface Report<Args extends InputFieldMap, E extends EndpointName, Shape> {
  readonly description: string;
  readonly type: ObjectRef<BuilderTypes, Shape>;
  readonly args: Args;
  readonly endpoint: E;
  /** Validates the arguments (throwing InvalidArgumentError) into Mixpanel's parameters. */
  readonly params: (ctx: Context, args: InputShapeFromFields<Args>) => ParamsOf<E>;
  readonly result: (response: ResultOf<E>) => Shape;
  readonly deprecationReason?: string;
}

type AnyReport = Report<InputFieldMap, EndpointName, unknown>;

/** Checks one report's types against its endpoint; the table then holds them alike. */
const report = <Args extends InputFieldMap, E extends EndpointName, Shape>(spec: Report<Args, E, Shape>): AnyReport => spec as unknown as AnyReport;

const eventArg = builder.args((t) => ({ event: t.string({ required: true, description: 'Event name.' }) }));

const segmentationArgs = builder.args((t) => ({
  ...eventArg,
  ...dateArgs,
  on: t.string({ description: 'Property expression to segment by, e.g. `properties["$browser"]`.' }),
  unit: t.field({ type: SegmentationUnitEnum, description: 'Bucket size (default DAY).' }),
  interval: t.int({ description: 'Days per bucket, counted from `from`, in lieu of `unit` (Mixpanel’s `interval`).' }),
  where: t.string({ description: 'Filter expression (Mixpanel segmentation-expression syntax).' }),
  type: t.field({ type: CountTypeEnum, description: 'What to count (default GENERAL).' }),
  limit: t.int({ description: `Most segments returned, 1..${MAX_SEGMENT_LIMIT} (default 60); needs \`on\`.` }),
}));

const numericArgs = builder.args((t) => ({
  ...segmentationArgs,
  on: t.string({ required: true, description: 'Numeric property expression, e.g. `properties["amount"]`.' }),
}));

const scalarArgs = builder.args((t) => ({
  ...eventArg,
  ...dateArgs,
  on: t.string({ required: true, description: 'Numeric property expression, e.g. `properties["amount"]`.' }),
  unit: t.field({ type: FrequencyUnitEnum, description: 'Bucket size (default DAY).' }),
  where: t.string({ description: 'Filter expression (Mixpanel segmentation-expression syntax).' }),
}));

const scalarReport = (endpoint: 'segmentationSum' | 'segmentationAverage', description: string) =>
  report({
    description,
    type: ScalarSeries,
    args: scalarArgs,
    endpoint,
    params: (ctx, args) => numericParams(ctx, { ...args, unit: args.unit ?? null }),
    result: (response) => ({ points: toPoints(response.results), computedAt: response.computed_at ?? null }),
  });

const countArgs = builder.args((t) => ({
  type: t.field({ type: CountTypeEnum, defaultValue: 'general', description: 'What to count.' }),
  unit: t.field({ type: TimeUnitEnum, defaultValue: 'day', description: 'Bucket size.' }),
}));

/** Every report, by field name. */
const REPORTS: Readonly<Record<string, AnyReport>> = {
  segmentation: report({
    description: 'Counts of one event over time, optionally segmented by a property.',
    type: Series,
    args: segmentationArgs,
    endpoint: 'segmentation',
    params: segmentationParams,
    result: toSeries,
  }),
  segmentationNumeric: report({
    description: 'Counts of one event over time, segmented into numeric buckets of a property (segment names are ranges such as `2,000 - 2,100`).',
    type: Series,
    args: numericArgs,
    endpoint: 'segmentationNumeric',
    params: numericParams,
    result: toSeries,
  }),
  segmentationSum: scalarReport('segmentationSum', 'Sum of a numeric property of one event, per bucket.'),
  segmentationAverage: scalarReport('segmentationAverage', 'Average of a numeric property of one event, per bucket.'),
  eventCounts: report({
    description: 'Counts of several events over time, one segment per event.',
    type: Series,
    args: builder.args((t) => ({
      events: t.stringList({ required: true, description: `Event names (1..${MAX_EVENTS_PER_QUERY}).` }),
      ...dateArgs,
      ...countArgs,
    })),
    endpoint: 'events',
    params: (ctx, args) => {
      const { from, to } = range(args, ctx);
      const events = checkNames(args.events, 'events', MAX_EVENTS_PER_QUERY) ?? [];
      return { events, type: args.type ?? 'general', unit: args.unit ?? 'day', fromDate: from, toDate: to };
    },
    result: toSeries,
  }),
  eventPropertyCounts: report({
    description: 'Counts of one event over time, one segment per value of a property.',
    type: Series,
    args: builder.args((t) => ({
      ...eventArg,
      name: t.string({ required: true, description: 'Property name.' }),
      ...dateArgs,
      ...countArgs,
      values: t.stringList({ description: 'Only these property values.' }),
      limit: t.int({ description: `Most values returned, 1..${MAX_LIST_LIMIT} (default 255).` }),
    })),
    endpoint: 'eventProperties',
    params: (ctx, args) => {
      const { from, to } = range(args, ctx);
      return defined({
        event: checkName(args.event, 'event'),
        name: checkName(args.name, 'name'),
        type: args.type ?? 'general',
        unit: args.unit ?? 'day',
        fromDate: from,
        toDate: to,
        values: checkNames(args.values, 'values', MAX_LIST_LIMIT),
        limit: checkLimit(args.limit, MAX_LIST_LIMIT),
      });
    },
    result: toSeries,
  }),
  eventNames: report({
    description: 'Names of the events most common over the last 31 days, in alphabetical order (Mixpanel promises none).',
    type: EventNameConnection,
    args: builder.args((t) => ({
      type: t.field({ type: CountTypeEnum, defaultValue: 'general', description: 'How events are ranked.' }),
      limit: t.int({ description: `Most names returned, 1..${MAX_LIST_LIMIT} (default 255).` }),
    })),
    endpoint: 'eventsNames',
    params: (_ctx, args) => defined({ type: args.type ?? 'general', limit: checkLimit(args.limit, MAX_LIST_LIMIT) }),
    result: (names) => listOf([...names].sort()),
  }),
  topEvents: report({
    description: 'Today’s most common events, with their change against yesterday.',
    type: TopEventConnection,
    args: builder.args((t) => ({
      type: t.field({ type: CountTypeEnum, defaultValue: 'general', description: 'What to count.' }),
      limit: t.int({ description: `Most events returned, 1..${MAX_LIST_LIMIT} (default 100).` }),
    })),
    endpoint: 'eventsTop',
    params: (_ctx, args) => defined({ type: args.type ?? 'general', limit: checkLimit(args.limit, MAX_LIST_LIMIT) }),
    result: (response) => listOf(response.events),
  }),
  topPropertyNames: report({
    description: 'The property names most often sent with an event, most common first.',
    type: PropertyCountConnection,
    args: builder.args((t) => ({ ...eventArg, limit: t.int({ description: `Most names returned, 1..${MAX_LIST_LIMIT} (default 10).` }) })),
    endpoint: 'eventPropertiesTop',
    params: (_ctx, args) => defined({ event: checkName(args.event, 'event'), limit: checkLimit(args.limit, MAX_LIST_LIMIT) }),
    result: (response) =>
      listOf(
        Object.entries(response)
          .map(([name, { count }]) => ({ name, count }))
          .sort((a, b) => b.count - a.count || a.name.localeCompare(b.name)),
      ),
  }),
  topPropertyValues: report({
    description: 'The most common values of an event property.',
    type: TopPropertyValueConnection,
    args: builder.args((t) => ({
      ...eventArg,
      name: t.string({ required: true, description: 'Property name.' }),
      limit: t.int({ description: `Most values returned, 1..${MAX_LIST_LIMIT} (default 255).` }),
    })),
    endpoint: 'eventPropertyValues',
    params: (_ctx, args) => defined({ event: checkName(args.event, 'event'), name: checkName(args.name, 'name'), limit: checkLimit(args.limit, MAX_LIST_LIMIT) }),
    result: (values) => listOf(values),
  }),
  funnels: report({
    description: 'Saved funnels.',
    deprecationReason: FUNNELS_DEPRECATION,
    type: FunnelSummaryConnection,
    args: {},
    endpoint: 'funnelsList',
    params: () => ({}),
    result: (funnels) => listOf(funnels),
  }),
  funnel: report({
    description: 'Conversion through a saved funnel, per period.',
    deprecationReason: FUNNELS_DEPRECATION,
    type: FunnelReport,
    args: builder.args((t) => ({
      id: t.id({ required: true, description: 'Funnel id (see `funnels`).' }),
      ...dateArgs,
      length: t.int({ description: 'Time users have to complete it, in `lengthUnit`s (at most 90 days).' }),
      lengthUnit: t.field({ type: LengthUnitEnum, description: 'Unit of `length` (default DAY).' }),
      interval: t.int({ description: 'Days per period.' }),
      unit: t.field({ type: PeriodUnitEnum, description: 'Period (alternative to `interval`).' }),
      on: t.string({ description: 'Property expression to segment by.' }),
      where: t.string({ description: 'Filter expression.' }),
      limit: t.int({ description: `Most segments, 1..${MAX_SEGMENT_LIMIT}.` }),
    })),
    endpoint: 'funnels',
    params: (ctx, args): FunnelParams => {
      const { from, to } = range(args, ctx);
      const lengthUnit = args.lengthUnit ?? undefined;
      const maxLength = { day: 1, hour: 24, minute: 1_440, second: 86_400 }[lengthUnit ?? 'day'] * MAX_WINDOW_DAYS;
      return defined({
        funnelId: checkNumericId(String(args.id), 'id'),
        fromDate: from,
        toDate: to,
        length: checkPositive(args.length, 'length', maxLength),
        lengthUnit,
        interval: checkPositive(args.interval, 'interval'),
        unit: args.unit ?? undefined,
        on: checkExpression(args.on, 'on'),
        where: checkExpression(args.where, 'where'),
        limit: checkLimit(args.limit, MAX_SEGMENT_LIMIT),
      });
    },
    result: (response) => {
      const dates = [...response.meta.dates];
      return {
        dates,
        days: dates.flatMap((date) => {
          const day = response.data[date];
          return day ? [{ date, steps: day.steps, analysis: day.analysis }] : [];
        }),
      };
    },
  }),
  retention: report({
    description: 'Retention: for users who started in each period, how many came back in each later interval.',
    type: RetentionRowConnection,
    args: builder.args((t) => ({
      ...dateArgs,
      retentionType: t.field({ type: RetentionTypeEnum, defaultValue: 'birth', description: 'First-time (BIRTH) or recurring (COMPOUNDED).' }),
      bornEvent: t.string({ description: 'The event that starts a user’s clock (required for BIRTH).' }),
      event: t.string({ description: 'The event that counts as coming back (default: any event).' }),
      bornWhere: t.string({ description: 'Filter on `bornEvent`.' }),
      where: t.string({ description: 'Filter on `event`.' }),
      interval: t.int({ description: `Days per interval (1..${MAX_WINDOW_DAYS}); alternative to \`unit\`.` }),
      intervalCount: t.int({ description: 'Number of intervals (default 1).' }),
      unit: t.field({ type: PeriodUnitEnum, description: 'Interval (alternative to `interval`).' }),
      unbounded: t.boolean({ description: 'Count a user as retained in every interval up to their last return.' }),
      on: t.string({ description: 'Property expression to segment by.' }),
      limit: t.int({ description: `Most segments, 1..${MAX_SEGMENT_LIMIT}.` }),
    })),
    endpoint: 'retention',
    params: (ctx, args): RetentionParams => {
      const { from, to } = range(args, ctx);
      const retentionType = args.retentionType ?? 'birth';
      const bornEvent = args.bornEvent === null || args.bornEvent === undefined ? undefined : checkName(args.bornEvent, 'bornEvent');
      if (retentionType === 'birth' && bornEvent === undefined) throw new InvalidArgumentError('bornEvent is required for BIRTH retention', 'bornEvent');
      return defined({
        fromDate: from,
        toDate: to,
        retentionType,
        bornEvent,
        event: args.event === null || args.event === undefined ? undefined : checkName(args.event, 'event'),
        bornWhere: checkExpression(args.bornWhere, 'bornWhere'),
        where: checkExpression(args.where, 'where'),
        interval: checkPositive(args.interval, 'interval', MAX_WINDOW_DAYS),
        intervalCount: checkPositive(args.intervalCount, 'intervalCount'),
        unit: args.unit ?? undefined,
        unboundedRetention: args.unbounded ?? undefined,
        on: checkExpression(args.on, 'on'),
        limit: checkLimit(args.limit, MAX_SEGMENT_LIMIT),
      });
    },
    result: (response) =>
      listOf(
        Object.keys(response)
          .sort()
          .map((date) => ({ date, first: response[date]!.first, counts: response[date]!.counts })),
      ),
  }),
  retentionFrequency: report({
    description: 'Frequency (addiction): per period, how many users did the event in at least 1, 2, … hours or days of it.',
    type: FrequencyRowConnection,
    args: builder.args((t) => ({
      ...dateArgs,
      unit: t.field({ type: PeriodUnitEnum, required: true, description: 'The period.' }),
      frequencyUnit: t.field({ type: FrequencyUnitEnum, required: true, description: 'What counts as one active unit within the period.' }),
      event: t.string({ description: 'The event (default: any event).' }),
      where: t.string({ description: 'Filter expression.' }),
      on: t.string({ description: 'Property expression to segment by.' }),
      limit: t.int({ description: `Most segments, 1..${MAX_SEGMENT_LIMIT}.` }),
    })),
    endpoint: 'retentionAddiction',
    params: (ctx, args): AddictionParams => {
      const { from, to } = range(args, ctx);
      return defined({
        fromDate: from,
        toDate: to,
        unit: args.unit,
        addictionUnit: args.frequencyUnit,
        event: args.event === null || args.event === undefined ? undefined : checkName(args.event, 'event'),
        where: checkExpression(args.where, 'where'),
        on: checkExpression(args.on, 'on'),
        limit: checkLimit(args.limit, MAX_SEGMENT_LIMIT),
      });
    },
    result: (response) =>
      listOf(
        Object.keys(response.data)
          .sort()
          .map((date) => ({ date, counts: response.data[date] ?? [] })),
      ),
  }),
  insights: report({
    description: 'A saved Insights report by bookmark id (the number in the report’s URL).',
    type: InsightsReport,
    args: builder.args((t) => ({ bookmarkId: t.id({ required: true, description: 'Bookmark id of the saved report.' }) })),
    endpoint: 'insights',
    params: (_ctx, args) => ({ bookmarkId: checkNumericId(String(args.bookmarkId), 'bookmarkId') }),
    result: (response) => ({
      computedAt: response.computed_at,
      fromDate: response.date_range.from_date,
      toDate: response.date_range.to_date,
      headers: response.headers,
      segments: flattenInsights(response.series),
    }),
  }),
};

// Each report is one field: nullable, one Query call, and its failures are a refused argument or a spent budget.
builder.queryFields((t) =>
  Object.fromEntries(
    Object.entries(REPORTS).map(([name, spec]) => [
      name,
      t.field({
        type: spec.type,
        nullable: true,
        complexity: REPORT_COST,
        description: spec.description,
        ...(spec.deprecationReason === undefined ? {} : { deprecationReason: spec.deprecationReason }),
        args: spec.args,
        errors: { types: failures(Object.keys(spec.args).length === 0 ? 'upstream' : 'arguments') },
        resolve: async (_root, args, ctx) => spec.result(await analytics(ctx, spec.endpoint, spec.params(ctx, args))),
      }),
    ]),
  ),
);
