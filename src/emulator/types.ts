/**
 * Contracts inside the Mixpanel emulator. Route modules (query, export,
 * lexicon, annotations, ingestion) are plain functions over the shared state;
 * the server (server.ts) does HTTP, auth, rate limits, counters and faults.
 */
import type { ApiFamily, HostFamily, LexiconSchema, Annotation, AnnotationTag } from '../mixpanel/types.js';
import type { Zone } from './dates.js';

/** Injectable clock: tests run hourly windows in seconds by scaling it. */
export interface Clock {
  now(): number;
  /** Resolves after `ms` of *emulated* time. */
  sleep(ms: number): Promise<void>;
}

export interface EmulatorProfile {
  distinctId: string;
  properties: Record<string, unknown>;
}

export interface EmulatorEvent {
  event: string;
  /** Seconds since epoch, as export returns by default. */
  time: number;
  distinctId: string;
  /** Absent on events a non-strict /import took without one: those are never deduplicated. */
  insertId?: string | undefined;
  properties: Record<string, unknown>;
}

/** A saved cohort, defined by a rule over profile properties. */
export interface EmulatorCohort {
  id: number;
  name: string;
  description: string;
  created: string; // "2019-03-19 23:49:51"
  isVisible: boolean;
  /** Engage where-expression selecting the members (evaluated against current profiles). */
  where: string;
}

export interface EmulatorFunnel {
  funnelId: number;
  name: string;
  steps: string[]; // event names
}

export interface EmulatorBookmark {
  bookmarkId: number;
  name: string;
  event: string;
}

export interface LexiconEntryState {
  entityType: 'event' | 'profile';
  name: string;
  schemaJson: LexiconSchema;
}

/** One emulated project's data; ingestion writes here, so queries see what was written. */
export interface EmulatorProjectData {
  readonly projectId: string;
  readonly token: string;
  profiles: Map<string, EmulatorProfile>;
  /** Group profiles by data_group_id (group key) then group id. */
  groups: Map<string, Map<string, EmulatorProfile>>;
  /** Sorted by time ascending. */
  events: EmulatorEvent[];
  cohorts: EmulatorCohort[];
  funnels: EmulatorFunnel[];
  bookmarks: EmulatorBookmark[];
  /** Keyed `${entityType}:${name}`. */
  lexicon: Map<string, LexiconEntryState>;
  annotations: Annotation[];
  annotationTags: AnnotationTag[];
}

/** Parsed request handed to a route handler. */
export interface EmulatorRequest {
  readonly method: string;
  /** Path without query string. */
  readonly path: string;
  /** Path parameters captured by the route pattern. */
  readonly pathParams: Readonly<Record<string, string>>;
  /** Query string and form-encoded body fields merged (body wins), as Mixpanel accepts both. */
  readonly params: Readonly<Record<string, string>>;
  /** Parsed JSON body (or NDJSON array for /import), when the body is JSON. */
  readonly json: unknown;
  readonly rawBody: Buffer;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly project: EmulatorProjectData;
  readonly now: number;
  /** The project's timezone: Query API dates and buckets. */
  readonly zone: Zone;
  /** The timezone of export dates: UTC, or the project's for projects created before 2023. */
  readonly exportZone: Zone;
  /** A fresh pseudo-random source for this request (seeded from the emulator's seed and a call counter). */
  readonly random: () => number;
}

export type EmulatorResponse =
  | { readonly status: number; readonly json: unknown; readonly headers?: Record<string, string> }
  | { readonly status: number; readonly text: string; readonly headers?: Record<string, string> }
  /** Streamed text body (export JSONL); the server applies gzip and stream faults. */
  | { readonly status: number; readonly lines: Iterable<string>; readonly headers?: Record<string, string> };

export type AuthMode =
  /** Service-account Basic auth (or legacy project secret) + project_id query param. */
  | 'service-account'
  /** Service account, project id in the path (/api/app/projects/{projectId}/...). */
  | 'service-account-path'
  /** Project token in the body ($token / properties.token); /import also takes SA or token-as-username. */
  | 'token'
  | 'import';

export interface EmulatorRoute {
  readonly method: 'GET' | 'POST' | 'PATCH' | 'DELETE' | 'GET|POST';
  /** Express-like pattern, e.g. "/api/app/projects/:projectId/schemas/:entityType/:name". */
  readonly pattern: string;
  readonly host: HostFamily;
  /** Rate-limit family; undefined = unlimited (annotations: limits undocumented). */
  readonly family: ApiFamily | undefined;
  readonly auth: AuthMode;
  handle(request: EmulatorRequest): EmulatorResponse | Promise<EmulatorResponse>;
}
