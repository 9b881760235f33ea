/**
 * What the reports answer: the GraphQL types of series, funnels, retention,
 * frequency and Insights reports, and the functions that reshape Mixpanel's
 * answers into them.
 */
import type { FunnelResponse, FunnelStep as MixpanelFunnelStep, SeriesResponse } from '../../mixpanel/types.js';
import { builder } from '../builder.js';
import { listConnection } from '../lists.js';

// ---------- series ----------

export interface PointShape {
  readonly date: string;
  readonly value: number;
}
export interface SegmentShape {
  readonly name: string;
  readonly points: readonly PointShape[];
}
export interface SeriesShape {
  readonly series: readonly string[];
  readonly segments: readonly SegmentShape[];
}

export const Point = builder.objectRef<PointShape>('Point').implement({
  description: 'One value of a time series.',
  fields: (t) => ({
    date: t.exposeString('date', {
      description: 'The bucket, as Mixpanel labels it: a day (`2024-05-01`), an hour or minute, or a range for numeric buckets.',
    }),
    value: t.exposeFloat('value', { description: 'The value in that bucket.' }),
  }),
});

export const Segment = builder.objectRef<SegmentShape>('Segment').implement({
  description: 'One line of a report: an event, or one value of the property segmented on.',
  fields: (t) => ({
    name: t.exposeString('name', { description: 'The event name or property value.' }),
    points: t.field({ type: [Point], description: 'Values in series order.', resolve: (s) => s.points }),
    total: t.float({ description: 'Sum of the points.', resolve: (s) => s.points.reduce((sum, p) => sum + p.value, 0) }),
  }),
});

export const Series = builder.objectRef<SeriesShape>('Series').implement({
  description: 'A time series per segment.',
  fields: (t) => ({
    series: t.stringList({ description: 'The buckets, in order.', resolve: (r) => [...r.series] }),
    segments: t.field({ type: [Segment], description: 'One line per segment.', resolve: (r) => r.segments }),
  }),
});

export const ScalarSeries = builder.objectRef<{ readonly points: readonly PointShape[]; readonly computedAt: string | null }>('ScalarSeries').implement({
  description: 'One value per bucket (a sum or an average of a numeric property).',
  fields: (t) => ({
    points: t.field({ type: [Point], description: 'Values by bucket, in order.', resolve: (r) => r.points }),
    computedAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When Mixpanel computed it.',
      resolve: (r) => (r.computedAt ? new Date(r.computedAt) : null),
    }),
  }),
});

export const TopEvent = builder.objectRef<{ readonly event: string; readonly amount: number; readonly percent_change: number }>('TopEvent').implement({
  description: 'An event among today’s most common.',
  fields: (t) => ({
    event: t.exposeString('event', { description: 'Event name.' }),
    amount: t.exposeFloat('amount', { description: 'Count today.' }),
    percentChange: t.exposeFloat('percent_change', { description: 'Change against yesterday, as a ratio (-0.35 is 35% fewer).' }),
  }),
});

export const PropertyCount = builder.objectRef<{ readonly name: string; readonly count: number }>('PropertyCount').implement({
  description: 'A property name and how many events carried it.',
  fields: (t) => ({
    name: t.exposeString('name', { description: 'Property name.' }),
    count: t.exposeFloat('count', { description: 'Events carrying it.' }),
  }),
});

export function toSeries(response: SeriesResponse): SeriesShape {
  const { series, values } = response.data;
  return {
    series: [...series],
    segments: Object.entries(values).map(([name, byDate]) => ({
      name,
      points: (series.length > 0 ? series : Object.keys(byDate).sort()).map((date) => ({ date, value: byDate[date] ?? 0 })),
    })),
  };
}

export function toPoints(values: Readonly<Record<string, number>>): PointShape[] {
  return Object.keys(values)
    .sort()
    .map((date) => ({ date, value: values[date] ?? 0 }));
}

// ---------- funnels, retention, insights shapes ----------

