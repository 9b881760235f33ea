/**
 * /funnels (https://developer.mixpanel.com/reference/funnels-query).
 */
import type { FunnelStep } from '../../mixpanel/types.js';
import { datesIn, DAY_MS, HOUR_MS } from '../dates.js';
import { EmulatorHttpError } from '../errors.js';
import { compileParam } from '../events.js';
import type { EmulatorEvent, EmulatorProjectData, EmulatorRequest, EmulatorResponse } from '../types.js';
import type { CompiledExpression } from '../where.js';
import { matchingEvents } from './query-counting.js';
import { integer, oneOf, optional } from './query-params.js';

const LENGTH_UNITS = { day: DAY_MS, hour: HOUR_MS, minute: 60_000, second: 1_000 } as const;
/** Mixpanel's default conversion window; the spec says "the value saved in the UI". */
const DEFAULT_FUNNEL_DAYS = 30;

/** Events of `names` per user, in time order, within [startMs, endMs). */
export function eventsByUser(
  data: EmulatorProjectData,
  names: ReadonlySet<string> | undefined,
  range: { startMs: number; endMs: number },
  where: CompiledExpression | undefined,
): Map<string, EmulatorEvent[]> {
  const byUser = new Map<string, EmulatorEvent[]>();
  for (const e of matchingEvents(data, names, range, where)) {
    let list = byUser.get(e.distinctId);
    if (!list) {
      list = [];
      byUser.set(e.distinctId, list);
    }
    list.push(e);
  }
  return byUser;
}

export function funnels(request: EmulatorRequest): EmulatorResponse {
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
