/**
 * /segmentation, /segmentation/numeric, /segmentation/sum and /segmentation/average
 * (https://developer.mixpanel.com/reference/segmentation-query).
 */
import { datesIn, type BucketUnit } from '../dates.js';
import { compileParam, eventScope } from '../events.js';
import type { EmulatorRequest, EmulatorResponse } from '../types.js';
import type { CompiledExpression, WhereValue } from '../where.js';
import { SeriesCounter, matchingEvents, segmentOf, seriesResponse } from './query-counting.js';
import { TYPES, computedAt, integer, oneOf, optional, required } from './query-params.js';

/** The spec's `unit` enum of /segmentation: no "week" (unlike /events and /events/properties). */
const SEGMENTATION_UNITS: readonly BucketUnit[] = ['minute', 'hour', 'day', 'month'];

export function segmentation(request: EmulatorRequest): EmulatorResponse {
  const { params, project: data, now } = request;
  const z = datesIn(request.zone);
  const event = required(params, 'event');
  const unit = oneOf(params, 'unit', SEGMENTATION_UNITS, 'day');
  const type = oneOf(params, 'type', TYPES, 'general');
  const range = z.dateRange(params, now);
  // `interval`, "in lieu of unit": the number of days each bucket holds, counted from from_date.
  const days = optional(params, 'interval') === undefined ? undefined : integer(params, 'interval', 1, 1, 366);
  const buckets = days === undefined ? undefined : z.dayBuckets(days, range.startMs, range.endMs);
  const keyOf = (ms: number): string => (buckets ? buckets.keyOf(ms) : z.bucketKey(unit, ms));
  const where = compileParam(optional(params, 'where'));
  const on = compileParam(optional(params, 'on'), 'on');
  const limit = integer(params, 'limit', 60, 1, 10_000);
  const counter = new SeriesCounter();
  for (const e of matchingEvents(data, new Set([event]), range, where)) {
    const segment = on ? segmentOf(on(eventScope(data, e))) : e.event;
    if (segment !== undefined) counter.add(segment, keyOf(e.time * 1000), e.distinctId);
  }
  const series = buckets ? buckets.keys : z.bucketSeries(unit, range.startMs, range.endMs);
  return { status: 200, json: seriesResponse(series, counter.values(type, series, on ? limit : 1, on ? [] : [event])) };
}

function numericValue(value: WhereValue): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  return undefined;
}

/** A "nice" bucket width (1, 2 or 5 x 10^k) giving at most about ten buckets. */
function bucketWidth(min: number, max: number): number {
  const span = max - min;
  if (span <= 0) return 1;
  const rough = span / 10;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  return [1, 2, 5, 10].map((m) => m * magnitude).find((w) => w >= rough) ?? 10 * magnitude;
}

// One shared formatter: Number#toLocaleString builds a new one per call, ~30 µs per bucketed value.
const NUMBER_FORMAT = new Intl.NumberFormat('en-US', { maximumFractionDigits: 6 });
const formatNumber = (n: number): string => NUMBER_FORMAT.format(n);

export function segmentationNumeric(request: EmulatorRequest): EmulatorResponse {
  const { params, project: data, now } = request;
  const z = datesIn(request.zone);
  const event = required(params, 'event');
  const on = compileParam(required(params, 'on'), 'on') as CompiledExpression;
  const unit = oneOf(params, 'unit', ['hour', 'day'] as const, 'day');
  const type = oneOf(params, 'type', TYPES, 'general');
  const range = z.dateRange(params, now);
  const where = compileParam(optional(params, 'where'));
  const points: { value: number; bucket: string; distinctId: string }[] = [];
  for (const e of matchingEvents(data, new Set([event]), range, where)) {
    const value = numericValue(on(eventScope(data, e)));
    if (value !== undefined) points.push({ value, bucket: z.bucketKey(unit, e.time * 1000), distinctId: e.distinctId });
  }
  // A loop, not Math.min(...values): spreading 100k+ arguments overflows the stack.
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const p of points) {
    min = Math.min(min, p.value);
    max = Math.max(max, p.value);
  }
  const width = bucketWidth(min, max);
  const counter = new SeriesCounter();
  for (const p of points) {
    const low = Math.min(Math.floor(p.value / width) * width, Math.floor(max / width) * width);
    counter.add(`${formatNumber(low)} - ${formatNumber(low + width)}`, p.bucket, p.distinctId);
  }
  const series = z.bucketSeries(unit, range.startMs, range.endMs);
  return { status: 200, json: seriesResponse(series, counter.values(type, series)) };
}

export function segmentationAggregate(kind: 'sum' | 'average') {
  return (request: EmulatorRequest): EmulatorResponse => {
    const { params, project: data, now } = request;
    const z = datesIn(request.zone);
    const event = required(params, 'event');
    const on = compileParam(required(params, 'on'), 'on') as CompiledExpression;
    const unit = oneOf(params, 'unit', ['hour', 'day'] as const, 'day');
    const range = z.dateRange(params, now);
    const where = compileParam(optional(params, 'where'));
    const series = z.bucketSeries(unit, range.startMs, range.endMs);
    const sums = new Map(series.map((key) => [key, { sum: 0, n: 0 }]));
    for (const e of matchingEvents(data, new Set([event]), range, where)) {
      const cell = sums.get(z.bucketKey(unit, e.time * 1000));
      if (!cell) continue;
      // The spec: a non-numeric `on` value counts as 0.0.
      cell.sum += numericValue(on(eventScope(data, e))) ?? 0;
      cell.n++;
    }
    const results = Object.fromEntries([...sums.entries()].map(([key, { sum, n }]) => [key, kind === 'sum' ? sum : n === 0 ? 0 : sum / n]));
    return {
      status: 200,
      json: kind === 'sum' ? { status: 'ok', computed_at: computedAt(now), results } : { results, status: 'ok' },
    };
  };
}
