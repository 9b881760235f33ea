/**
 * The Query API (https://developer.mixpanel.com/reference/query-api), answered from the project's data so a test can
 * compare the gateway's answer with the emulator's. Every route accepts GET
 * and POST, parameters in the query string or a form body.
 */
import { randomBytes } from 'node:crypto';
import type { CountType, FunnelStep } from '../../mixpanel/types.js';
import { cohortMembers, findCohort, listCohorts } from '../cohorts.js';
import { datesIn, DAY_MS, HOUR_MS, type BucketUnit, type ZoneDates } from '../dates.js';
import { EmulatorHttpError } from '../errors.js';
import { compileParam, eventFilter, eventScope, eventsBetween } from '../events.js';
import type { Clock, EmulatorEvent, EmulatorProfile, EmulatorProjectData, EmulatorRequest, EmulatorResponse, EmulatorRoute } from '../types.js';
import { segmentKey, type CompiledExpression, type WhereValue } from '../where.js';

type Params = Readonly<Record<string, string>>;

// ---------- parameters ----------
// Mixpanel's wording for missing or malformed parameters is undocumented; these messages are chosen.

function optional(params: Params, name: string): string | undefined {
  const value = params[name];
  return value === undefined || value === '' ? undefined : value;
}

function required(params: Params, name: string): string {
  const value = optional(params, name);
  if (value === undefined) throw new EmulatorHttpError(400, `${name} is a required parameter`);
  return value;
}

function integer(params: Params, name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const raw = optional(params, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new EmulatorHttpError(400, `${name} must be an integer between ${min} and ${max}`);
  }
  return value;
}

function oneOf<T extends string>(params: Params, name: string, allowed: readonly T[], fallback?: T): T {
  const raw = optional(params, name);
  if (raw === undefined) {
    if (fallback === undefined) throw new EmulatorHttpError(400, `${name} is a required parameter`);
    return fallback;
  }
  if (!(allowed as readonly string[]).includes(raw)) throw new EmulatorHttpError(400, `${name} must be one of: ${allowed.join(', ')}`);
  return raw as T;
}

function jsonArray(params: Params, name: string, isRequired: boolean): string[] | undefined {
  const raw = optional(params, name);
  if (raw === undefined) {
    if (isRequired) throw new EmulatorHttpError(400, `${name} is a required parameter`);
    return undefined;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new EmulatorHttpError(400, `${name} must be a JSON-encoded array of strings`);
  }
  if (!Array.isArray(parsed) || !parsed.every((v) => typeof v === 'string' || typeof v === 'number')) {
    throw new EmulatorHttpError(400, `${name} must be a JSON-encoded array of strings`);
  }
  return parsed.map(String);
}

function boolean(params: Params, name: string, fallback: boolean): boolean {
  const raw = optional(params, name);
  if (raw === undefined) return fallback;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new EmulatorHttpError(400, `${name} must be true or false`);
}

const UNITS: readonly BucketUnit[] = ['minute', 'hour', 'day', 'week', 'month'];
const TYPES: readonly CountType[] = ['general', 'unique', 'average'];

/** from_date/to_date, or else `interval` units ending with the current one (as /events allows). */
function queryRange(params: Params, now: number, unit: BucketUnit, z: ZoneDates): { startMs: number; endMs: number } {
  if (optional(params, 'from_date') === undefined && optional(params, 'to_date') === undefined && optional(params, 'interval') !== undefined) {
    const count = integer(params, 'interval', 1, 1, 10_000);
    let startMs = z.bucketStart(unit, now);
    const endMs = z.nextBucket(unit, startMs);
    for (let k = 1; k < count; k++) startMs = z.bucketStart(unit, startMs - 1);
    return { startMs, endMs };
  }
  return z.dateRange(params, now);
}

/** Fisher-Yates, in place. */
function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}

const computedAt = (now: number): string => new Date(now).toISOString().replace('Z', '+00:00');

// ---------- counting ----------

/** Per segment, per bucket: events and distinct users. */
class SeriesCounter {
  private readonly counts = new Map<string, Map<string, { events: number; users: Set<string> }>>();

