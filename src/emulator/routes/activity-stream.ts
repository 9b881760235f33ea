/**
 * /stream/query: a profile's activity (https://developer.mixpanel.com/reference/profile-event-activity).
 */
import { datesIn, DAY_MS } from '../dates.js';
import { EmulatorHttpError } from '../errors.js';
import { eventScope, eventsBetween } from '../events.js';
import type { EmulatorRequest, EmulatorResponse } from '../types.js';
import { jsonArray } from './query-params.js';

export function streamQuery(request: EmulatorRequest): EmulatorResponse {
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
