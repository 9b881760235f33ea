/**
 * `GET /projects/{key}/events.ndjson?from=yyyy-mm-dd&to=yyyy-mm-dd[&event=Name...][&where=expr]`:
 * a range's raw events as NDJSON, one export call streamed straight through
 * (memory holds one chunk at a time however long the range), in Mixpanel's
 * own order. The call goes through the project's runtime like every other,
 * so it spends, and waits for, the Export budget.
 *
 * The status is sent with the first event: a failure before it answers a
 * JSON error; a failure after it cuts the response short (no final chunk),
 * so a client never takes a partial download for a complete one.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { GatewayError, InvalidArgumentError } from '../core/errors.js';
import { BadRequestError, RateLimitedError } from '../mixpanel/errors.js';
import type { ExportParams } from '../mixpanel/types.js';
import { newRequestStats } from '../upstream/call-context.js';
import type { ProjectRuntime } from '../runtime/types.js';
import { checkDateRange, checkExpression, checkNames, parseDay } from '../schema/validation.js';

/** The path of a project's download; undefined when `path` is not one. */
export function downloadProjectKey(path: string): string | undefined {
  const match = /^\/projects\/([^/]+)\/events\.ndjson$/.exec(path);
  if (!match) return undefined;
  try {
    return decodeURIComponent(match[1] as string);
  } catch {
    return undefined;
  }
}

export interface DownloadOptions {
  readonly project: ProjectRuntime;
  /** Budget deadline of the call, in ms from the request's start. */
  readonly requestDeadlineMs: number;
  readonly now: () => number;
  /** Longest range, in days. Default 366. */
  readonly maxDays?: number;
}

const MAX_EVENT_NAMES = 100;

function paramsOf(url: URL, now: number, maxDays: number): ExportParams {
  const day = (name: 'from' | 'to'): string => {
    const raw = url.searchParams.get(name);
    if (raw === null) throw new InvalidArgumentError(`${name} is required (yyyy-mm-dd)`, name);
    const parsed = parseDay(raw);
    if (parsed === undefined) throw new InvalidArgumentError(`${name} must be a real calendar day as yyyy-mm-dd`, name);
    return parsed;
  };
  // Export dates are UTC for projects created after 2023-01-01 (https://developer.mixpanel.com/reference/raw-event-export).
  const range = checkDateRange({ from: day('from'), to: day('to') }, { maxDays, now });
  const names = url.searchParams.has('event') ? checkNames(url.searchParams.getAll('event'), 'event', MAX_EVENT_NAMES) : undefined;
  const whereRaw = url.searchParams.get('where');
  const where = checkExpression(whereRaw, 'where');
  return { fromDate: range.from, toDate: range.to, ...(names ? { events: names } : {}), ...(where ? { where } : {}), timeInMs: true };
}

function sendError(res: ServerResponse, status: number, error: GatewayError, headers: Record<string, string> = {}): void {
  res
    .writeHead(status, { 'content-type': 'application/json', ...headers })
    .end(
      JSON.stringify({ errors: [{ message: error.message, extensions: { code: error.code, ...('argument' in error ? { argument: error.argument } : {}) } }] }),
    );
}

/** Serves one download request (the caller has checked the API key and the method). */
export async function serveEventDownload(req: IncomingMessage, res: ServerResponse, options: DownloadOptions): Promise<void> {
  const startedAt = options.now();
  let params: ExportParams;
  try {
    params = paramsOf(new URL(req.url ?? '/', 'http://gateway'), startedAt, options.maxDays ?? 366);
  } catch (error) {
    if (error instanceof InvalidArgumentError) return sendError(res, 400, error);
    throw error;
  }
  const controller = new AbortController();
  res.once('close', () => controller.abort(new Error('the client went away')));
  let started = false;
  try {
    await options.project.fetch(
      'exportStream',
      {
        // Never shared or cached: each client reads its own stream.
        params,
        consume: async (events, signal) => {
          try {
            for await (const record of events) {
              if (!started) {
                started = true;
                res.writeHead(200, { 'content-type': 'application/x-ndjson; charset=utf-8', 'cache-control': 'no-store' });
              }
              if (!res.write(`${JSON.stringify(record)}\n`)) {
                await new Promise<void>((resolve) => {
                  const done = (): void => {
                    res.off('drain', done);
                    res.off('close', done);
                    resolve();
                  };
                  res.on('drain', done);
                  res.on('close', done);
                });
              }
              signal.throwIfAborted();
            }
          } catch (error) {
            // Past the first byte a retry would repeat events: the failure is final.
            if (started) throw new Error('the export failed mid-stream', { cause: error });
            throw error;
          }
        },
      },
      { deadline: startedAt + options.requestDeadlineMs, signal: controller.signal, stats: newRequestStats() },
    );
    if (!started) res.writeHead(200, { 'content-type': 'application/x-ndjson; charset=utf-8', 'cache-control': 'no-store' });
    res.end();
  } catch (error) {
    if (started || res.headersSent) {
      res.destroy();
      return;
    }
    if (error instanceof RateLimitedError) {
      const retry: Record<string, string> = error.retryAfterMs === undefined ? {} : { 'retry-after': String(Math.ceil(error.retryAfterMs / 1000)) };
      return sendError(res, 429, error, retry);
    }
    // Mixpanel refusing the request (e.g. a `where` it cannot evaluate) is the client's error; anything else upstream is a bad gateway.
    if (error instanceof BadRequestError) return sendError(res, 400, error);
    if (error instanceof GatewayError) return sendError(res, 502, error);
    if (controller.signal.aborted) return;
    throw error;
  }
}