  add(segment: string, bucket: string, distinctId: string): void {
    let buckets = this.counts.get(segment);
    if (!buckets) this.counts.set(segment, (buckets = new Map()));
    let cell = buckets.get(bucket);
    if (!cell) buckets.set(bucket, (cell = { events: 0, users: new Set() }));
    cell.events++;
    cell.users.add(distinctId);
  }

  /** `{segment: {bucket: n}}` for the top `limit` segments, every bucket of `series` filled. */
  values(type: CountType, series: readonly string[], limit = Number.POSITIVE_INFINITY, always: readonly string[] = []): Record<string, Record<string, number>> {
    const measure = (cell: { events: number; users: Set<string> } | undefined): number => {
      if (!cell) return 0;
      if (type === 'unique') return cell.users.size;
      if (type === 'average') return cell.users.size === 0 ? 0 : cell.events / cell.users.size;
      return cell.events;
    };
    const totals = [...this.counts.entries()].map(([segment, buckets]) => ({
      segment,
      total: [...buckets.values()].reduce((sum, cell) => sum + cell.events, 0),
    }));
    totals.sort((a, b) => b.total - a.total || (a.segment < b.segment ? -1 : 1));
    const segments = [...new Set([...always, ...totals.slice(0, limit).map((t) => t.segment)])];
    const values: Record<string, Record<string, number>> = {};
    for (const segment of segments) {
      const buckets = this.counts.get(segment);
      values[segment] = Object.fromEntries(series.map((key) => [key, measure(buckets?.get(key))]));
    }
    return values;
  }
}

/** Segmentation keys drop events whose `on` value is unset, as the UI's "(not set)" rows are not in the API's values. */
function segmentOf(value: WhereValue): string | undefined {
  return value === undefined || value === null ? undefined : segmentKey(value);
}

function seriesResponse(series: readonly string[], values: Record<string, Record<string, number>>) {
  return { data: { series, values }, legend_size: Object.keys(values).length };
}

function* matchingEvents(
  data: EmulatorProjectData,
  names: ReadonlySet<string> | undefined,
  range: { startMs: number; endMs: number },
  where: CompiledExpression | undefined,
): Generator<EmulatorEvent> {
  const passes = eventFilter(data, where);
  for (const event of eventsBetween(data, range.startMs, range.endMs)) {
    if ((names === undefined || names.has(event.event)) && passes(event)) yield event;
  }
}

// ---------- segmentation ----------

/** The spec's `unit` enum of /segmentation: no "week" (unlike /events and /events/properties). */
const SEGMENTATION_UNITS: readonly BucketUnit[] = ['minute', 'hour', 'day', 'month'];

function segmentation(request: EmulatorRequest): EmulatorResponse {
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

function segmentationNumeric(request: EmulatorRequest): EmulatorResponse {
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

function segmentationAggregate(kind: 'sum' | 'average') {
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
    const results = Object.fromEntries(
      [...sums.entries()].map(([key, { sum, n }]) => [key, kind === 'sum' ? sum : n === 0 ? 0 : sum / n]),
    );
    return {
      status: 200,
      json: kind === 'sum' ? { status: 'ok', computed_at: computedAt(now), results } : { results, status: 'ok' },
    };
  };
}

// ---------- event breakdown ----------

function events(request: EmulatorRequest): EmulatorResponse {
  const { params, project: data, now } = request;
  const z = datesIn(request.zone);
  const names = jsonArray(params, 'event', true) as string[];
  const type = oneOf(params, 'type', TYPES);
  const unit = oneOf(params, 'unit', UNITS);
  const range = queryRange(params, now, unit, z);
  const counter = new SeriesCounter();
  for (const e of matchingEvents(data, new Set(names), range, undefined)) counter.add(e.event, z.bucketKey(unit, e.time * 1000), e.distinctId);
  const series = z.bucketSeries(unit, range.startMs, range.endMs);
  return { status: 200, json: seriesResponse(series, counter.values(type, series, Number.POSITIVE_INFINITY, names)) };
}

/** Counts (or distinct users) per event name in [startMs, endMs). */
function countByName(data: EmulatorProjectData, startMs: number, endMs: number, type: CountType): Map<string, number> {
  const events = new Map<string, number>();
  const users = new Map<string, Set<string>>();
  for (const e of eventsBetween(data, startMs, endMs)) {
    events.set(e.event, (events.get(e.event) ?? 0) + 1);
    let set = users.get(e.event);
    if (!set) users.set(e.event, (set = new Set()));
    set.add(e.distinctId);
  }
  if (type === 'general') return events;
  return new Map(
    [...events.keys()].map((name) => {
      const unique = users.get(name)?.size ?? 0;
      return [name, type === 'unique' ? unique : unique === 0 ? 0 : (events.get(name) ?? 0) / unique];
    }),
  );
}

function eventsTop(request: EmulatorRequest): EmulatorResponse {
  const { params, project: data, now } = request;
  const z = datesIn(request.zone);
  const type = oneOf(params, 'type', TYPES);
  const limit = integer(params, 'limit', 100, 1);
  const today = z.startOfDay(now);
  const current = countByName(data, today, today + DAY_MS, type);
  const previous = countByName(data, today - DAY_MS, today, type);
  const top = [...current.entries()]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, limit)
    .map(([event, amount]) => {
      const before = previous.get(event) ?? 0;
      return { amount, event, percent_change: before === 0 ? 0 : (amount - before) / before };
    });
  return { status: 200, json: { events: top, type } };
}

