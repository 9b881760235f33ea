/**
 * Every Mixpanel endpoint the schema uses, described once: its rate-limit
 * family, which cache TTL applies, whether a call counts against the hourly
 * limit, whether identical calls may share one answer, how two calls to it
 * merge (and split back), and how the cost estimator counts it.
 *
 * The runtime (src/runtime/project-runtime.ts) sends calls only through this table, the
 * loaders ask the runtime for data by endpoint name, and src/schema/cost.ts
 * reads the families from here: the schema never sees the raw client.
 */
import { analyticsKind } from '../cache/response-cache.js';
import type { ProjectConfig } from '../config/types.js';
import type {
  AddictionResponse,
  AnnotationTag,
  GroupUpdate,
  ImportResult,
  IngestEvent,
  ProfileUpdate,
  AddictionParams,
  Annotation,
  ApiFamily,
  CohortRecord,
  CountType,
  DateString,
  EngagePage,
  EngageParams,
  EventPropertyParams,
  EventsParams,
  ExportParams,
  ExportedEvent,
  FunnelListEntry,
  FunnelParams,
  FunnelResponse,
  InsightsResponse,
  LexiconEntityType,
  LexiconSchemaEntry,
  MixpanelClient,
  RetentionParams,
  RetentionResponse,
  ScalarSeriesResponse,
  SegmentationParams,
  SeriesResponse,
  StreamEvent,
  TopEventsResponse,
  TopPropertiesResponse,
} from '../mixpanel/types.js';
import type { CacheKind } from '../cache/kinds.js';

/**
 * How calls of one endpoint that differ only in a list of ids merge into one.
 * The merge key is the call without its ids; a merged call never exceeds the
 * limits below; the answer is split back per id.
 */
export interface MergeDescription {
  /** Most ids per call. */
  readonly maxIds: number;
  /** Most bytes the ids may take in the request (form body or query string), as `idBytes` counts them. */
  readonly maxIdBytes: number;
  /** Bytes one id adds to the request. Default: JSON-encoded (`idBytes`). */
  readonly idBytes?: (id: string) => number;
}

export interface EndpointDescription<P, R> {
  readonly family: ApiFamily;
  /** Which TTL applies; 'none' is never cached (writes, streams). */
  readonly kind: CacheKind | ((params: P, now: number, timeZone: string | undefined) => CacheKind);
  /** Whether identical calls in flight may share one answer. False for writes: two creates are two annotations. */
  readonly shared: boolean;
  /** Whether this call counts against the family's hourly limit. Default: always. */
  readonly countsAgainstHourly?: (params: P, config: ProjectConfig) => boolean;
  /** Set when calls differing only in their ids merge into one (see MergeDescription). */
  readonly merge?: MergeDescription;
  /**
   * Most retries the budget may make (of a 429 or a retryable failure). Default: the budget's own.
   * 0 for a write Mixpanel does not de-duplicate: once it may have arrived, sending it again could apply it twice.
   */
  readonly maxRetries?: number;
  readonly send: (client: MixpanelClient, params: P, signal: AbortSignal) => Promise<R>;
}

/**
 * A raw export read as a stream: `consume` reads the events (spilling them to disk, or piping them to a
 * response) while the call holds its budget slot, and its result is the call's.
 */
export interface ExportStreamParams {
  readonly params: ExportParams;
  readonly consume: (events: AsyncIterable<ExportedEvent>, signal: AbortSignal) => Promise<unknown>;
}

const describe = <P, R>(description: EndpointDescription<P, R>): EndpointDescription<P, R> => description;

/** Analytics results: a range ending before today is final and cached long, today's is cached briefly. */
const byRange = (params: object, now: number, timeZone: string | undefined): CacheKind => {
  const toDate = (params as { readonly toDate?: unknown }).toDate;
  return typeof toDate === 'string' ? analyticsKind(toDate, now, timeZone) : 'analyticsToday';
};

/**
 * Profiles one engage page returns: `page_size` is 1000 in Mixpanel's answers
 * (https://developer.mixpanel.com/reference/engage-query: "at most
 * `page_size` records for each request"). A `distinct_ids` call of at most
 * this many ids is answered in one page, so it costs exactly one call.
 */
export const ENGAGE_PAGE_SIZE = 1000;

