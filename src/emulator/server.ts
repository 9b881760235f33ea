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
import type { ApiFamily, BaseUrls } from '../mixpanel/types.js';
import { authenticate, createProjectRegistry, DEMO_PROJECT_OPTIONS, type EmulatorProjectOptions, type RegisteredProject } from './auth.js';
import { createScaledClock } from './clock.js';
import { EmulatorHttpError, errorResponse } from './errors.js';
import { createFaultSet, STREAM_FAULTS, type Fault, type FaultRegistry } from './faults.js';
import { createRateLimiter, isEngageFollowOnPage, resolveLimits, type RateLimitOverrides } from './rate-limits.js';
import { annotationRoutes } from './routes/annotations.js';
import { exportRoutes } from './routes/export.js';
import { ingestionRoutes } from './routes/ingestion.js';
import { lexiconRoutes } from './routes/lexicon.js';
import { createQueryRoutes } from './routes/query.js';
import { UTC, zoneOf } from './dates.js';
import { DATA_SIZES, generateProjectData, mulberry32, type DataSize, type DataSizeName } from './seed.js';
import { gone, send, waitOrClose, writeLines } from './replies.js';
import { parseBody, readBody, type ParsedBody } from './request-body.js';
import { canonicalPath, compileRoute, styleOf, styleOfPath } from './route-table.js';
import type { Clock, EmulatorProjectData, EmulatorRequest, EmulatorResponse } from './types.js';

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
      const message = known ? `Method ${method} not allowed` : `Unknown path ${rawPath}`;
      const body = errorResponse(style === 'export' ? 'app' : style, known ? 405 : 404, message, echo);
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
