/**
 * The Mixpanel emulator: one HTTP origin that answers every host family on
 * Mixpanel's own paths, with the documented auth, limits and error bodies.
 * The server does HTTP, auth, rate limits, counters and faults; routes are
 * plain functions over the project data.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { Readable, pipeline } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import { createGzip, gunzipSync } from 'node:zlib';
import type { ApiFamily, BaseUrls } from '../mixpanel/types.js';
import { authenticate, createProjectRegistry, DEMO_PROJECT_OPTIONS, type EmulatorProjectOptions, type RegisteredProject } from './auth.js';
import { createScaledClock } from './clock.js';
import { EmulatorHttpError, errorResponse, type ErrorStyle } from './errors.js';
import { createFaultSet, STREAM_FAULTS, type Fault, type FaultRegistry } from './faults.js';
import { createRateLimiter, isEngageFollowOnPage, resolveLimits, type RateLimitOverrides } from './rate-limits.js';
import { annotationRoutes } from './routes/annotations.js';
import { exportRoutes } from './routes/export.js';
import { ingestionRoutes } from './routes/ingestion.js';
import { lexiconRoutes } from './routes/lexicon.js';
import { createQueryRoutes } from './routes/query.js';
import { UTC, zoneOf } from './dates.js';
import { DATA_SIZES, generateProjectData, mulberry32, type DataSize, type DataSizeName } from './seed.js';
import type { Clock, EmulatorProjectData, EmulatorRequest, EmulatorResponse, EmulatorRoute } from './types.js';

export { DEMO_PROJECT, DEMO_PROJECT_OPTIONS, DEMO_TIMEZONE, type EmulatorProjectOptions, type EmulatorServiceAccount } from './auth.js';
export { createManualClock, createScaledClock, type ManualClock } from './clock.js';
export type { Fault, FaultKind } from './faults.js';
export type { DataSize, DataSizeName } from './seed.js';

/** Added delay per request, in real ms: a fixed value or a uniform range. */
export type Latency = number | { readonly min: number; readonly max: number };

export interface EmulatorOptions {
  /** Interface to listen on. Default "127.0.0.1". */
  readonly host?: string;
  /** Port; default 0 (any free port). */
  readonly port?: number;
  /** PRNG seed of the generated data. Default 1. */
  readonly seed?: number;
  /**
   * Data per project. Default 'demo' (10,000 profiles, 200,000 events over 90
   * days, 200 companies); 'small' is 500 / 5,000 / 30 days / 20, for tests.
   */
  readonly size?: DataSizeName | DataSize;
  /** Projects and their credentials. Default: one project with DEMO_PROJECT's credentials. */
  readonly projects?: readonly EmulatorProjectOptions[];
  /** Emulated clock; overrides `now` and `timeScale`. Default: a scaled real-time clock. */
  readonly clock?: Clock;
  /** Emulated ms per real ms (60 = one emulated hour per real minute). Default 1. */
  readonly timeScale?: number;
  /** Emulated time at start; the data's last day is this day. Default: the real current time. */
  readonly now?: number | Date;
  /** Overrides of the documented rate limits, per family. Default: the documented ones. */
  readonly limits?: RateLimitOverrides;
  /** Delay added to every admitted request (held while the request counts as running). Default 0. */
  readonly latencyMs?: Latency;
  /** Lifetime of an engage session_id in emulated ms; Mixpanel's is undocumented. Default 30 minutes. */
  readonly engageSessionTtlMs?: number;
  /**
   * Whether engage pages after the first of a session count against the
   * hourly Query limit. Default true; false models the public report that they don't.
   */
  readonly countEngageFollowOnPages?: boolean;
  /** Entries kept in `callLog` (oldest dropped first); `calls()` counts are never dropped. Default 10,000. */
  readonly callLogLimit?: number;
  /**
   * Also serve HTTPS with this key and certificate (PEM), on a port of its own (`tlsUrl`): the official
   * clients refuse to send credentials over plain HTTP. Default: HTTP only.
   */
  readonly tls?: { readonly key: string | Buffer; readonly cert: string | Buffer };
}

