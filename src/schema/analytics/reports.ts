/**
 * REPORTS, the table every report field is generated from: per field its
 * description, arguments, endpoint, parameter mapping and result.
 */
import type { AddictionParams, FunnelParams, RetentionParams } from '../../mixpanel/types.js';
import { InvalidArgumentError } from '../../core/errors.js';
import { builder } from '../builder.js';
import { listOf } from '../lists.js';
import { checkExpression, checkLimit, checkName, checkNames, checkNumericId } from '../validation.js';
import { CountTypeEnum, FrequencyUnitEnum, LengthUnitEnum, PeriodUnitEnum, RetentionTypeEnum } from './enums.js';
import {
  EventNameConnection,
  FrequencyRowConnection,
  FunnelReport,
  FunnelSummaryConnection,
  InsightsReport,
  PropertyCountConnection,
  RetentionRowConnection,
  ScalarSeries,
  Series,
  TopEventConnection,
  TopPropertyValueConnection,
  flattenInsights,
  toPoints,
  toSeries,
} from './results.js';
import { countArgs, dateArgs, eventArg, numericArgs, scalarArgs, segmentationArgs } from './args.js';
import {
  MAX_EVENTS_PER_QUERY,
  MAX_LIST_LIMIT,
  MAX_SEGMENT_LIMIT,
  MAX_WINDOW_DAYS,
  checkPositive,
  defined,
  numericParams,
  range,
  segmentationParams,
} from './params.js';
import { type AnyReport, report } from './report-spec.js';

const FUNNELS_DEPRECATION = "Mixpanel's Funnels Query API is in maintenance mode; prefer `insights` with a saved funnel report.";

const scalarReport = (endpoint: 'segmentationSum' | 'segmentationAverage', description: string) =>
  report({
    description,
    type: ScalarSeries,
    args: scalarArgs,
    endpoint,
    params: (ctx, args) => numericParams(ctx, { ...args, unit: args.unit ?? null }),
    result: (response) => ({ points: toPoints(response.results), computedAt: response.computed_at ?? null }),
  });

/** Every report, by field name. */
export const REPORTS: Readonly<Record<string, AnyReport>> = {
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
    params: (_ctx, args) =>
      defined({ event: checkName(args.event, 'event'), name: checkName(args.name, 'name'), limit: checkLimit(args.limit, MAX_LIST_LIMIT) }),
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
