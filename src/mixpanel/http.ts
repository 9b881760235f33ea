/**
 * HTTP to Mixpanel over undici: one connection pool per origin, keep-alive,
 * gzip, timeouts, and Mixpanel's error bodies turned into typed errors
 * (the error responses of each endpoint in https://developer.mixpanel.com/reference/overview).
 * Deliberately no retry interceptor: undici's retry handler
 * retries 429 five times by default, burning the hourly budget; retries
 * belong to src/limits, which knows the budget.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { pipeline, type Readable } from 'node:stream';
import { promisify } from 'node:util';
import { createGunzip, gzip as gzipCallback } from 'node:zlib';
import { Agent, type Dispatcher } from 'undici';
import {
  BadRequestError,
  ForbiddenError,
  MixpanelError,
  RateLimitedError,
  UnauthorizedError,
  UpstreamError,
  UpstreamNotFoundError,
  UpstreamTimeoutError,
} from './errors.js';
import type { ApiFamily, BaseUrls, HostFamily } from './types.js';

export type QueryValue = string | number | boolean | readonly string[] | undefined;
export type QueryParams = Readonly<Record<string, QueryValue>>;

export interface HttpRequest {
  /** Rate-limit family, carried by every error. */
  readonly family: ApiFamily;
  readonly host: HostFamily;
  readonly method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** Path below the family's base URL, already encoded. */
  readonly path: string;
  /** Undefined values are left out; arrays become JSON-array strings, as Mixpanel expects. */
  readonly query?: QueryParams;
  readonly form?: QueryParams;
  readonly json?: unknown;
  /** Sends the JSON body with `Content-Encoding: gzip` (ingestion accepts it). Default false. */
  readonly gzip?: boolean;
  readonly authorization?: string;
  readonly signal?: AbortSignal | undefined;
  readonly timeoutMs?: number | undefined;
}

export interface HttpOptions {
  readonly baseUrls: BaseUrls;
  /** Sent as `X-Mixpanel-Integration-ID` on every call (https://docs.mixpanel.com/docs/cohort-sync/build-an-integration). */
  readonly integrationId: string;
  readonly userAgent: string;
  /** Default per-call timeout in ms: the whole answer for JSON calls, first byte and idle gaps for streams. */
  readonly timeoutMs: number;
  /** A dispatcher to share (not closed by `close()`). Default: an own Agent with one Pool per origin. */
  readonly dispatcher?: Dispatcher | undefined;
  /** Scrubs credentials from upstream text before it enters an error message. */
  readonly redact: (text: string) => string;
}

export interface JsonResponse {
  readonly status: number;
  readonly body: unknown;
}

export interface Http {
  /**
   * Sends the call and parses the JSON answer. Non-2xx statuses reject with a
   * typed error unless `accept(status, body)` says the body is an answer.
   */
  json(request: HttpRequest, accept?: (status: number, body: unknown) => boolean): Promise<JsonResponse>;
  /** Sends the call and returns the decompressed 2xx body as a stream; destroying it ends the request. */
  stream(request: HttpRequest): Promise<Readable>;
  close(): Promise<void>;
}

/** Upstream text kept in an error message, at most. */
const MAX_MESSAGE_CHARS = 500;
/** Error bodies are read up to this size: enough for any message Mixpanel sends. */
const MAX_ERROR_BODY_BYTES = 64 * 1024;
const CONNECT_TIMEOUT_MS = 10_000;
const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT']);