/** One day of Mixpanel's funnel answer, with its date key moved inside. */
export type FunnelDayShape = FunnelResponse['data'][string] & { readonly date: string };

export const FunnelStep = builder.objectRef<MixpanelFunnelStep>('FunnelStep').implement({
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

export const FunnelDay = builder.objectRef<FunnelDayShape>('FunnelDay').implement({
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

export const FunnelReport = builder.objectRef<{ readonly dates: readonly string[]; readonly days: readonly FunnelDayShape[] }>('FunnelReport').implement({
  description: 'A saved funnel’s conversion per period.',
  fields: (t) => ({
    dates: t.stringList({ description: 'The periods, in order.', resolve: (r) => [...r.dates] }),
    days: t.field({ type: [FunnelDay], description: 'One entry per period.', resolve: (r) => r.days }),
  }),
});

export const FunnelSummary = builder.objectRef<{ readonly funnel_id: number; readonly name: string }>('FunnelSummary').implement({
  description: 'A saved funnel.',
  fields: (t) => ({
    id: t.id({ description: 'Funnel id.', resolve: (f) => String(f.funnel_id) }),
    name: t.exposeString('name', { description: 'Funnel name.' }),
  }),
});

export const RetentionRow = builder.objectRef<{ readonly date: string; readonly first: number; readonly counts: readonly number[] }>('RetentionRow').implement({
  description: 'Users who started in one period, and how many came back in each later one.',
  fields: (t) => ({
    date: t.exposeString('date', { description: 'The period the users started in.' }),
    first: t.exposeInt('first', { description: 'Users who started then.' }),
    counts: t.field({ type: ['Int'], description: 'Users retained in each following interval.', resolve: (r) => [...r.counts] }),
  }),
});

export const FrequencyRow = builder.objectRef<{ readonly date: string; readonly counts: readonly number[] }>('FrequencyRow').implement({
  description: 'How often users did the event within one period: `counts[i]` users did it in at least i+1 hours or days.',
  fields: (t) => ({
    date: t.exposeString('date', { description: 'The period.' }),
    counts: t.field({ type: ['Int'], description: 'Users active in at least 1, 2, … hours or days of the period.', resolve: (r) => [...r.counts] }),
  }),
});

export interface InsightsShape {
  readonly computedAt: string;
  readonly fromDate: string;
  readonly toDate: string;
  readonly headers: readonly string[];
  readonly segments: readonly SegmentShape[];
}

export const InsightsReport = builder.objectRef<InsightsShape>('InsightsReport').implement({
  description: 'A saved Insights report, as its series.',
  fields: (t) => ({
    computedAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When Mixpanel computed it.',
      resolve: (r) => (r.computedAt ? new Date(r.computedAt) : null),
    }),
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
export function flattenInsights(series: Readonly<Record<string, unknown>>, path: readonly string[] = []): SegmentShape[] {
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

export const EventNameConnection = listConnection<string>('EventNameConnection', 'String', 'Event names.', 'Event names, alphabetical.');
export const TopEventConnection = listConnection('TopEventConnection', TopEvent, 'Today’s most common events.', 'Top events, most common first.');
export const PropertyCountConnection = listConnection(
  'PropertyCountConnection',
  PropertyCount,
  'Property names with their counts.',
  'Property names with their counts, most common first.',
);
export const TopPropertyValueConnection = listConnection<string>(
  'TopPropertyValueConnection',
  'String',
  'The most common values of a property.',
  'Property values, most common first.',
);
export const FunnelSummaryConnection = listConnection('FunnelSummaryConnection', FunnelSummary, 'Saved funnels.', 'Saved funnels.');
export const RetentionRowConnection = listConnection(
  'RetentionRowConnection',
  RetentionRow,
  'A retention report.',
  'One row per starting period, oldest first.',
);
export const FrequencyRowConnection = listConnection(
  'FrequencyRowConnection',
  FrequencyRow,
  'A frequency (addiction) report.',
  'One row per period, oldest first.',
);