/** The window names, property tops and property values look at. */
const RECENT_DAYS = 31;

function eventsNames(request: EmulatorRequest): EmulatorResponse {
  const { params, project: data, now } = request;
  const z = datesIn(request.zone);
  const type = oneOf(params, 'type', TYPES);
  const limit = integer(params, 'limit', 255, 1);
  const counts = countByName(data, z.startOfDay(now) - (RECENT_DAYS - 1) * DAY_MS, now + 1, type);
  // The `limit` most common names ("the most common events over the last 31 days"). Their order is not
  // something to rely on: the spec's summary ranks by frequency, its response schema says "descending
  // alphabetical", so each answer comes in a fresh order.
  const names = [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([name]) => name).slice(0, limit);
  return { status: 200, json: shuffle(names, request.random) };
}

function eventProperties(request: EmulatorRequest): EmulatorResponse {
  const { params, project: data, now } = request;
  const z = datesIn(request.zone);
  const event = required(params, 'event');
  const name = required(params, 'name');
  const type = oneOf(params, 'type', TYPES);
  const unit = oneOf(params, 'unit', UNITS);
  const values = jsonArray(params, 'values', false);
  const limit = integer(params, 'limit', 255, 1);
  const range = queryRange(params, now, unit, z);
  const wanted = values ? new Set(values) : undefined;
  const counter = new SeriesCounter();
  for (const e of matchingEvents(data, new Set([event]), range, undefined)) {
    const segment = segmentOf(eventScope(data, e).properties[name] as WhereValue);
    if (segment !== undefined && (!wanted || wanted.has(segment))) counter.add(segment, z.bucketKey(unit, e.time * 1000), e.distinctId);
  }
  const series = z.bucketSeries(unit, range.startMs, range.endMs);
  return { status: 200, json: seriesResponse(series, counter.values(type, series, limit)) };
}

function recentEventsNamed(data: EmulatorProjectData, event: string, now: number, z: ZoneDates): Generator<EmulatorEvent> {
  return matchingEvents(data, new Set([event]), { startMs: z.startOfDay(now) - (RECENT_DAYS - 1) * DAY_MS, endMs: now + 1 }, undefined);
}