export function createHttp(options: HttpOptions): Http {
  const ownsDispatcher = options.dispatcher === undefined;
  const dispatcher: Dispatcher =
    options.dispatcher ??
    new Agent({
      keepAliveTimeout: 30_000,
      connect: { timeout: Math.min(CONNECT_TIMEOUT_MS, options.timeoutMs) },
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
    });

  /** Sends the request; the returned `settle` stops the deadline and detaches the caller's signal. */
  async function send(request: HttpRequest, accept: string): Promise<Sent> {
    const timeoutMs = request.timeoutMs ?? options.timeoutMs;
    const label = `${request.method} ${request.path}`;
    request.signal?.throwIfAborted();

    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort(timeoutError(request.family, label, timeoutMs));
    }, timeoutMs);
    const onAbort = (): void => controller.abort(request.signal?.reason);
    request.signal?.addEventListener('abort', onAbort, { once: true });
    const stopTimer = (): void => clearTimeout(timer);
    const detach = (): void => {
      stopTimer();
      request.signal?.removeEventListener('abort', onAbort);
    };
    const translate = (error: unknown): unknown => {
      if (request.signal?.aborted) return request.signal.reason;
      if (timedOut) return timeoutError(request.family, label, timeoutMs);
      return transportError(error, request.family, label, timeoutMs);
    };

    try {
      const body = await bodyOf(request);
      const response = await dispatcher.request({
        origin: options.baseUrls[request.host],
        path: pathWithQuery(options.baseUrls[request.host], request.path, request.query),
        method: request.method,
        headers: headersFor(request, accept),
        body,
        signal: controller.signal,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      return { response, stopTimer, detach, translate, label };
    } catch (error) {
      detach();
      throw translate(error);
    }
  }

  function headersFor(request: HttpRequest, accept: string): Record<string, string> {
    const headers: Record<string, string> = {
      accept,
      'accept-encoding': 'gzip',
      'user-agent': options.userAgent,
      'x-mixpanel-integration-id': options.integrationId,
    };
    if (request.authorization !== undefined) headers.authorization = request.authorization;
    if (request.form !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
    else if (request.json !== undefined) headers['content-type'] = 'application/json';
    if (request.gzip === true && request.json !== undefined) headers['content-encoding'] = 'gzip';
    return headers;
  }

  async function failure(request: HttpRequest, sent: Sent): Promise<MixpanelError> {
    const { statusCode, headers } = sent.response;
    const text = await readText(sent, MAX_ERROR_BODY_BYTES).catch(() => '');
    return errorFromResponse(request.family, statusCode, headers, options.redact(text), sent.label);
  }

  return {
    async json(request, accept) {
      const sent = await send(request, 'application/json');
      try {
        const { statusCode } = sent.response;
        if (statusCode < 200 || statusCode >= 300) {
          const text = await readText(sent);
          const body = parseJson(text);
          if (body !== undefined && accept?.(statusCode, body)) return { status: statusCode, body };
          throw errorFromResponse(request.family, statusCode, sent.response.headers, options.redact(text), sent.label);
        }
        const text = await readText(sent);
        const body = parseJson(text);
        if (body === undefined) {
          throw new UpstreamError(
            `Mixpanel ${request.family} API answered ${sent.label} with a body that is not JSON (${contentType(sent.response.headers)})`,
            request.family,
            statusCode,
          );
        }
        return { status: statusCode, body };
      } catch (error) {
        throw error instanceof MixpanelError ? error : sent.translate(error);
      } finally {
        sent.detach();
      }
    },

    async stream(request) {
      const sent = await send(request, 'text/plain, application/json');
      const { statusCode } = sent.response;
      if (statusCode < 200 || statusCode >= 300) {
        try {
          throw await failure(request, sent);
        } finally {
          sent.detach();
        }
      }
      // From here the body's idle gaps are bounded by undici's bodyTimeout.
      sent.stopTimer();
      const body = decoded(sent);
      body.once('close', sent.detach);
      return body;
    },

    async close() {
      if (ownsDispatcher) await dispatcher.close();
    },
  };
}

interface Sent {
  readonly response: Dispatcher.ResponseData;
  readonly label: string;
  stopTimer(): void;
  detach(): void;
  /** Maps a transport failure to the caller's abort reason, a timeout, or an UpstreamError. */
  translate(error: unknown): unknown;
}

function pathWithQuery(baseUrl: string, path: string, query: QueryParams | undefined): string {
  const basePath = new URL(baseUrl).pathname.replace(/\/+$/, '');
  const search = query === undefined ? '' : encodeParams(query).toString();
  return `${basePath}${path}${search === '' ? '' : `?${search}`}`;
}

export function encodeParams(params: QueryParams): URLSearchParams {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value === undefined) continue;
    search.set(name, typeof value === 'object' ? JSON.stringify(value) : String(value));
  }
  return search;
}

