/**
 * The event breakdown: /events, /events/top, /events/names and /events/properties[/top|/values]
 * (https://developer.mixpanel.com/reference/query-aggregated-event-counts).
 */
import type { CountType } from '../../mixpanel/types.js';
import { datesIn, DAY_MS, type ZoneDates } from '../dates.js';
import { eventScope, eventsBetween } from '../events.js';
import type { EmulatorEvent, EmulatorProjectData, EmulatorRequest, EmulatorResponse } from '../types.js';
import type { WhereValue } from '../where.js';
import { SeriesCounter, matchingEvents, segmentOf, seriesResponse } from './query-counting.js';
import { TYPES, UNITS, integer, jsonArray, oneOf, queryRange, required, shuffle } from './query-params.js';

export function events(request: EmulatorRequest): EmulatorResponse {
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
    if (!set) {
      set = new Set();
      users.set(e.event, set);
    }
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

export function eventsTop(request: EmulatorRequest): EmulatorResponse {
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

export function eventsNames(request: EmulatorRequest): EmulatorResponse {
  const { params, project: data, now } = request;
  const z = datesIn(request.zone);
  const type = oneOf(params, 'type', TYPES);
  const limit = integer(params, 'limit', 255, 1);
  const counts = countByName(data, z.startOfDay(now) - (RECENT_DAYS - 1) * DAY_MS, now + 1, type);
  // The `limit` most common names ("the most common events over the last 31 days"). Their order is not
  // something to rely on: the spec's summary ranks by frequency, its response schema says "descending
  // alphabetical", so each answer comes in a fresh order.
  const names = [...counts.entries()]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .map(([name]) => name)
    .slice(0, limit);
  return { status: 200, json: shuffle(names, request.random) };
}

export function eventProperties(request: EmulatorRequest): EmulatorResponse {
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

export function eventPropertiesTop(request: EmulatorRequest): EmulatorResponse {
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

export function eventPropertyValues(request: EmulatorRequest): EmulatorResponse {
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