function eventPropertiesTop(request: EmulatorRequest): EmulatorResponse {
  const { params, project: data, now } = request;
  const z = datesIn(request.zone);
  const event = required(params, 'event');
  const limit = integer(params, 'limit', 10, 1);
  const counts = new Map<string, number>();
  for (const e of recentEventsNamed(data, event, now, z)) {
    for (const key of Object.keys(e.properties)) counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const top = [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, limit);
  return { status: 200, json: Object.fromEntries(top.map(([key, count]) => [key, { count }])) };
}

function eventPropertyValues(request: EmulatorRequest): EmulatorResponse {
  const { params, project: data, now } = request;
  const z = datesIn(request.zone);
  const event = required(params, 'event');
  const name = required(params, 'name');
  const limit = integer(params, 'limit', 255, 1);
  const counts = new Map<string, number>();
  for (const e of recentEventsNamed(data, event, now, z)) {
    const value = segmentOf(eventScope(data, e).properties[name] as WhereValue);
    if (value !== undefined) counts.set(value, (counts.get(value) ?? 0) + 1);
  }
  const values = [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([value]) => value);
  return { status: 200, json: values.slice(0, limit) };
}

// ---------- insights, funnels ----------

/** Saved reports chart the last 30 days, daily. */
const INSIGHTS_DAYS = 30;

function insights(request: EmulatorRequest): EmulatorResponse {
  const { params, project: data, now } = request;
  const z = datesIn(request.zone);
  const bookmarkId = integer(params, 'bookmark_id', 0, 0);
  if (optional(params, 'bookmark_id') === undefined) throw new EmulatorHttpError(400, 'bookmark_id is a required parameter');
  const bookmark = data.bookmarks.find((b) => b.bookmarkId === bookmarkId);
  // The spec lists no error for an unknown report; 404 lets clients tell it from a bad request.
  if (!bookmark) throw new EmulatorHttpError(404, `bookmark_id ${bookmarkId} was not found`);
  const startMs = z.startOfDay(now) - (INSIGHTS_DAYS - 1) * DAY_MS;
  const endMs = z.startOfDay(now) + DAY_MS;
  const stamp = (ms: number): string => `${z.formatDay(ms)}T00:00:00+00:00`;
  const series = Object.fromEntries(z.bucketSeries('day', startMs, endMs).map((day) => [`${day}T00:00:00+00:00`, 0]));
  for (const e of matchingEvents(data, new Set([bookmark.event]), { startMs, endMs }, undefined)) {
    const key = stamp(e.time * 1000);
    series[key] = (series[key] ?? 0) + 1;
  }
  return {
    status: 200,
    json: {
      computed_at: computedAt(now),
      date_range: { from_date: stamp(startMs), to_date: `${z.formatDay(endMs - DAY_MS)}T23:59:59.999000+00:00` },
      headers: ['$event'],
      series: { [bookmark.event]: series },
    },
  };
}

const LENGTH_UNITS = { day: DAY_MS, hour: HOUR_MS, minute: 60_000, second: 1_000 } as const;
/** Mixpanel's default conversion window; the spec says "the value saved in the UI". */
const DEFAULT_FUNNEL_DAYS = 30;

/** Events of `names` per user, in time order, within [startMs, endMs). */
function eventsByUser(
  data: EmulatorProjectData,
  names: ReadonlySet<string> | undefined,
  range: { startMs: number; endMs: number },
  where: CompiledExpression | undefined,
): Map<string, EmulatorEvent[]> {
  const byUser = new Map<string, EmulatorEvent[]>();
  for (const e of matchingEvents(data, names, range, where)) {
    let list = byUser.get(e.distinctId);
    if (!list) byUser.set(e.distinctId, (list = []));
    list.push(e);
  }
  return byUser;
}

function funnels(request: EmulatorRequest): EmulatorResponse {
  const { params, project: data, now } = request;
  const z = datesIn(request.zone);
  const funnelId = integer(params, 'funnel_id', 0, 0);
  if (optional(params, 'funnel_id') === undefined) throw new EmulatorHttpError(400, 'funnel_id is a required parameter');
  const range = z.dateRange(params, now);
  const lengthUnit = oneOf(params, 'length_unit', ['day', 'hour', 'minute', 'second'] as const, 'day');
  const length = integer(params, 'length', lengthUnit === 'day' ? DEFAULT_FUNNEL_DAYS : DEFAULT_FUNNEL_DAYS * (DAY_MS / LENGTH_UNITS[lengthUnit]), 1);
  const windowMs = length * LENGTH_UNITS[lengthUnit];
  if (windowMs > 90 * DAY_MS) throw new EmulatorHttpError(400, 'length may not be greater than 90 days');
  const unit = optional(params, 'unit') === undefined ? undefined : oneOf(params, 'unit', ['day', 'week', 'month'] as const);
  const interval = integer(params, 'interval', 1, 1);
  integer(params, 'limit', 255, 1, 10_000);
  const where = compileParam(optional(params, 'where'));
  const funnel = data.funnels.find((f) => f.funnelId === funnelId);
  if (!funnel) throw new EmulatorHttpError(404, `funnel_id ${funnelId} was not found`);

  const bucketOf = (ms: number): string =>
    unit ? z.bucketKey(unit, ms) : z.formatDay(range.startMs + Math.floor((ms - range.startMs) / (interval * DAY_MS)) * interval * DAY_MS);
  const dates = unit
    ? z.bucketSeries(unit, range.startMs, range.endMs)
    : z.bucketSeries('day', range.startMs, range.endMs).filter((_, k) => k % interval === 0);
  const stepCount = funnel.steps.length;
  const stats = new Map(dates.map((d) => [d, funnel.steps.map(() => ({ count: 0, fromPrevious: 0, fromStart: 0 }))]));

  // Conversions are looked for past to_date, as the spec says.
  const byUser = eventsByUser(data, new Set(funnel.steps), { startMs: range.startMs, endMs: range.endMs + windowMs }, where);
  for (const list of byUser.values()) {
    const seen = new Set<string>();
    for (let i = 0; i < list.length; i++) {
      const entry = list[i] as EmulatorEvent;
      const entryMs = entry.time * 1000;
      if (entry.event !== funnel.steps[0] || entryMs >= range.endMs) continue;
      const bucket = bucketOf(entryMs);
      if (seen.has(bucket)) continue;
      seen.add(bucket);
      const cells = stats.get(bucket);
      if (!cells) continue;
      let step = 0;
      let previousMs = entryMs;
      (cells[0] as { count: number }).count++;
      for (let j = i + 1; j < list.length && step + 1 < stepCount; j++) {
        const next = list[j] as EmulatorEvent;
        const nextMs = next.time * 1000;
        if (nextMs - entryMs > windowMs) break;
        if (next.event !== funnel.steps[step + 1]) continue;
        step++;
        const cell = cells[step] as { count: number; fromPrevious: number; fromStart: number };
        cell.count++;
        cell.fromPrevious += (nextMs - previousMs) / 1000;
        cell.fromStart += (nextMs - entryMs) / 1000;
        previousMs = nextMs;
      }
    }
  }

  const out: Record<string, unknown> = {};
  for (const date of dates) {
    const cells = stats.get(date) ?? [];
    const start = cells[0]?.count ?? 0;
    const steps: FunnelStep[] = cells.map((cell, k) => {
      const prior = k === 0 ? cell.count : (cells[k - 1]?.count ?? 0);
      return {
        count: cell.count,
        avg_time: k === 0 || cell.count === 0 ? null : Math.round(cell.fromPrevious / cell.count),
        avg_time_from_start: k === 0 || cell.count === 0 ? null : Math.round(cell.fromStart / cell.count),
        step_conv_ratio: prior === 0 ? 0 : cell.count / prior,
        overall_conv_ratio: start === 0 ? 0 : cell.count / start,
        goal: funnel.steps[k] as string,
        event: funnel.steps[k] as string,
      };
    });
    let worst = stepCount > 1 ? 1 : 0;
    for (let k = 2; k < steps.length; k++) if ((steps[k] as FunnelStep).step_conv_ratio < (steps[worst] as FunnelStep).step_conv_ratio) worst = k;
    out[date] = {
      steps,
      analysis: { completion: cells[stepCount - 1]?.count ?? 0, starting_amount: start, steps: stepCount, worst },
    };
  }
  return { status: 200, json: { meta: { dates }, data: out } };
}

// ---------- retention ----------

const PERIOD_MS = { day: DAY_MS, week: 7 * DAY_MS, month: 30 * DAY_MS } as const;

function retention(request: EmulatorRequest): EmulatorResponse {
  const { params, project: data, now } = request;
  const z = datesIn(request.zone);
  const range = z.dateRange(params, now);
  const retentionType = oneOf(params, 'retention_type', ['birth', 'compounded'] as const, 'birth');
  const unit = oneOf(params, 'unit', ['day', 'week', 'month'] as const, 'day');
  const interval = integer(params, 'interval', 1, 1);
  if (unit === 'day' && interval > 90) throw new EmulatorHttpError(400, 'interval may not be greater than 90 days');
  const intervalCount = integer(params, 'interval_count', 1, 0, 1_000);
  const unbounded = boolean(params, 'unbounded_retention', false);
  const event = optional(params, 'event');
  const bornEvent = retentionType === 'birth' ? required(params, 'born_event') : event;
  const where = compileParam(optional(params, 'where'));
  const bornWhere = retentionType === 'birth' ? compileParam(optional(params, 'born_where'), 'born_where') : where;
  // Months are counted as 30 days.
  const periodMs = interval * PERIOD_MS[unit];
  const horizon = { startMs: range.startMs, endMs: Math.min(range.endMs + (intervalCount + 1) * periodMs, now + 1) };

  const births = eventsByUser(data, bornEvent ? new Set([bornEvent]) : undefined, range, bornWhere);
  const returns = eventsByUser(data, event ? new Set([event]) : undefined, horizon, where);
  const dates = z.bucketSeries(unit, range.startMs, range.endMs);
  const cohorts = new Map(dates.map((d) => [d, { first: 0, counts: new Array<number>(intervalCount + 1).fill(0) }]));
  for (const [distinctId, bornList] of births) {
    // Birth: a user's first qualifying event only; compounded: their first in each bucket.
    const starts = retentionType === 'birth' ? bornList.slice(0, 1) : bornList.filter((e, k) => k === 0 || z.bucketKey(unit, e.time * 1000) !== z.bucketKey(unit, (bornList[k - 1] as EmulatorEvent).time * 1000));
    for (const born of starts) {
      const cohort = cohorts.get(z.bucketKey(unit, born.time * 1000));
      if (!cohort) continue;
      cohort.first++;
      const retainedIn = new Set<number>();
      for (const e of returns.get(distinctId) ?? []) {
        if (e === born || e.time < born.time) continue;
        const period = Math.floor(((e.time - born.time) * 1000) / periodMs);
        if (period <= intervalCount) retainedIn.add(period);
      }
      for (let k = 0; k <= intervalCount; k++) {
        const retained = unbounded ? [...retainedIn].some((p) => p >= k) : retainedIn.has(k);
        if (retained) cohort.counts[k] = (cohort.counts[k] ?? 0) + 1;
      }
    }
  }
  return { status: 200, json: Object.fromEntries([...cohorts.entries()].map(([date, c]) => [date, { counts: c.counts, first: c.first }])) };
}

function addiction(request: EmulatorRequest): EmulatorResponse {
  const { params, project: data, now } = request;
  const z = datesIn(request.zone);
  const range = z.dateRange(params, now);
  const unit = oneOf(params, 'unit', ['day', 'week', 'month'] as const);
  const addictionUnit = oneOf(params, 'addiction_unit', ['hour', 'day'] as const);
  const event = optional(params, 'event');
  const where = compileParam(optional(params, 'where'));
  const perUser = new Map<string, Map<string, Set<number>>>();
  for (const e of matchingEvents(data, event ? new Set([event]) : undefined, range, where)) {
    const bucket = z.bucketKey(unit, e.time * 1000);
    let users = perUser.get(bucket);
    if (!users) perUser.set(bucket, (users = new Map()));
    let slots = users.get(e.distinctId);
    if (!slots) users.set(e.distinctId, (slots = new Set()));
    slots.add(z.bucketStart(addictionUnit, e.time * 1000));
  }
  const result: Record<string, number[]> = {};
  for (let at = z.bucketStart(unit, range.startMs); at < range.endMs; at = z.nextBucket(unit, at)) {
    const slots = Math.round((z.nextBucket(unit, at) - at) / (addictionUnit === 'hour' ? HOUR_MS : DAY_MS));
    const counts = new Array<number>(slots).fill(0);
    for (const used of perUser.get(z.bucketKey(unit, at))?.values() ?? []) {
      for (let k = 0; k < Math.min(used.size, slots); k++) counts[k] = (counts[k] ?? 0) + 1;
    }
    result[z.bucketKey(unit, at)] = counts;
  }
  return { status: 200, json: { data: result } };
}

// ---------- activity stream ----------

function streamQuery(request: EmulatorRequest): EmulatorResponse {
  const { params, project: data, now } = request;
  const z = datesIn(request.zone);
  const ids = new Set(jsonArray(params, 'distinct_ids', true));
  const range = z.dateRange(params, now);
  // The message Mixpanel gives for windows older than a year (https://github.com/ploner/RMixpanel/issues/7).
  if (range.startMs < z.startOfDay(now) - 365 * DAY_MS) throw new EmulatorHttpError(400, 'Date range exceeds 365 days into the past');
  const events: { event: string; properties: Record<string, unknown> }[] = [];
  for (const e of eventsBetween(data, range.startMs, range.endMs)) {
    if (!ids.has(e.distinctId)) continue;
    const { time, distinct_id, $insert_id: _insert, ...rest } = eventScope(data, e).properties;
    // The spec's example spells the id both "$distinct_id" and "distinct_id"; both are sent.
    events.push({ event: e.event, properties: { time, distinct_id, $distinct_id: distinct_id, ...rest } });
  }
  return { status: 200, json: { status: 'ok', results: { events } } };
}

// ---------- engage ----------

const DEFAULT_PAGE_SIZE = 1_000;
/** The largest page_size clients are seen to use (https://github.com/airbytehq/airbyte/pull/41976); larger values are clamped. */
const MAX_PAGE_SIZE = 40_000;
/** The message the spec quotes for pages of a query no longer cached. */
export const UNCACHED_PAGE_MESSAGE = 'request for page in uncached query for params';

interface EngageSession {
  /** Sessions are cached per project: another project's session_id is unknown here. */
  readonly projectId: string;
  readonly ids: readonly string[];
  readonly groupKey: string | undefined;
  readonly expiresAt: number;
}

function parseCohortFilter(raw: string): number {
  let value: unknown = raw;
  try {
    value = JSON.parse(raw);
  } catch {
    // a bare id
  }
  const id = typeof value === 'object' && value !== null ? (value as { id?: unknown }).id : value;
  const n = Number(id);
  if (!Number.isInteger(n)) throw new EmulatorHttpError(400, 'filter_by_cohort must look like {"id":12345}');
  return n;
}

function selectProfiles(params: Params, data: EmulatorProjectData): { ids: string[]; groupKey: string | undefined } {
  const groupKey = optional(params, 'data_group_id');
  const source: ReadonlyMap<string, EmulatorProfile> = groupKey ? (data.groups.get(groupKey) ?? new Map()) : data.profiles;
  const distinctIds = jsonArray(params, 'distinct_ids', false);
  const single = optional(params, 'distinct_id');
  const where = compileParam(optional(params, 'where'));
  const cohortParam = optional(params, 'filter_by_cohort');
  // The spec documents each selector alone and says nothing of distinct_ids with filter_by_cohort. The
  // emulator promises no intersection: listed ids win and the cohort filter is ignored, so a client
  // relying on the combination fails here rather than in production. `where` still narrows.
  let candidates: EmulatorProfile[];
  if (distinctIds !== undefined || single !== undefined) {
    candidates = (distinctIds ?? [single as string]).flatMap((id) => {
      const profile = source.get(id);
      return profile ? [profile] : [];
    });
  } else {
    candidates = [...source.values()];
  }
  if (cohortParam !== undefined && distinctIds === undefined && single === undefined) {
    const cohortId = parseCohortFilter(cohortParam);
    if (!findCohort(data, cohortId)) throw new EmulatorHttpError(400, `cohort ${cohortId} was not found`);
    // Members are defined by profile rules, so include_all_users=true adds no profile-less ids here.
    boolean(params, 'include_all_users', true);
    const members = new Set(groupKey ? [] : cohortMembers(data, cohortId).map((p) => p.distinctId));
    candidates = candidates.filter((p) => members.has(p.distinctId));
  }
  const ids = candidates
    .filter((p) => !where || where({ properties: p.properties, user: p.properties }) === true)
    .map((p) => p.distinctId);
  return { ids, groupKey };
}

function createEngage(clock: Clock, sessionTtlMs: number) {
  const sessions = new Map<string, EngageSession>();
  return (request: EmulatorRequest): EmulatorResponse => {
    const { params, project: data } = request;
    const now = clock.now();
    for (const [id, session] of sessions) if (session.expiresAt <= now) sessions.delete(id);
    if (optional(params, 'behaviors') !== undefined && optional(params, 'filter_by_cohort') !== undefined) {
      throw new EmulatorHttpError(400, 'behaviors and filter_by_cohort are mutually exclusive');
    }
    const page = integer(params, 'page', 0, 0);
    const pageSize = Math.min(integer(params, 'page_size', DEFAULT_PAGE_SIZE, 1), MAX_PAGE_SIZE);
    const outputProperties = jsonArray(params, 'output_properties', false);
    const sessionId = optional(params, 'session_id');
    // Chosen wording: the docs only say page > 0 needs session_id.
    if (page > 0 && sessionId === undefined) throw new EmulatorHttpError(400, 'session_id is required when page is greater than 0');
    // The spec: paging past the first page of a `behaviors` query needs as_of_timestamp.
    if (page > 0 && optional(params, 'behaviors') !== undefined && optional(params, 'as_of_timestamp') === undefined) {
      throw new EmulatorHttpError(400, UNCACHED_PAGE_MESSAGE);
    }

    let session: EngageSession | undefined;
    let id: string;
    if (sessionId !== undefined) {
      session = sessions.get(sessionId);
      if (!session || session.projectId !== data.projectId) throw new EmulatorHttpError(400, UNCACHED_PAGE_MESSAGE);
      id = sessionId;
    } else {
      const selection = selectProfiles(params, data);
      id = `${Math.floor(now / 1000)}-${randomBytes(4).toString('hex').toUpperCase().slice(0, 6)}`;
      session = { projectId: data.projectId, ids: selection.ids, groupKey: selection.groupKey, expiresAt: now + sessionTtlMs };
      sessions.set(id, session);
    }
    const source: ReadonlyMap<string, EmulatorProfile> = session.groupKey ? (data.groups.get(session.groupKey) ?? new Map()) : data.profiles;
    const results = session.ids.slice(page * pageSize, (page + 1) * pageSize).flatMap((distinctId) => {
      const profile = source.get(distinctId);
      if (!profile) return [];
      const properties = outputProperties
        ? Object.fromEntries(outputProperties.filter((k) => k in profile.properties).map((k) => [k, profile.properties[k]]))
        : { ...profile.properties };
      return [{ $distinct_id: distinctId, $properties: properties }];
    });
    const body: Record<string, unknown> = { page, page_size: pageSize, session_id: id, status: 'ok' };
    // `total` only on page 0, as Mixpanel does (airbytehq/airbyte: airbyte-integrations/connectors/source-mixpanel/source_mixpanel/components.py, EngagePaginationStrategy).
    if (page === 0) body.total = session.ids.length;
    body.results = results;
    return { status: 200, json: body };
  };
}

// ---------- routes ----------

export interface QueryRouteOptions {
  readonly clock: Clock;
  /** How long an engage session_id stays usable, in emulated ms. */
  readonly engageSessionTtlMs: number;
}

const route = (path: string, handle: EmulatorRoute['handle']): EmulatorRoute => ({
  method: 'GET|POST',
  pattern: `/api/query/${path}`,
  host: 'query',
  family: 'query',
  auth: 'service-account',
  handle,
});

export function createQueryRoutes(options: QueryRouteOptions): EmulatorRoute[] {
  return [
    route('engage', createEngage(options.clock, options.engageSessionTtlMs)),
    route('cohorts/list', (request) => ({ status: 200, json: listCohorts(request.project) })),
    route('stream/query', streamQuery),
    route('segmentation', segmentation),
    route('segmentation/numeric', segmentationNumeric),
    route('segmentation/sum', segmentationAggregate('sum')),
    route('segmentation/average', segmentationAggregate('average')),
    route('events', events),
    route('events/top', eventsTop),
    route('events/names', eventsNames),
    route('events/properties', eventProperties),
    route('events/properties/top', eventPropertiesTop),
    route('events/properties/values', eventPropertyValues),
    route('insights', insights),
    route('funnels', funnels),
    route('funnels/list', (request) => ({
      status: 200,
      json: request.project.funnels.map((f) => ({ funnel_id: f.funnelId, name: f.name })),
    })),
    route('retention', retention),
    route('retention/addiction', addiction),
  ];
}