export interface CallLogEntry {
  readonly method: string;
  /** The path as received (without query string). */
  readonly path: string;
  /** Query and form parameters, body winning (query only until the body is read). */
  params: Readonly<Record<string, string>>;
  /** Response status; 0 while pending (or when the request hung). */
  status: number;
  /** Emulated time of arrival (epoch ms). */
  readonly at: number;
  /** The project the request named or authenticated as, when known. */
  projectId: string | undefined;
}

export interface Emulator {
  /** Base URL of every host family (e.g. http://127.0.0.1:PORT). */
  readonly url: string;
  /** The HTTPS origin serving the same emulator, when `tls` was given. */
  readonly tlsUrl: string | undefined;
  readonly baseUrls: BaseUrls;
  readonly clock: Clock;
  /** The project's live data (routes read and write it); default the first project. */
  data(projectId?: string): EmulatorProjectData;
  /**
   * Requests received (rejected ones included) whose path starts with
   * `pathPrefix` (either spelling of a Query path matches), optionally for one project.
   */
  calls(pathPrefix?: string, projectId?: string): number;
  readonly callLog: readonly CallLogEntry[];
  resetCalls(): void;
  readonly faults: FaultRegistry;
  setLatency(latency: Latency): void;
  close(): Promise<void>;
}

const DEFAULT_SESSION_TTL_MS = 30 * 60_000;
const MAX_BODY_BYTES = 64 * 1024 * 1024;
/** The export spec: gzip only when the body is over 1400 bytes. */
const GZIP_THRESHOLD = 1_400;
const STREAM_CHUNK_BYTES = 64 * 1024;

interface CompiledRoute {
  readonly route: EmulatorRoute;
  readonly methods: readonly string[];
  readonly regex: RegExp;
  readonly names: readonly string[];
}

function compileRoute(route: EmulatorRoute): CompiledRoute {
  const names: string[] = [];
  const source = route.pattern
    .split('/')
    .map((segment) => {
      if (!segment.startsWith(':')) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      names.push(segment.slice(1));
      return '([^/]+)';
    })
    .join('/');
  return { route, methods: route.method.split('|'), regex: new RegExp(`^${source}$`), names };
}

/** Query endpoints also answer on /api/2.0/<endpoint>, the spelling Mixpanel's own bodies echo. */
function canonicalPath(path: string): string {
  if (path.startsWith('/api/2.0/') && path !== '/api/2.0/export') return `/api/query/${path.slice('/api/2.0/'.length)}`;
  return path;
}

function styleOf(route: EmulatorRoute): ErrorStyle {
  if (route.host === 'query') return 'query';
  if (route.host === 'export') return 'export';
  if (route.host === 'app') return 'app';
  return route.auth === 'import' ? 'import' : 'ingestion';
}

function styleOfPath(path: string): ErrorStyle {
  if (path.startsWith('/api/query/')) return 'query';
  if (path.startsWith('/api/app/')) return 'app';
  return path === '/import' ? 'import' : 'ingestion';
}

function pickLatency(latency: Latency): number {
  if (typeof latency === 'number') return latency;
  return latency.min + Math.random() * Math.max(0, latency.max - latency.min);
}

