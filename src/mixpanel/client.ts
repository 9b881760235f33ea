/**
 * The typed Mixpanel client: one function per endpoint (https://developer.mixpanel.com/reference), over
 * http.ts. It knows HTTP and Mixpanel, nothing of GraphQL, and never retries.
 * Answers are checked just enough that upstream garbage becomes a clear
 * UpstreamError here rather than a crash deep in a resolver.
 */
import type { Dispatcher } from 'undici';
import type { Secret } from '../secret.js';
import { basicAuthorization, createRedactor, type ServiceAccount } from './auth.js';
import { BadRequestError, UnauthorizedError, UpstreamError } from './errors.js';
import { parseExportStream } from './export-stream.js';
import { createHttp, transportError, type HttpRequest, type QueryParams } from './http.js';
import type {
  AddictionResponse,
  Annotation,
  AnnotationTag,
  ApiFamily,
  BaseUrls,
  CohortRecord,
  ExportedEvent,
  ExportParams,
  FunnelListEntry,
  FunnelResponse,
  ImportResult,
  IngestEvent,
  InsightsResponse,
  LexiconEntityType,
  LexiconSchema,
  LexiconSchemaEntry,
  MixpanelClient,
  RequestOptions,
  RetentionResponse,
  ScalarSeriesResponse,
  SegmentationParams,
  SeriesResponse,
  StreamEvent,
  TopEventsResponse,
  TopPropertiesResponse,
  EngagePage,
} from './types.js';

export interface MixpanelClientOptions {
  /** Mixpanel project id: the `project_id` query param, or the App APIs' path segment. */
  readonly projectId: string;
  /** Sent as `workspace_id` on Query calls when set (projects with Data Views). Default: none. */
  readonly workspaceId?: string | undefined;
  /** Service account for Query, Export, App and /import calls (HTTP Basic). */
  readonly serviceAccount: ServiceAccount;
  /**
   * Project token for /track, /engage and /groups (sent in the body).
   * Default: none; those calls then reject with UnauthorizedError before sending.
   */
  readonly projectToken?: Secret | undefined;
  /** Base URL per host family (see hosts.ts `resolveBaseUrls`). */
  readonly baseUrls: BaseUrls;
  /**
   * Sent as `X-Mixpanel-Integration-ID` on every call and as `$source` on every
   * event sent (https://docs.mixpanel.com/docs/cohort-sync/build-an-integration).
   */
  readonly integrationId: string;
  /**
   * Per-call timeout in ms. JSON calls must complete within it; an export must
   * send its first byte within it, and never stall longer between chunks.
   * Default 60000: Mixpanel's export can be slow to start.
   */
  readonly timeoutMs?: number | undefined;
  /**
   * An undici dispatcher to share between clients; `close()` leaves it open.
   * Default: an own Agent (one keep-alive Pool per origin), closed by `close()`.
   */
  readonly dispatcher?: Dispatcher | undefined;
  /** `User-Agent` header. Default "mixpanel-graphql-gateway". */
  readonly userAgent?: string | undefined;
}

export const DEFAULT_TIMEOUT_MS = 60_000;
export const DEFAULT_USER_AGENT = 'mixpanel-graphql-gateway';

type Guard = (body: unknown) => boolean;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const isArray: Guard = Array.isArray;
const hasResultsArray: Guard = (body) => isRecord(body) && Array.isArray(body.results);
const hasResultsRecord: Guard = (body) => isRecord(body) && isRecord(body.results);
const isSeries: Guard = (body) =>
  isRecord(body) && isRecord(body.data) && Array.isArray(body.data.series) && isRecord(body.data.values);
const isStringArray: Guard = (body) => Array.isArray(body) && body.every((item) => typeof item === 'string');

function expectShape<T>(body: unknown, guard: Guard, family: ApiFamily, what: string, status: number): T {
  if (!guard(body)) throw new UpstreamError(`Mixpanel ${family} API returned an unexpected body for ${what}`, family, status);
  return body as T;
}