/**
 * Bytes of the `distinct_ids` JSON array in one engage form body. The spec
 * (https://developer.mixpanel.com/reference/engage-query) sends it as a POST
 * form field and names no size limit; this keeps each body far below what
 * any HTTP front end accepts.
 */
export const ENGAGE_MAX_ID_BYTES = 256 * 1024;

/**
 * /stream/query takes `distinct_ids` in the query string of a GET
 * (https://developer.mixpanel.com/reference/activity-stream-query); 6 KiB of
 * ids keeps the request line under the 8 KiB most servers accept.
 */
export const STREAM_MAX_ID_BYTES = 6 * 1024;

/** How engage calls by `distinct_ids` merge: one page's worth of ids. */
export const ENGAGE_MERGE: MergeDescription = { maxIds: ENGAGE_PAGE_SIZE, maxIdBytes: ENGAGE_MAX_ID_BYTES };
/** How /stream/query calls by `distinct_ids` merge: as many ids as one request line holds. */
export const STREAM_MERGE: MergeDescription = { maxIds: ENGAGE_PAGE_SIZE, maxIdBytes: STREAM_MAX_ID_BYTES };

/**
 * Events per merged /events call. Mixpanel documents no limit on the `event`
 * list (https://developer.mixpanel.com/reference/events); 100 is what the
 * schema already lets one `eventCounts` ask for in one call, so a merged call
 * is never larger than one a client could send itself.
 */
export const EVENTS_MAX_PER_CALL = 100;

/**
 * /events takes `event` as a JSON array in the query string of a GET
 * (https://developer.mixpanel.com/reference/events): 6 KiB of it, counted
 * percent-encoded as it is sent, keeps the request line under the 8 KiB most
 * servers accept, whatever the names.
 */
export const EVENTS_MAX_NAME_BYTES = 6 * 1024;

/** Bytes one event name adds to /events' query string: JSON-encoded, percent-encoded, with its encoded separator. */
export const eventNameBytes = (name: string): number => encodeURIComponent(JSON.stringify(name)).length + 3;

/** How plain segmentations and eventCounts of one range merge into /events calls. */
export const EVENTS_MERGE: MergeDescription = { maxIds: EVENTS_MAX_PER_CALL, maxIdBytes: EVENTS_MAX_NAME_BYTES, idBytes: eventNameBytes };

/**
 * Whether /segmentation's answer to these params is the one /events gives for
 * that one event (https://developer.mixpanel.com/reference/segmentation-query,
 * https://developer.mixpanel.com/reference/events): no `on` (segments by
 * property), no `where`, no `interval` (days per bucket for segmentation, a
 * count of units for /events), no `limit`, and a (type, unit) /events accepts
 * ("you cannot get hourly uniques").
 */
export function isPlainSegmentation(params: SegmentationParams): boolean {
  if (params.on !== undefined || params.where !== undefined || params.interval !== undefined || params.limit !== undefined) return false;
  const unit = params.unit ?? 'day';
  return !((params.type ?? 'general') === 'unique' && (unit === 'hour' || unit === 'minute'));
}

export interface StreamQueryParams {
  readonly distinctIds: readonly string[];
  readonly fromDate: DateString;
  readonly toDate: DateString;
}

