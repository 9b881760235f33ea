/**
 * The argument sets several reports share: the date range, the event, the
 * segmentation, numeric and scalar arguments, and the count arguments.
 */
import { builder } from '../builder.js';
import { CountTypeEnum, FrequencyUnitEnum, SegmentationUnitEnum, TimeUnitEnum } from './enums.js';
import { MAX_SEGMENT_LIMIT } from './params.js';

export const dateArgs = builder.args((t) => ({
  from: t.field({ type: 'Date', required: true, description: 'First day, inclusive, in the project’s timezone.' }),
  to: t.field({ type: 'Date', required: true, description: 'Last day, inclusive; not later than today in the project’s timezone.' }),
}));

export const eventArg = builder.args((t) => ({ event: t.string({ required: true, description: 'Event name.' }) }));

export const segmentationArgs = builder.args((t) => ({
  ...eventArg,
  ...dateArgs,
  on: t.string({ description: 'Property expression to segment by, e.g. `properties["$browser"]`.' }),
  unit: t.field({ type: SegmentationUnitEnum, description: 'Bucket size (default DAY).' }),
  interval: t.int({ description: 'Days per bucket, counted from `from`, in lieu of `unit` (Mixpanel’s `interval`).' }),
  where: t.string({ description: 'Filter expression (Mixpanel segmentation-expression syntax).' }),
  type: t.field({ type: CountTypeEnum, description: 'What to count (default GENERAL).' }),
  limit: t.int({ description: `Most segments returned, 1..${MAX_SEGMENT_LIMIT} (default 60); needs \`on\`.` }),
}));

export const numericArgs = builder.args((t) => ({
  ...segmentationArgs,
  on: t.string({ required: true, description: 'Numeric property expression, e.g. `properties["amount"]`.' }),
}));

export const scalarArgs = builder.args((t) => ({
  ...eventArg,
  ...dateArgs,
  on: t.string({ required: true, description: 'Numeric property expression, e.g. `properties["amount"]`.' }),
  unit: t.field({ type: FrequencyUnitEnum, description: 'Bucket size (default DAY).' }),
  where: t.string({ description: 'Filter expression (Mixpanel segmentation-expression syntax).' }),
}));

export const countArgs = builder.args((t) => ({
  type: t.field({ type: CountTypeEnum, defaultValue: 'general', description: 'What to count.' }),
  unit: t.field({ type: TimeUnitEnum, defaultValue: 'day', description: 'Bucket size.' }),
}));
