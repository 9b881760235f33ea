/**
 * Reading the project's time-sorted events: range scans, the scope a
 * where/on expression sees, and the export record shape.
 */
import type { EmulatorEvent, EmulatorProjectData } from './types.js';
import { EmulatorHttpError } from './errors.js';
import { compileWhere, WhereEvaluationError, WhereSyntaxError, type CompiledExpression, type WhereScope } from './where.js';

/** Index of the first event at or after `timeSec` (events are sorted by time). */
function lowerBound(events: readonly EmulatorEvent[], timeSec: number): number {
  let lo = 0;
  let hi = events.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((events[mid] as EmulatorEvent).time < timeSec) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Events with startMs <= time < endMs, lazily, in time order. */
export function* eventsBetween(data: EmulatorProjectData, startMs: number, endMs: number): Generator<EmulatorEvent> {
  const endSec = endMs / 1000;
  for (let i = lowerBound(data.events, Math.ceil(startMs / 1000)); i < data.events.length; i++) {
    const event = data.events[i] as EmulatorEvent;
    if (event.time >= endSec) return;
    yield event;
  }
}

/** The event's properties as exported: time, distinct_id and $insert_id come from the event's own fields. */
export function exportProperties(event: EmulatorEvent, timeInMs = false): Record<string, unknown> {
  return {
    time: timeInMs ? event.time * 1000 : event.time,
    distinct_id: event.distinctId,
    ...(event.insertId === undefined ? {} : { $insert_id: event.insertId }),
    ...withoutIdentity(event.properties),
  };
}

function withoutIdentity(properties: Readonly<Record<string, unknown>>): Record<string, unknown> {
  if (!('time' in properties) && !('distinct_id' in properties) && !('$insert_id' in properties)) return properties;
  const { time: _time, distinct_id: _id, $insert_id: _insert, ...rest } = properties;
  return rest;
}

export function eventScope(data: EmulatorProjectData, event: EmulatorEvent): WhereScope {
  return {
    properties: exportProperties(event),
    user: data.profiles.get(event.distinctId)?.properties,
    time: event.time,
  };
}

/** Compiles a request's expression parameter, answering 400 when it does not parse. */
export function compileParam(expression: string | undefined, name = 'where'): CompiledExpression | undefined {
  if (expression === undefined || expression === '') return undefined;
  let compiled: CompiledExpression;
  try {
    compiled = compileWhere(expression);
  } catch (error) {
    if (error instanceof WhereSyntaxError) {
      // Mixpanel's wording for unparsable expressions is undocumented.
      throw new EmulatorHttpError(400, `invalid ${name} expression: ${error.message}`);
    }
    throw error;
  }
  return (scope) => {
    try {
      return compiled(scope);
    } catch (error) {
      // Mixpanel documents the error, not its wording.
      if (error instanceof WhereEvaluationError) throw new EmulatorHttpError(400, `invalid ${name} expression: ${error.message}`);
      throw error;
    }
  };
}

/** A predicate over events for `where`; everything passes without one. */
export function eventFilter(data: EmulatorProjectData, where: CompiledExpression | undefined): (event: EmulatorEvent) => boolean {
  if (!where) return () => true;
  return (event) => where(eventScope(data, event)) === true;
}
