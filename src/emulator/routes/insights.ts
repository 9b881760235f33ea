/**
 * /insights: a saved report, charted (https://developer.mixpanel.com/reference/insights-query).
 */
import { datesIn, DAY_MS } from '../dates.js';
import { EmulatorHttpError } from '../errors.js';
import type { EmulatorRequest, EmulatorResponse } from '../types.js';
import { matchingEvents } from './query-counting.js';
import { computedAt, integer, optional } from './query-params.js';

/** Saved reports chart the last 30 days, daily. */
const INSIGHTS_DAYS = 30;

export function insights(request: EmulatorRequest): EmulatorResponse {
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
