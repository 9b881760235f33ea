/**
 * Raw event export (DIGEST §3b): JSONL streamed lazily from the sorted
 * events, so memory stays flat whatever the range. Gzip and stream faults are
 * applied by the server.
 */
import { dateRange } from '../dates.js';
import { EmulatorHttpError } from '../errors.js';
import { compileParam, eventFilter, eventsBetween, exportProperties } from '../events.js';
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
  // Mixpanel answers 400 above the cap [W17]; the wording is chosen.
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
): Generator<string> {
  const passes = eventFilter(data, where);
  let sent = 0;
  for (const event of eventsBetween(data, range.startMs, range.endMs)) {
    if (limit !== undefined && sent >= limit) return;
    if (names && !names.has(event.event)) continue;
    if (!passes(event)) continue;
    sent++;
    yield JSON.stringify({ event: event.event, properties: exportProperties(event, timeInMs) });
  }
}

function handleExport(request: EmulatorRequest): EmulatorResponse {
  const { params, project, now } = request;
  const range = dateRange(params, now);
  const names = parseEvents(params.event);
  const where = compileParam(params.where);
  const limit = parseLimit(params.limit);
  const timeInMs = params.time_in_ms === 'true' || params.time_in_ms === '1';
  return {
    status: 200,
    headers: { 'content-type': 'text/plain; charset=utf-8' },
    lines: exportLines(project, range, names, where, limit, timeInMs),
  };
}

export const exportRoutes: readonly EmulatorRoute[] = [
  { method: 'GET|POST', pattern: '/api/2.0/export', host: 'export', family: 'export', auth: 'service-account', handle: handleExport },
];
