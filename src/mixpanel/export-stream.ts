/**
 * Incremental parser of the raw-export body
 * (https://developer.mixpanel.com/reference/raw-event-export): JSONL, one event
 * per line. Memory holds one chunk and one partial line at a time, however
 * large the export. Mixpanel may end a stream with a `terminated early` line or
 * leave a record split or truncated (airbytehq/airbyte:
 * airbyte-integrations/connectors/source-mixpanel/source_mixpanel/components.py,
 * iter_dicts): the events before it are yielded, then an UpstreamError says
 * the export was cut short, so a caller never mistakes a partial export for a
 * complete one.
 */
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { UpstreamError } from './errors.js';
import type { ExportedEvent } from './types.js';

/** Events are under 1 MB (https://developer.mixpanel.com/reference/import-events); a longer line is not a record. */
export const MAX_EXPORT_LINE_CHARS = 8 * 1024 * 1024;

const TERMINATED_EARLY = new Set(['terminated early', '[terminated early]']);

export interface ExportStreamOptions {
  /**
   * Maps a failure of the body itself (socket reset, idle timeout, abort,
   * corrupt gzip) to the error to throw; `eventsSoFar` were already yielded.
   */
  readonly mapError: (error: unknown, eventsSoFar: number) => unknown;
}

/** Yields each exported event; destroys `body` when the loop ends, breaks or throws. */
export async function* parseExportStream(body: Readable, options: ExportStreamOptions): AsyncGenerator<ExportedEvent, void, undefined> {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  let lineNumber = 0;
  let count = 0;

  const parseLine = (line: string): ExportedEvent | undefined => {
    lineNumber += 1;
    const trimmed = line.trim();
    if (trimmed === '') return undefined;
    if (TERMINATED_EARLY.has(trimmed)) {
      throw new UpstreamError(`Mixpanel cut the export short ("${trimmed}") after ${count} events: the result is incomplete`, 'export', 200);
    }
    const record = parseRecord(trimmed);
    if (record === undefined) {
      throw new UpstreamError(`Mixpanel export was cut short: line ${lineNumber} is not a complete event record (after ${count} events)`, 'export', 200);
    }
    count += 1;
    return record;
  };

  try {
    const chunks = (body as AsyncIterable<Buffer | string>)[Symbol.asyncIterator]();
    for (;;) {
      let next: IteratorResult<Buffer | string>;
      try {
        next = await chunks.next();
      } catch (error) {
        throw options.mapError(error, count);
      }
      if (next.done) break;
      pending += typeof next.value === 'string' ? next.value : decoder.write(next.value);
      let start = 0;
      for (let end = pending.indexOf('\n'); end !== -1; end = pending.indexOf('\n', start)) {
        const event = parseLine(pending.slice(start, end));
        start = end + 1;
        if (event !== undefined) yield event;
      }
      pending = pending.slice(start);
      if (pending.length > MAX_EXPORT_LINE_CHARS) {
        throw new UpstreamError(
          `Mixpanel export line ${lineNumber + 1} exceeds ${MAX_EXPORT_LINE_CHARS} characters: not an event record (after ${count} events)`,
          'export',
          200,
        );
      }
    }
    // The last line may lack its newline; it must still be a whole record.
    const event = parseLine(pending + decoder.end());
    if (event !== undefined) yield event;
  } finally {
    body.destroy();
  }
}

function parseRecord(line: string): ExportedEvent | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { event, properties } = value as { event?: unknown; properties?: unknown };
  if (typeof event !== 'string' || typeof properties !== 'object' || properties === null) return undefined;
  return value as ExportedEvent;
}