const gzipAsync = promisify(gzipCallback);

async function bodyOf(request: HttpRequest): Promise<string | Buffer | undefined> {
  if (request.form !== undefined) return encodeParams(request.form).toString();
  if (request.json === undefined) return undefined;
  const text = JSON.stringify(request.json);
  return request.gzip === true ? gzipAsync(text) : text;
}

/** The body as sent, or gunzipped when Mixpanel compressed it (undici does not decompress). */
function decoded(sent: Sent): Readable {
  const { body, headers } = sent.response;
  if (!/\bgzip\b/i.test(String(headers['content-encoding'] ?? ''))) return body;
  return pipeline(body, createGunzip(), () => {
    // Errors surface on the returned stream; pipeline destroys both sides.
  });
}

async function readText(sent: Sent, maxBytes = Number.POSITIVE_INFINITY): Promise<string> {
  const body = decoded(sent);
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= maxBytes) break;
    }
  } finally {
    body.destroy();
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function contentType(headers: IncomingHttpHeaders): string {
  return String(headers['content-type'] ?? 'no content-type');
}

function timeoutError(family: ApiFamily, label: string, timeoutMs: number): UpstreamTimeoutError {
  return new UpstreamTimeoutError(`Mixpanel ${family} API did not answer ${label} within ${timeoutMs} ms`, family);
}

/** Connection failures and undici's own timeouts. */
export function transportError(error: unknown, family: ApiFamily, label: string, timeoutMs: number): MixpanelError {
  if (error instanceof MixpanelError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && TIMEOUT_CODES.has(code)) return timeoutError(family, label, timeoutMs);
  const reason = typeof code === 'string' ? code : error instanceof Error ? error.message : 'unknown error';
  return new UpstreamError(`Could not complete ${label} with the Mixpanel ${family} API: ${reason}`, family, undefined, {
    cause: error,
  });
}

/**
 * Mixpanel's error text: `error` of a JSON body (Query `{"request","error"}`,
 * App `{"error","status":"error"}`, ingestion `{"code","error","status"}`), or
 * the plain-text body (export). HTML pages (nginx 414, proxies) are not quoted.
 */
export function upstreamMessage(text: string): string | undefined {
  const body = parseJson(text);
  let message: string | undefined;
  if (typeof body === 'string') message = body;
  else if (typeof body === 'object' && body !== null && typeof (body as { error?: unknown }).error === 'string') {
    message = (body as { error: string }).error;
  } else if (body === undefined && !/^\s*</.test(text)) message = text;
  message = message?.trim();
  if (!message) return undefined;
  return message.length > MAX_MESSAGE_CHARS ? `${message.slice(0, MAX_MESSAGE_CHARS)}…` : message;
}

/** `Retry-After` as ms from now: delta-seconds or an HTTP-date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const raw = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!raw) return undefined;
  if (/^\d+$/.test(raw)) return Number(raw) * 1000;
  const at = Date.parse(raw);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** The typed error for a non-2xx answer; `text` must already be redacted. */
export function errorFromResponse(family: ApiFamily, status: number, headers: IncomingHttpHeaders, text: string, label: string): MixpanelError {
  const upstream = upstreamMessage(text);
  const said = upstream === undefined ? '' : `: ${upstream}`;
  if (status === 429) {
    const message = `Mixpanel ${family} rate limit reached for this project${said}`;
    return new RateLimitedError(family, parseRetryAfter(headers['retry-after']), message, status);
  }
  if (status === 401) return new UnauthorizedError(`Mixpanel rejected the credentials (401) for ${label}${said}`, family, status);
  if (status === 402 || status === 403) {
    return new ForbiddenError(`Mixpanel refused ${label} (${status}): the credentials or plan lack access${said}`, family, status);
  }
  if (status === 404) return new UpstreamNotFoundError(`Mixpanel found nothing at ${label} (404)${said}`, family, status);
  if (status >= 400 && status < 500) {
    return new BadRequestError(`Mixpanel rejected ${label} (${status})${said}`, family, status);
  }
  return new UpstreamError(`Mixpanel ${family} API failed on ${label} (${status})${said}`, family, status);
}
