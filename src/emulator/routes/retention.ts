/**
 * /retention and /retention/addiction (https://developer.mixpanel.com/reference/retention-query).
 */
import { datesIn, DAY_MS, HOUR_MS } from '../dates.js';
import { EmulatorHttpError } from '../errors.js';
import { compileParam } from '../events.js';
import type { EmulatorEvent, EmulatorRequest, EmulatorResponse } from '../types.js';
import { matchingEvents } from './query-counting.js';
import { eventsByUser } from './funnels.js';
import { boolean, integer, oneOf, optional, required } from './query-params.js';

const PERIOD_MS = { day: DAY_MS, week: 7 * DAY_MS, month: 30 * DAY_MS } as const;

export function retention(request: EmulatorRequest): EmulatorResponse {
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
    const starts =
      retentionType === 'birth'
        ? bornList.slice(0, 1)
        : bornList.filter((e, k) => k === 0 || z.bucketKey(unit, e.time * 1000) !== z.bucketKey(unit, (bornList[k - 1] as EmulatorEvent).time * 1000));
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

export function addiction(request: EmulatorRequest): EmulatorResponse {
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
    if (!users) {
      users = new Map();
      perUser.set(bucket, users);
    }
    let slots = users.get(e.distinctId);
    if (!slots) {
      slots = new Set();
      users.set(e.distinctId, slots);
    }
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
