/**
 * Writing a route's answer: JSON or text whole, JSONL streamed in chunks (gzip past the export
 * spec's threshold) with the stream faults applied; and noticing a client that went away.
 */
import { once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable, pipeline } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import { createGzip } from 'node:zlib';
import type { Fault } from './faults.js';
import type { EmulatorResponse } from './types.js';

/** The export spec: gzip only when the body is over 1400 bytes. */
const GZIP_THRESHOLD = 1_400;
const STREAM_CHUNK_BYTES = 64 * 1024;

/** JSONL lines with the stream faults applied, each ending in "\n". */
function* faultedLines(lines: Iterable<string>, fault: Fault | undefined): Generator<string> {
  let index = 0;
  const after = fault?.afterLines ?? (fault?.kind === 'truncate' ? 1 : 0);
  for (const line of lines) {
    if (fault?.kind === 'truncate' && index >= after) break;
    if (fault?.kind === 'split-record' && index === after) {
      const cut = Math.max(1, Math.floor(line.length / 2));
      yield `${line.slice(0, cut)}\n${line.slice(cut)}\n`;
    } else {
      yield `${line}\n`;
    }
    index++;
  }
  // The literal line Mixpanel ends a cut stream with, as clients expect it
  // (airbytehq/airbyte: airbyte-integrations/connectors/source-mixpanel/source_mixpanel/components.py, iter_dicts).
  if (fault?.kind === 'truncate') yield 'terminated early\n';
}

/** Groups lines into ~64 KiB chunks so a 200k-line export is not 200k writes. */
function* chunked(lines: Iterator<string>): Generator<string> {
  let buffer = '';
  for (let next = lines.next(); !next.done; next = lines.next()) {
    buffer += next.value;
    if (buffer.length >= STREAM_CHUNK_BYTES) {
      yield buffer;
      buffer = '';
    }
  }
  if (buffer) yield buffer;
}

export async function writeLines(
  request: IncomingMessage,
  response: ServerResponse,
  reply: { status: number; headers?: Record<string, string> | undefined; lines: Iterable<string> },
  fault: Fault | undefined,
): Promise<void> {
  const lines = faultedLines(reply.lines, fault)[Symbol.iterator]();
  // Read past the gzip threshold before choosing the encoding; the rest stays lazy.
  let head = '';
  let done = false;
  while (!done && Buffer.byteLength(head) <= GZIP_THRESHOLD) {
    const next = lines.next();
    if (next.done) done = true;
    else head += next.value;
  }
  const headers: Record<string, string> = { 'content-type': 'text/plain; charset=utf-8', ...reply.headers };
  if (done && Buffer.byteLength(head) <= GZIP_THRESHOLD) {
    response.writeHead(reply.status, { ...headers, 'content-length': String(Buffer.byteLength(head)) }).end(head);
    return;
  }
  const gzip = /\bgzip\b/i.test(String(request.headers['accept-encoding'] ?? ''));
  response.writeHead(reply.status, gzip ? { ...headers, 'content-encoding': 'gzip', vary: 'Accept-Encoding' } : headers);
  const body = Readable.from(
    (function* () {
      yield head;
      yield* chunked(lines);
    })(),
    { objectMode: false },
  );
  await new Promise<void>((resolve) => {
    const finish = (): void => resolve();
    if (gzip) pipeline(body, createGzip(), response, finish);
    else pipeline(body, response, finish);
  });
}

export function send(response: ServerResponse, reply: Exclude<EmulatorResponse, { lines: Iterable<string> }>): void {
  if (response.headersSent || gone(response)) return;
  if ('json' in reply) {
    const body = JSON.stringify(reply.json);
    response.writeHead(reply.status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), ...reply.headers }).end(body);
  } else {
    response
      .writeHead(reply.status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': String(Buffer.byteLength(reply.text)), ...reply.headers })
      .end(reply.text);
  }
}

/** The client went away (or the emulator is closing): nothing more can be written. */
export function gone(response: ServerResponse): boolean {
  return response.destroyed || response.socket === null || response.socket.destroyed;
}

/** Resolves after `ms` real ms, or when the client goes away. */
export function waitOrClose(response: ServerResponse, ms: number): Promise<void> {
  if (gone(response)) return Promise.resolve();
  const controller = new AbortController();
  const closed = once(response, 'close', { signal: controller.signal }).then(
    () => undefined,
    () => undefined,
  );
  const timer = Number.isFinite(ms) ? delay(ms, undefined, { signal: controller.signal }).catch(() => undefined) : new Promise<void>(() => {});
  return Promise.race([closed, timer]).finally(() => controller.abort());
}