function emptyProject(projectId: string, token: string): EmulatorProjectData {
  return {
    projectId,
    token,
    profiles: new Map(),
    groups: new Map(),
    events: [],
    cohorts: [],
    funnels: [],
    bookmarks: [],
    lexicon: new Map(),
    annotations: [],
    annotationTags: [],
  };
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new EmulatorHttpError(413, `request exceeds max limit of ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  const raw = Buffer.concat(chunks);
  if (!/\bgzip\b/i.test(String(request.headers['content-encoding'] ?? ''))) return raw;
  try {
    return gunzipSync(raw, { maxOutputLength: MAX_BODY_BYTES });
  } catch {
    throw new EmulatorHttpError(400, 'request body is not valid gzip');
  }
}

interface ParsedBody {
  readonly json: unknown;
  readonly form: Record<string, string>;
}

function parseBody(raw: Buffer, contentType: string): ParsedBody {
  const text = raw.toString('utf8');
  if (text.trim() === '') return { json: undefined, form: {} };
  const looksJson = /^\s*[[{]/.test(text);
  const isForm = contentType.includes('application/x-www-form-urlencoded') || (contentType === '' && !looksJson);
  if (isForm) return { json: undefined, form: Object.fromEntries(new URLSearchParams(text)) };
  if (!contentType.includes('json') && !looksJson) return { json: undefined, form: {} };
  try {
    if (contentType.includes('ndjson')) {
      return { json: text.split('\n').filter((line) => line.trim() !== '').map((line) => JSON.parse(line) as unknown), form: {} };
    }
    return { json: JSON.parse(text) as unknown, form: {} };
  } catch {
    throw new EmulatorHttpError(400, 'request body is not valid JSON');
  }
}

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

async function writeLines(
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

function send(response: ServerResponse, reply: Exclude<EmulatorResponse, { lines: Iterable<string> }>): void {
  if (response.headersSent || gone(response)) return;
  if ('json' in reply) {
    const body = JSON.stringify(reply.json);
    response
      .writeHead(reply.status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), ...reply.headers })
      .end(body);
  } else {
    response
      .writeHead(reply.status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': String(Buffer.byteLength(reply.text)), ...reply.headers })
      .end(reply.text);
  }
}

/** The client went away (or the emulator is closing): nothing more can be written. */
function gone(response: ServerResponse): boolean {
  return response.destroyed || response.socket === null || response.socket.destroyed;
}

/** Resolves after `ms` real ms, or when the client goes away. */
function waitOrClose(response: ServerResponse, ms: number): Promise<void> {
  if (gone(response)) return Promise.resolve();
  const controller = new AbortController();
  const closed = once(response, 'close', { signal: controller.signal }).then(() => undefined, () => undefined);
  const timer = Number.isFinite(ms) ? delay(ms, undefined, { signal: controller.signal }).catch(() => undefined) : new Promise<void>(() => {});
  return Promise.race([closed, timer]).finally(() => controller.abort());
}

export async function createEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const clock =
    options.clock ??
    createScaledClock({
      start: options.now instanceof Date ? options.now.getTime() : options.now,
      timeScale: options.timeScale,
    });
  const size = typeof options.size === 'object' ? options.size : DATA_SIZES[options.size ?? 'demo'];
  const seed = options.seed ?? 1;
  const projectOptions = options.projects ?? [DEMO_PROJECT_OPTIONS];
  if (projectOptions.length === 0) throw new RangeError('at least one project is required');
  const generatedAt = clock.now();
  // An unknown timezone is a configuration error, reported before anything listens.
  const zonesOf = new Map(projectOptions.map((p) => [p.projectId, zoneOf(p.timezone)]));
  const projects: RegisteredProject[] = projectOptions.map((p, k) => ({
    options: p,
    data: generateProjectData({ projectId: p.projectId, token: p.token, seed: seed + k, size, now: generatedAt }),
  }));
  const registry = createProjectRegistry(projects, { options: { projectId: '', token: '', serviceAccounts: [] }, data: emptyProject('', '') });
  const limiter = createRateLimiter(resolveLimits(options.limits), clock);
  const faults = createFaultSet();
  const countFollowOnPages = options.countEngageFollowOnPages ?? true;
  let latency: Latency = options.latencyMs ?? 0;
  const callLogLimit = options.callLogLimit ?? 10_000;
  /** Requests served so far: each gets its own seeded random source, so orders differ between calls but replay with the seed. */
  let requestCount = 0;

  const routes = [
    ...createQueryRoutes({ clock, engageSessionTtlMs: options.engageSessionTtlMs ?? DEFAULT_SESSION_TTL_MS }),
    ...exportRoutes,
    ...lexiconRoutes,
    ...annotationRoutes,
    ...ingestionRoutes,
  ].map(compileRoute);

  const callLog: CallLogEntry[] = [];
  /** Counts per (raw path, canonical path, project): prefix queries stay cheap however long the emulator runs. */
  const counters = new Map<string, { raw: string; canonical: string; projectId: string | undefined; count: number }>();

  function count(entry: CallLogEntry, canonical: string): void {
    const key = `${entry.path}\n${canonical}\n${entry.projectId ?? ''}`;
    const counter = counters.get(key);
    if (counter) counter.count++;
    else counters.set(key, { raw: entry.path, canonical, projectId: entry.projectId, count: 1 });
  }

  async function serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://emulator');
    const rawPath = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, '') : url.pathname;
    const path = canonicalPath(rawPath);
    const query = Object.fromEntries(url.searchParams);
    const method = request.method ?? 'GET';
    const compiled = routes.find((r) => r.regex.test(path) && r.methods.includes(method));
    const match = compiled ? (compiled.regex.exec(path) as RegExpExecArray) : undefined;
    const pathParams: Record<string, string> = {};
    let malformedPath = false;
    compiled?.names.forEach((name, k) => {
      try {
        pathParams[name] = decodeURIComponent(match?.[k + 1] ?? '');
      } catch {
        malformedPath = true;
      }
    });
    const entry: CallLogEntry = { method, path: rawPath, params: query, status: 0, at: clock.now(), projectId: query.project_id ?? pathParams.projectId };
    callLog.push(entry);
    if (callLog.length > callLogLimit) callLog.splice(0, callLog.length - callLogLimit);
    let counted = false;
    const markCounted = (): void => {
      if (counted) return;
      counted = true;
      count(entry, path);
    };

    const style = compiled ? styleOf(compiled.route) : styleOfPath(path);
    const echo = `${path.replace(/^\/api\/query\//, '/api/2.0/')}${url.search}`;
    const reply = async (result: EmulatorResponse, fault?: Fault): Promise<void> => {
      markCounted();
      entry.status = result.status;
      if ('lines' in result) await writeLines(request, response, result, fault);
      else send(response, result);
    };
    const fail = (status: number, message: string, headers?: Record<string, string>): Promise<void> =>
      reply(errorResponse(style, status, message, echo, headers));

    if (!compiled) {
      const known = routes.some((r) => r.regex.test(path));
      // Unknown paths answer JSON even on the export host, so clients can log something useful.
      const body = errorResponse(style === 'export' ? 'app' : style, known ? 405 : 404, known ? `Method ${method} not allowed` : `Unknown path ${rawPath}`, echo);
      return reply(body);
    }
    const route = compiled.route;
    // A bad percent-escape in a path segment is the client's error; Mixpanel's wording is undocumented.
    if (malformedPath) return fail(400, `Malformed path ${rawPath}`);

    let raw: Buffer;
    let parsed: ParsedBody;
    try {
      raw = await readBody(request);
      parsed = parseBody(raw, String(request.headers['content-type'] ?? '').toLowerCase());
    } catch (error) {
      if (error instanceof EmulatorHttpError) return fail(error.status, error.message);
      throw error;
    }
    const params = { ...query, ...parsed.form };
    entry.params = params;

    const paths = rawPath === path ? [path] : [rawPath, path];
    const hang = faults.take(paths, ['hang']);
    if (hang) {
      markCounted();
      await waitOrClose(response, hang.delayMs ?? Number.POSITIVE_INFINITY);
      if (gone(response)) return;
    }
    const forced = faults.take(paths, ['status', 'rate-limit']);
    if (forced?.kind === 'status') {
      const status = forced.status ?? 500;
      if (forced.body !== undefined) return reply({ status, text: forced.body });
      return fail(status, 'Internal Server Error');
    }

    const auth = authenticate(registry, { mode: route.auth, authorization: request.headers.authorization, params, pathParams, json: parsed.json });
    if (!auth.ok) return fail(auth.status, auth.message);
    const project = auth.project;
    entry.projectId = project.options.projectId;

    const family: ApiFamily | undefined = route.family;
    if (forced?.kind === 'rate-limit') {
      const message = limiter.describe(project.options.projectId, family ?? 'ingestion');
      return fail(429, message, family === 'export' ? { 'retry-after': '1' } : undefined);
    }
    let release = (): void => undefined;
    if (family !== undefined) {
      const admission = limiter.admit(project.options.projectId, family, {
        weight: family === 'ingestion' ? raw.length : 1,
        countsAgainstHourly: countFollowOnPages || !isEngageFollowOnPage(path, params),
      });
      if (!admission.ok) {
        // PostHog reports Retry-After on export 429s (https://github.com/PostHog/posthog/pull/63421); elsewhere it is unknown, so none is sent.
        const headers = admission.retryAfterSeconds !== undefined && style === 'export' ? { 'retry-after': String(admission.retryAfterSeconds) } : undefined;
        return fail(429, admission.message, headers);
      }
      release = admission.release;
    }
    // The client may have left while the body was read; then 'close' has already fired.
    if (gone(response)) return release();
    response.once('close', () => release());

    const wait = pickLatency(latency);
    if (wait > 0) await waitOrClose(response, wait);
    if (gone(response)) return;
    const emulatorRequest: EmulatorRequest = {
      method,
      path: rawPath,
      pathParams,
      params,
      json: parsed.json,
      rawBody: raw,
      headers: request.headers,
      project: project.data,
      now: clock.now(),
      zone: zonesOf.get(project.options.projectId) ?? UTC,
      exportZone: project.options.createdBefore2023 ? (zonesOf.get(project.options.projectId) ?? UTC) : UTC,
      random: mulberry32(seed * 1_000_003 + ++requestCount),
    };
    let result: EmulatorResponse;
    try {
      result = await route.handle(emulatorRequest);
    } catch (error) {
      if (error instanceof EmulatorHttpError) return fail(error.status, error.message, error.headers);
      throw error;
    }
    const slow = faults.take(paths, ['slow-first-byte']);
    if (slow) await waitOrClose(response, slow.delayMs ?? 5_000);
    if (gone(response)) return;
    try {
      return await reply(result, 'lines' in result ? faults.take(paths, STREAM_FAULTS) : undefined);
    } catch (error) {
      // A streamed body fails while its first lines are read (e.g. a `where` that cannot be evaluated): still a plain error answer.
      if (error instanceof EmulatorHttpError && !response.headersSent) return fail(error.status, error.message, error.headers);
      throw error;
    }
  }

  const handle = (request: IncomingMessage, response: ServerResponse): void => {
    serve(request, response).catch(() => {
      // A route bug must not take the emulator down; the client sees a 500.
      if (!response.headersSent && !response.destroyed) {
        response.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'Internal Server Error', status: 'error' }));
      } else {
        response.destroy();
      }
    });
  };
  const originOf = (listening: Server, scheme: string): string => {
    const address = listening.address() as AddressInfo;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return `${scheme}://${host}:${address.port}`;
  };
  const server: Server = createServer(handle);
  server.listen(options.port ?? 0, options.host ?? '127.0.0.1');
  await once(server, 'listening');
  const url = originOf(server, 'http');
  const tlsServer = options.tls ? createTlsServer({ key: options.tls.key, cert: options.tls.cert }, handle) : undefined;
  if (tlsServer) {
    tlsServer.listen(0, options.host ?? '127.0.0.1');
    await once(tlsServer, 'listening');
  }
  const tlsUrl = tlsServer ? originOf(tlsServer, 'https') : undefined;

  let closing: Promise<void> | undefined;
  return {
    url,
    tlsUrl,
    baseUrls: { query: url, export: url, ingestion: url, app: url },
    clock,
    data(projectId) {
      const project = projectId === undefined ? projects[0] : registry.byId(projectId);
      if (!project) throw new RangeError(`unknown emulated project ${projectId}`);
      return project.data;
    },
    calls(pathPrefix = '/', projectId) {
      const canonicalPrefix = canonicalPath(pathPrefix);
      let total = 0;
      for (const c of counters.values()) {
        if (projectId !== undefined && c.projectId !== projectId) continue;
        if (c.raw.startsWith(pathPrefix) || c.canonical.startsWith(canonicalPrefix)) total += c.count;
      }
      return total;
    },
    callLog,
    resetCalls() {
      counters.clear();
      callLog.length = 0;
    },
    faults: { inject: (fault) => faults.inject(fault), clear: () => faults.clear() },
    setLatency(next) {
      latency = next;
    },
    close() {
      closing ??= Promise.all(
        [server, ...(tlsServer ? [tlsServer] : [])].map(
          (listening) =>
            new Promise<void>((resolve) => {
              listening.close(() => resolve());
              listening.closeAllConnections();
            }),
        ),
      ).then(() => undefined);
      return closing;
    },
  };
}