export const ENDPOINTS = {
  // ---------- Query API ----------
  engage: describe<EngageParams, EngagePage>({
    family: 'query',
    kind: 'profiles',
    shared: true,
    // Pages after the first of a session are free of the hourly limit only where the project says so.
    countsAgainstHourly: (params, config) => (params.page ?? 0) === 0 || config.countEngageFollowOnPages,
    merge: ENGAGE_MERGE,
    send: (client, params, signal) => client.engage(params, { signal }),
  }),
  cohortsList: describe<Record<string, never>, CohortRecord[]>({
    family: 'query',
    kind: 'cohorts',
    shared: true,
    send: (client, _params, signal) => client.cohortsList({ signal }),
  }),
  streamQuery: describe<StreamQueryParams, StreamEvent[]>({
    family: 'query',
    kind: 'events',
    shared: true,
    merge: STREAM_MERGE,
    send: (client, params, signal) => client.streamQuery(params, { signal }),
  }),
  segmentation: describe<SegmentationParams, SeriesResponse>({
    family: 'query',
    kind: byRange,
    shared: true,
    send: (c, p, signal) => c.segmentation(p, { signal }),
  }),
  segmentationNumeric: describe<SegmentationParams & { on: string }, SeriesResponse>({
    family: 'query',
    kind: byRange,
    shared: true,
    send: (c, p, signal) => c.segmentationNumeric(p, { signal }),
  }),
  segmentationSum: describe<SegmentationParams & { on: string }, ScalarSeriesResponse>({
    family: 'query',
    kind: byRange,
    shared: true,
    send: (c, p, signal) => c.segmentationSum(p, { signal }),
  }),
  segmentationAverage: describe<SegmentationParams & { on: string }, ScalarSeriesResponse>({
    family: 'query',
    kind: byRange,
    shared: true,
    send: (c, p, signal) => c.segmentationAverage(p, { signal }),
  }),
  events: describe<EventsParams, SeriesResponse>({ family: 'query', kind: byRange, shared: true, send: (c, p, signal) => c.events(p, { signal }) }),
  eventsTop: describe<{ type: CountType; limit?: number }, TopEventsResponse>({
    family: 'query',
    kind: byRange,
    shared: true,
    send: (c, p, signal) => c.eventsTop(p, { signal }),
  }),
  eventsNames: describe<{ type: CountType; limit?: number }, string[]>({
    family: 'query',
    kind: byRange,
    shared: true,
    send: (c, p, signal) => c.eventsNames(p, { signal }),
  }),
  eventProperties: describe<EventPropertyParams, SeriesResponse>({
    family: 'query',
    kind: byRange,
    shared: true,
    send: (c, p, signal) => c.eventProperties(p, { signal }),
  }),
  eventPropertiesTop: describe<{ event: string; limit?: number }, TopPropertiesResponse>({
    family: 'query',
    kind: byRange,
    shared: true,
    send: (c, p, signal) => c.eventPropertiesTop(p, { signal }),
  }),
  eventPropertyValues: describe<{ event: string; name: string; limit?: number }, string[]>({
    family: 'query',
    kind: byRange,
    shared: true,
    send: (c, p, signal) => c.eventPropertyValues(p, { signal }),
  }),
  insights: describe<{ bookmarkId: number }, InsightsResponse>({
    family: 'query',
    kind: byRange,
    shared: true,
    send: (c, p, signal) => c.insights(p, { signal }),
  }),
  funnels: describe<FunnelParams, FunnelResponse>({ family: 'query', kind: byRange, shared: true, send: (c, p, signal) => c.funnels(p, { signal }) }),
  funnelsList: describe<Record<string, never>, FunnelListEntry[]>({
    family: 'query',
    kind: byRange,
    shared: true,
    send: (c, _p, signal) => c.funnelsList({ signal }),
  }),
  retention: describe<RetentionParams, RetentionResponse>({ family: 'query', kind: byRange, shared: true, send: (c, p, signal) => c.retention(p, { signal }) }),
  retentionAddiction: describe<AddictionParams, AddictionResponse>({
    family: 'query',
    kind: byRange,
    shared: true,
    send: (c, p, signal) => c.retentionAddiction(p, { signal }),
  }),

  // ---------- Raw export ----------
  /** Reads the stream only up to `limit` events: the body is never read further, so memory and transfer stay bounded. */
  exportEvents: describe<ExportParams & { readonly limit: number }, ExportedEvent[]>({
    family: 'export',
    kind: 'events',
    shared: true,
    async send(client, params, signal) {
      const events: ExportedEvent[] = [];
      for await (const event of client.exportEvents(params, { signal })) {
        events.push(event);
        if (events.length >= params.limit) break;
      }
      return events;
    },
  }),

  /** The whole range, streamed to `consume` (src/events): never cached here, the reader keeps what it read. */
  exportStream: describe<ExportStreamParams, unknown>({
    family: 'export',
    kind: 'none',
    shared: false,
    send: (client, { params, consume }, signal) => consume(client.exportEvents(params, { signal }), signal),
  }),

  // ---------- Lexicon ----------
  lexiconList: describe<Record<string, never>, LexiconSchemaEntry[]>({
    family: 'lexicon',
    kind: 'lexicon',
    shared: true,
    send: (client, _params, signal) => client.lexiconList(undefined, { signal }),
  }),

  /** An upload sets the schemas it names: sent twice, it leaves the same state. */
  lexiconUpload: describe<{ readonly entries: readonly LexiconSchemaEntry[] }, { added: number; deleted: number }>({
    family: 'lexicon',
    kind: 'none',
    shared: false,
    send: (client, params, signal) => client.lexiconUpload(params.entries, false, { signal }),
  }),
  lexiconDelete: describe<{ readonly entityType: LexiconEntityType; readonly name: string }, { delete_count: number }>({
    family: 'lexicon',
    kind: 'none',
    shared: false,
    send: (client, params, signal) => client.lexiconDelete(params, { signal }),
  }),

  // ---------- App API: annotations ----------
  annotationsList: describe<{ readonly fromDate?: string; readonly toDate?: string }, Annotation[]>({
    family: 'app',
    kind: 'annotations',
    shared: true,
    send: (client, params, signal) => client.annotationsList(params, { signal }),
  }),
  annotationGet: describe<{ readonly id: number }, Annotation>({
    family: 'app',
    kind: 'annotations',
    shared: true,
    send: (client, params, signal) => client.annotationGet(params.id, { signal }),
  }),
  annotationCreate: describe<{ readonly date: string; readonly description: string; readonly tags?: readonly number[] }, Annotation>({
    family: 'app',
    kind: 'none',
    shared: false,
    maxRetries: 0,
    send: (client, params, signal) => client.annotationCreate(params, { signal }),
  }),
  annotationUpdate: describe<{ readonly id: number; readonly patch: { readonly description?: string; readonly tags?: readonly number[] } }, Annotation>({
    family: 'app',
    kind: 'none',
    shared: false,
    maxRetries: 0,
    send: (client, params, signal) => client.annotationUpdate(params.id, params.patch, { signal }),
  }),
  annotationDelete: describe<{ readonly id: number }, { id: number }>({
    family: 'app',
    kind: 'none',
    shared: false,
    maxRetries: 0,
    send: (client, params, signal) => client.annotationDelete(params.id, { signal }),
  }),
  annotationTags: describe<Record<string, never>, AnnotationTag[]>({
    family: 'app',
    kind: 'annotations',
    shared: true,
    send: (client, _params, signal) => client.annotationTags({ signal }),
  }),
  annotationTagCreate: describe<{ readonly name: string }, AnnotationTag>({
    family: 'app',
    kind: 'none',
    shared: false,
    maxRetries: 0,
    send: (client, params, signal) => client.annotationTagCreate(params.name, { signal }),
  }),

  // ---------- Ingestion (src/writes merges the writes of every client) ----------
  /** Every event carries a `$insert_id`, so Mixpanel de-duplicates a retry. */
  importEvents: describe<{ readonly events: readonly IngestEvent[] }, ImportResult>({
    family: 'ingestion',
    kind: 'none',
    shared: false,
    send: (client, params, signal) => client.importEvents(params.events, { signal }),
  }),
  /** Retried only where the caller says the batch's operations are idempotent (`maxRetries` per call). */
  engageUpdate: describe<{ readonly updates: readonly ProfileUpdate[] }, void>({
    family: 'ingestion',
    kind: 'none',
    shared: false,
    maxRetries: 0,
    send: (client, params, signal) => client.engageUpdate(params.updates, { signal }),
  }),
  groupsUpdate: describe<{ readonly updates: readonly GroupUpdate[] }, void>({
    family: 'ingestion',
    kind: 'none',
    shared: false,
    maxRetries: 0,
    send: (client, params, signal) => client.groupsUpdate(params.updates, { signal }),
  }),
} as const;

export type Endpoints = typeof ENDPOINTS;
export type EndpointName = keyof Endpoints;
export type ParamsOf<E extends EndpointName> = Endpoints[E] extends EndpointDescription<infer P, unknown> ? P : never;
export type ResultOf<E extends EndpointName> = Endpoints[E] extends EndpointDescription<never, infer R> ? R : never;

/** The family an endpoint's calls count against. */
export const familyOf = (endpoint: EndpointName): ApiFamily => ENDPOINTS[endpoint].family;

/** Bytes one id adds to a merged call's id list, JSON-encoded (quotes and separator included). */
export const idBytes = (id: string): number => Buffer.byteLength(JSON.stringify(id)) + 1;
