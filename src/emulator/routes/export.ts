/**
 * Raw event export (https://developer.mixpanel.com/reference/raw-event-export):
 * JSONL streamed lazily, so only the range's event references are held
 * whatever its size. The spec promises no order and Mixpanel no longer sorts
 * the output by time, so each call streams the range in a fresh random order
 * (seeded per request). Gzip and stream faults are applied by the server.
 */
import { dateRange } from '../dates.js';
import { EmulatorHttpError } from '../errors.js';
import { compileParam, eventFilter, eventsBetween, exportProperties } from '../events.js';
import type { EmulatorEvent } from '../types.js';
import type { EmulatorProjectData, EmulatorRequest, EmulatorResponse, EmulatorRoute } from '../types.js';
import type { CompiledExpression } from '../where.js';

/** The spec: "Value cannot be over 100000." */
export const EXPORT_MAX_LIMIT = 100_000;

function parseEvents(raw: string | undefined): Set<string> | undefined {
  if (raw === undefined || raw === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    parsed = undefined;
  }
  if (!Array.isArray(parsed) || !parsed.every((v) => typeof v === 'string')) {
    throw new EmulatorHttpError(400, 'event must be a JSON-encoded array of event names');
  }
  return new Set(parsed);
}

function parseLimit(raw: string | undefined): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  const limit = Number(raw);
  if (!Number.isInteger(limit) || limit < 1) throw new EmulatorHttpError(400, 'limit must be a positive integer');
  // Mixpanel answers 400 above the cap (https://developer.mixpanel.com/reference/raw-event-export: "cannot be over 100000"); the wording is chosen.
  if (limit > EXPORT_MAX_LIMIT) throw new EmulatorHttpError(400, `limit cannot be over ${EXPORT_MAX_LIMIT}`);
  return limit;
}

function* exportLines(
  data: EmulatorProjectData,
  range: { startMs: number; endMs: number },
  names: ReadonlySet<string> | undefined,
  where: CompiledExpression | undefined,
  limit: number | undefined,
  timeInMs: boolean,
  random: () => number,
): Generator<string> {
  const passes = eventFilter(data, where);
  let sent = 0;
  for (const event of shuffled([...eventsBetween(data, range.startMs, range.endMs)], random)) {
    if (limit !== undefined && sent >= limit) return;
    if (names && !names.has(event.event)) continue;
    if (!passes(event)) continue;
    sent++;
    yield JSON.stringify({ event: event.event, properties: exportProperties(event, timeInMs) });
  }
}

/** A lazy Fisher-Yates shuffle: each step picks the next event at random from those not yet sent. */
function* shuffled(events: EmulatorEvent[], random: () => number): Generator<EmulatorEvent> {
  for (let i = 0; i < events.length; i++) {
    const j = i + Math.floor(random() * (events.length - i));
    const picked = events[j] as EmulatorEvent;
    events[j] = events[i] as EmulatorEvent;
    yield picked;
  }
}

function handleExport(request: EmulatorRequest): EmulatorResponse {
  const { params, project, now } = request;
  const range = dateRange(params, now, request.exportZone);
  const names = parseEvents(params.event);
  const where = compileParam(params.where);
  const limit = parseLimit(params.limit);
  const timeInMs = params.time_in_ms === 'true' || params.time_in_ms === '1';
  return {
    status: 200,
    headers: { 'content-type': 'text/plain; charset=utf-8' },
    lines: exportLines(project, range, names, where, limit, timeInMs, request.random),
  };
}

export const exportRoutes: readonly EmulatorRoute[] = [
  { method: 'GET|POST', pattern: '/api/2.0/export', host: 'export', family: 'export', auth: 'service-account', handle: handleExport },
];
