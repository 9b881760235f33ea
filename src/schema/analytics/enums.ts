/**
 * The enums of the report arguments: bucket sizes, count types, funnel and
 * retention periods, as Mixpanel's Query API names them.
 */
import type { CountType, SegmentationUnit } from '../../mixpanel/types.js';
import { builder } from '../builder.js';

export const TimeUnitEnum = builder.enumType('TimeUnit', {
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
export const SegmentationUnitEnum = builder.enumType('SegmentationUnit', {
  description: 'Bucket size of a segmentation report.',
  values: {
    MINUTE: { value: 'minute', description: 'One bucket per minute.' },
    HOUR: { value: 'hour', description: 'One bucket per hour.' },
    DAY: { value: 'day', description: 'One bucket per day.' },
    MONTH: { value: 'month', description: 'One bucket per month.' },
  } as const satisfies Record<string, { value: SegmentationUnit; description: string }>,
});

export const CountTypeEnum = builder.enumType('CountType', {
  description: 'What a count measures.',
  values: {
    GENERAL: { value: 'general', description: 'Every event.' },
    UNIQUE: { value: 'unique', description: 'Distinct users.' },
    AVERAGE: { value: 'average', description: 'Events per user.' },
  } as const satisfies Record<string, { value: CountType; description: string }>,
});

export const PeriodUnitEnum = builder.enumType('PeriodUnit', {
  description: 'Calendar period of a funnel or retention row.',
  values: {
    DAY: { value: 'day', description: 'Daily.' },
    WEEK: { value: 'week', description: 'Weekly.' },
    MONTH: { value: 'month', description: 'Monthly.' },
  } as const,
});

export const LengthUnitEnum = builder.enumType('FunnelLengthUnit', {
  description: 'Unit of the time a user has to complete a funnel.',
  values: {
    DAY: { value: 'day', description: 'Days.' },
    HOUR: { value: 'hour', description: 'Hours.' },
    MINUTE: { value: 'minute', description: 'Minutes.' },
    SECOND: { value: 'second', description: 'Seconds.' },
  } as const,
});

export const RetentionTypeEnum = builder.enumType('RetentionType', {
  description: 'How users are grouped for retention.',
  values: {
    BIRTH: { value: 'birth', description: 'First-time retention: users grouped by when they first did `bornEvent`.' },
    COMPOUNDED: { value: 'compounded', description: 'Recurring retention: users grouped by when they did `event`.' },
  } as const,
});

export const FrequencyUnitEnum = builder.enumType('FrequencyUnit', {
  description: 'Granularity at which frequency counts activity.',
  values: {
    HOUR: { value: 'hour', description: 'Hours.' },
    DAY: { value: 'day', description: 'Days.' },
  } as const,
});