/** Lexicon's get-one and annotation tag creation are documented bare; accept Mixpanel's usual `{results, status}` wrapper too. */
function unwrapResults(body: unknown): unknown {
  return isRecord(body) && 'results' in body && 'status' in body ? body.results : body;
}

export function createMixpanelClient(options: MixpanelClientOptions): MixpanelClient {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const redact = createRedactor(options.serviceAccount, [options.projectToken]);
  const http = createHttp({
    baseUrls: options.baseUrls,
    integrationId: options.integrationId,
    userAgent: options.userAgent ?? DEFAULT_USER_AGENT,
    timeoutMs,
    dispatcher: options.dispatcher,
    redact,
  });
  const authorization = basicAuthorization(options.serviceAccount);
  const projectId = options.projectId;
  const appPath = `/api/app/projects/${encodeURIComponent(projectId)}`;

  async function call<T>(request: HttpRequest, guard: Guard, what: string, transform: (body: unknown) => unknown = (b) => b): Promise<T> {
    const { status, body } = await http.json(request);
    return expectShape<T>(transform(body), guard, request.family, what, status);
  }

  /** Query API: GET `/api/query/<endpoint>` with `project_id` (and `workspace_id`) in the query string. */
  function query<T>(endpoint: string, params: QueryParams, guard: Guard, requestOptions: RequestOptions | undefined): Promise<T> {
    return call<T>(
      {
        family: 'query',
        host: 'query',
        method: 'GET',
        path: `/api/query/${endpoint}`,
        query: { ...params, project_id: projectId, workspace_id: options.workspaceId },
        authorization,
        ...requestOptions,
      },
      guard,
      endpoint,
    );
  }

  /** Query API endpoints the spec defines as POST: form body, ids in the query string. */
  function queryPost<T>(endpoint: string, form: QueryParams, guard: Guard, requestOptions: RequestOptions | undefined): Promise<T> {
    return call<T>(
      {
        family: 'query',
        host: 'query',
        method: 'POST',
        path: `/api/query/${endpoint}`,
        query: { project_id: projectId, workspace_id: options.workspaceId },
        form,
        authorization,
        ...requestOptions,
      },
      guard,
      endpoint,
    );
  }

  function app<T>(
    family: 'lexicon' | 'app',
    method: HttpRequest['method'],
    path: string,
    guard: Guard,
    requestOptions: RequestOptions | undefined,
    extra: Pick<HttpRequest, 'query' | 'json'> = {},
    transform?: (body: unknown) => unknown,
  ): Promise<T> {
    return call<T>(
      { family, host: 'app', method, path: `${appPath}${path}`, authorization, ...extra, ...requestOptions },
      guard,
      `${method} ${path}`,
      transform,
    );
  }

  const withSource = (event: IngestEvent, extra: Record<string, unknown> = {}): IngestEvent => ({
    event: event.event,
    properties: { ...event.properties, ...extra, $source: options.integrationId },
  });

  function requireToken(what: string): string {
    if (options.projectToken === undefined || options.projectToken.isEmpty) {
      throw new UnauthorizedError(`${what} needs the project token, and none is configured for this project`, 'ingestion');
    }
    return options.projectToken.reveal();
  }

  /**
   * /track, /engage and /groups answer `1`/`0`, or `{"status":1|0,"error"}`
   * with verbose=1 (https://developer.mixpanel.com/reference/track-event).
   */
  async function ingest(path: string, json: unknown, requestOptions: RequestOptions | undefined): Promise<void> {
    const { status, body } = await http.json({
      family: 'ingestion',
      host: 'ingestion',
      method: 'POST',
      // ip=0: do not geolocate the gateway's own address onto the data.
      query: { verbose: 1, ip: 0 },
      path,
      json,
      ...requestOptions,
    });
    const accepted = isRecord(body) ? body.status : body;
    if (accepted === 1 || accepted === '1') return;
    if (accepted === 0 || accepted === '0') {
      // The body carried the project token: Mixpanel's reason may echo it.
      const reason = isRecord(body) && typeof body.error === 'string' ? `: ${redact(body.error)}` : '';
      throw new BadRequestError(`Mixpanel rejected the ${path} batch${reason}`, 'ingestion', status);
    }
    throw new UpstreamError(`Mixpanel ingestion API returned an unexpected body for ${path}`, 'ingestion', status);
  }

  async function* exportGenerator(params: ExportParams, requestOptions: RequestOptions | undefined): AsyncGenerator<ExportedEvent> {
    const label = 'GET /api/2.0/export';
    const body = await http.stream({
      family: 'export',
      host: 'export',
      method: 'GET',
      path: '/api/2.0/export',
      query: {
        project_id: projectId,
        from_date: params.fromDate,
        to_date: params.toDate,
        event: params.events,
        where: params.where,
        limit: params.limit,
        time_in_ms: params.timeInMs,
      },
      authorization,
      ...requestOptions,
    });
    yield* parseExportStream(body, {
      mapError(error, eventsSoFar) {
        if (requestOptions?.signal?.aborted) return requestOptions.signal.reason;
        const mapped = transportError(error, 'export', label, requestOptions?.timeoutMs ?? timeoutMs);
        if (!(mapped instanceof UpstreamError)) return mapped;
        return new UpstreamError(`Mixpanel export was cut short after ${eventsSoFar} events: ${mapped.message}`, 'export', undefined, {
          cause: error,
        });
      },
    });
  }

  return {
    projectId,

    engage(params, requestOptions) {
      return queryPost<EngagePage>(
        'engage',
        {
          distinct_id: params.distinctId,
          distinct_ids: params.distinctIds,
          where: params.where,
          output_properties: params.outputProperties,
          filter_by_cohort: params.filterByCohort === undefined ? undefined : cohortFilter(params.filterByCohort),
          include_all_users: params.includeAllUsers,
          data_group_id: params.dataGroupId,
          session_id: params.sessionId,
          page: params.page,
          page_size: params.pageSize,
          as_of_timestamp: params.asOfTimestamp,
        },
        (body) => hasResultsArray(body) && typeof (body as { page?: unknown }).page === 'number',
        requestOptions,
      );
    },

    cohortsList(requestOptions) {
      return queryPost<CohortRecord[]>('cohorts/list', {}, isArray, requestOptions);
    },

    async streamQuery(params, requestOptions) {
      const body = await query<{ results: { events: StreamEvent[] } }>(
        'stream/query',
        { distinct_ids: params.distinctIds, from_date: params.fromDate, to_date: params.toDate },
        (b) => hasResultsRecord(b) && Array.isArray((b as { results: { events?: unknown } }).results.events),
        requestOptions,
      );
      return body.results.events;
    },

    exportEvents(params, requestOptions) {
      return { [Symbol.asyncIterator]: () => exportGenerator(params, requestOptions) };
    },

    segmentation(params, requestOptions) {
      return query<SeriesResponse>('segmentation', segmentationParams(params), isSeries, requestOptions);
    },
    segmentationNumeric(params, requestOptions) {
      return query<SeriesResponse>('segmentation/numeric', segmentationParams(params), isSeries, requestOptions);
    },
    segmentationSum(params, requestOptions) {
      return query<ScalarSeriesResponse>('segmentation/sum', segmentationParams(params), hasResultsRecord, requestOptions);
    },
    segmentationAverage(params, requestOptions) {
      return query<ScalarSeriesResponse>('segmentation/average', segmentationParams(params), hasResultsRecord, requestOptions);
    },

    events(params, requestOptions) {
      return query<SeriesResponse>(
        'events',
        {
          event: params.events,
          type: params.type,
          unit: params.unit,
          from_date: params.fromDate,
          to_date: params.toDate,
          interval: params.interval,
        },
        isSeries,
        requestOptions,
      );
    },
    eventsTop(params, requestOptions) {
      return query<TopEventsResponse>(
        'events/top',
        { type: params.type, limit: params.limit },
        (b) => isRecord(b) && Array.isArray(b.events),
        requestOptions,
      );
    },
    eventsNames(params, requestOptions) {
      return query<string[]>('events/names', { type: params.type, limit: params.limit }, isStringArray, requestOptions);
    },
    eventProperties(params, requestOptions) {
      return query<SeriesResponse>(
        'events/properties',
        {
          event: params.event,
          name: params.name,
          type: params.type,
          unit: params.unit,
          from_date: params.fromDate,
          to_date: params.toDate,
          values: params.values,
          limit: params.limit,
        },
        isSeries,
        requestOptions,
      );
    },
    eventPropertiesTop(params, requestOptions) {
      return query<TopPropertiesResponse>('events/properties/top', { event: params.event, limit: params.limit }, isRecord, requestOptions);
    },
    eventPropertyValues(params, requestOptions) {
      return query<string[]>(
        'events/properties/values',
        { event: params.event, name: params.name, limit: params.limit },
        isArray,
        requestOptions,
      );
    },
    insights(params, requestOptions) {
      return query<InsightsResponse>(
        'insights',
        { bookmark_id: params.bookmarkId },
        (b) => isRecord(b) && isRecord(b.series),
        requestOptions,
      );
    },
    funnels(params, requestOptions) {
      return query<FunnelResponse>(
        'funnels',
        {
          funnel_id: params.funnelId,
          from_date: params.fromDate,
          to_date: params.toDate,
          length: params.length,
          length_unit: params.lengthUnit,
          interval: params.interval,
          unit: params.unit,
          on: params.on,
          where: params.where,
          limit: params.limit,
        },
        (b) => isRecord(b) && isRecord(b.data) && isRecord(b.meta),
        requestOptions,
      );
    },
    funnelsList(requestOptions) {
      return query<FunnelListEntry[]>('funnels/list', {}, isArray, requestOptions);
    },
    retention(params, requestOptions) {
      return query<RetentionResponse>(
        'retention',
        {
          from_date: params.fromDate,
          to_date: params.toDate,
          retention_type: params.retentionType,
          born_event: params.bornEvent,
          event: params.event,
          born_where: params.bornWhere,
          where: params.where,
          interval: params.interval,
          interval_count: params.intervalCount,
          unit: params.unit,
          unbounded_retention: params.unboundedRetention,
          on: params.on,
          limit: params.limit,
        },
        isRecord,
        requestOptions,
      );
    },
    retentionAddiction(params, requestOptions) {
      return query<AddictionResponse>(
        'retention/addiction',
        {
          from_date: params.fromDate,
          to_date: params.toDate,
          unit: params.unit,
          addiction_unit: params.addictionUnit,
          event: params.event,
          where: params.where,
          on: params.on,
          limit: params.limit,
        },
        (b) => isRecord(b) && isRecord(b.data),
        requestOptions,
      );
    },

    async lexiconList(entityType, requestOptions) {
      const path = entityType === undefined ? '/schemas' : `/schemas/${entityType}`;
      const body = await app<{ results: LexiconSchemaEntry[] }>('lexicon', 'GET', path, hasResultsArray, requestOptions);
      return body.results;
    },
    lexiconGet(entityType, name, requestOptions) {
      return app<LexiconSchema>('lexicon', 'GET', schemaPath(entityType, name), isRecord, requestOptions, {}, unwrapResults);
    },
    async lexiconUpload(entries, truncate = false, requestOptions) {
      const body = await app<{ results: { added: number; deleted: number } }>(
        'lexicon',
        'POST',
        '/schemas',
        hasResultsRecord,
        requestOptions,
        { json: { entries, truncate } },
      );
      return { added: Number(body.results.added ?? 0), deleted: Number(body.results.deleted ?? 0) };
    },
    async lexiconUploadOne(entityType, name, schema, requestOptions) {
      await app('lexicon', 'POST', schemaPath(entityType, name), isRecord, requestOptions, { json: schema });
    },
    async lexiconDelete(target, requestOptions) {
      const path =
        target === undefined ? '/schemas' : target.name === undefined ? `/schemas/${target.entityType}` : schemaPath(target.entityType, target.name);
      const body = await app<{ results: { delete_count: number } }>(
        'lexicon',
        'DELETE',
        path,
        (b) => hasResultsRecord(b) && typeof (b as { results: { delete_count?: unknown } }).results.delete_count === 'number',
        requestOptions,
      );
      return body.results;
    },

    async annotationsList(params, requestOptions) {
      // camelCase params, unlike the Query API (annotations spec).
      const body = await app<{ results: Annotation[] }>('app', 'GET', '/annotations', hasResultsArray, requestOptions, {
        query: { fromDate: params.fromDate, toDate: params.toDate },
      });
      return body.results;
    },
    async annotationCreate(params, requestOptions) {
      const body = await app<{ results: Annotation }>('app', 'POST', '/annotations', hasResultsRecord, requestOptions, {
        json: { date: params.date, description: params.description, tags: params.tags ?? [] },
      });
      return body.results;
    },
    async annotationGet(id, requestOptions) {
      const body = await app<{ results: Annotation }>('app', 'GET', `/annotations/${id}`, hasResultsRecord, requestOptions);
      return body.results;
    },
    async annotationUpdate(id, patch, requestOptions) {
      const body = await app<{ results: Annotation }>('app', 'PATCH', `/annotations/${id}`, hasResultsRecord, requestOptions, {
        json: patch,
      });
      return body.results;
    },
    async annotationDelete(id, requestOptions) {
      const body = await app<{ results: { id: number } }>('app', 'DELETE', `/annotations/${id}`, hasResultsRecord, requestOptions);
      return body.results;
    },
    annotationTags(requestOptions) {
      return app<AnnotationTag[]>('app', 'GET', '/annotations/tags', isArray, requestOptions, {}, unwrapResults);
    },
    annotationTagCreate(name, requestOptions) {
      return app<AnnotationTag>('app', 'POST', '/annotations/tags', isRecord, requestOptions, { json: { name } }, unwrapResults);
    },

    async track(events, requestOptions) {
      const token = requireToken('/track');
      await ingest('/track', events.map((event) => withSource(event, { token })), requestOptions);
    },

    async importEvents(events, requestOptions) {
      const { strict = true, ...rest } = requestOptions ?? {};
      const { status, body } = await http.json(
        {
          family: 'ingestion',
          host: 'ingestion',
          method: 'POST',
          path: '/import',
          query: { strict: strict ? 1 : 0, project_id: projectId, ip: 0 },
          json: events.map((event) => withSource(event)),
          // docs.mixpanel.com/reference/import-events: "We recommend gzip compression and using Content-Encoding: gzip".
          gzip: true,
          authorization,
          ...rest,
        },
        // Strict mode ingests the valid rows and lists the others: a partial success, not a failure.
        (code, answer) => code === 400 && isRecord(answer) && Array.isArray(answer.failed_records),
      );
      return expectShape<ImportResult>(
        body,
        (b) => isRecord(b) && typeof b.num_records_imported === 'number',
        'ingestion',
        '/import',
        status,
      );
    },

    async engageUpdate(updates, requestOptions) {
      const token = requireToken('/engage');
      await ingest('/engage', updates.map((update) => ({ $token: token, ...update })), requestOptions);
    },

    async groupsUpdate(updates, requestOptions) {
      const token = requireToken('/groups');
      await ingest('/groups', updates.map((update) => ({ $token: token, ...update })), requestOptions);
    },

    close() {
      return http.close();
    },
  };
}

function segmentationParams(params: SegmentationParams): QueryParams {
  return {
    event: params.event,
    from_date: params.fromDate,
    to_date: params.toDate,
    on: params.on,
    unit: params.unit,
    interval: params.interval,
    where: params.where,
    limit: params.limit,
    type: params.type,
  };
}

/** `filter_by_cohort` is a JSON object string, `{"id":12345}` (query spec); numeric ids go as numbers. */
function cohortFilter(id: number | string): string {
  return JSON.stringify({ id: typeof id === 'string' && /^\d+$/.test(id) ? Number(id) : id });
}

function schemaPath(entityType: LexiconEntityType, name: string): string {
  return `/schemas/${entityType}/${encodeURIComponent(name)}`;
}
