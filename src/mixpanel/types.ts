/**
 * Shapes of Mixpanel's REST requests and responses, as documented in the
 * official OpenAPI specs (https://developer.mixpanel.com/reference).
 * The client knows HTTP and Mixpanel; it knows nothing of GraphQL.
 */

export type Region = 'US' | 'EU' | 'IN';

/** The hosts Mixpanel serves, one base URL each (region-specific). */
export type HostFamily = 'query' | 'export' | 'ingestion' | 'app';

/**
 * Rate-limit families: Mixpanel counts each separately, per project.
 * query: engage, cohorts, segmentation, events, insights, funnels, retention, stream
 * export: raw export; lexicon: schemas API; app: annotations (limits undocumented);
 * ingestion: track/import/engage/groups.
 */
export type ApiFamily = 'query' | 'export' | 'lexicon' | 'app' | 'ingestion';

export type BaseUrls = Readonly<Record<HostFamily, string>>;

/** Per-call options every client function accepts. */
export interface RequestOptions {
  /** Aborts the HTTP request (the GraphQL client went away, or the deadline passed). */
  readonly signal?: AbortSignal | undefined;
  /** Overrides the client's default timeout for this call, in ms. */
  readonly timeoutMs?: number | undefined;
}

export type DateString = string; // yyyy-mm-dd, inclusive, project timezone (UTC here)

// ---------- Query API: engage ----------
export interface EngageParams {
  readonly distinctId?: string;
  readonly distinctIds?: readonly string[];
  readonly where?: string;
  readonly outputProperties?: readonly string[];
  readonly filterByCohort?: number | string;
  readonly includeAllUsers?: boolean;
  readonly dataGroupId?: string;
  readonly sessionId?: string;
  readonly page?: number;
  readonly pageSize?: number;
  readonly asOfTimestamp?: number;
}
export interface EngageProfile {
  readonly $distinct_id: string;
  readonly $properties: Readonly<Record<string, unknown>>;
}
export interface EngagePage {
  readonly page: number;
  readonly page_size: number;
  readonly session_id: string;
  readonly status: string;
  /** Present on page 0 only, as Mixpanel does. */
  readonly total?: number;
  readonly results: readonly EngageProfile[];
}

// ---------- Query API: cohorts ----------
export interface CohortRecord {
  readonly id: number;
  readonly name: string;
  readonly description: string;
  readonly count: number;
  readonly is_visible: number;
  readonly created: string; // "2019-03-19 23:49:51"
  readonly project_id: number;
}

// ---------- Query API: activity stream ----------
export interface StreamEvent {
  readonly event: string;
  readonly properties: Readonly<Record<string, unknown>>;
}

// ---------- Raw export ----------
export interface ExportParams {
  readonly fromDate: DateString;
  readonly toDate: DateString;
  readonly events?: readonly string[];
  readonly where?: string;
  readonly limit?: number;
  readonly timeInMs?: boolean;
}
export interface ExportedEvent {
  readonly event: string;
  readonly properties: Readonly<Record<string, unknown>> & {
    readonly time: number;
    readonly distinct_id?: string;
    readonly $insert_id?: string;
  };
}

// ---------- Query API: analytics ----------
export type SegmentationUnit = 'minute' | 'hour' | 'day' | 'week' | 'month';
export type CountType = 'general' | 'unique' | 'average';
export interface SegmentationParams {
  readonly event: string;
  readonly fromDate: DateString;
  readonly toDate: DateString;
  readonly on?: string;
  readonly unit?: SegmentationUnit;
  readonly interval?: number;
  readonly where?: string;
  readonly limit?: number;
  readonly type?: CountType;
}
/** /segmentation, /segmentation/numeric, /events, /events/properties share this shape. */
export interface SeriesResponse {
  readonly data: {
    readonly series: readonly string[];
    readonly values: Readonly<Record<string, Readonly<Record<string, number>>>>;
  };
  readonly legend_size: number;
}
/** /segmentation/sum and /segmentation/average. */
export interface ScalarSeriesResponse {
  readonly status: string;
  readonly computed_at?: string;
  readonly results: Readonly<Record<string, number>>;
}
export interface EventsParams {
  readonly events: readonly string[];
  readonly type: CountType;
  readonly unit: SegmentationUnit;
  readonly fromDate?: DateString;
  readonly toDate?: DateString;
  readonly interval?: number;
}
export interface TopEventsResponse {
  readonly events: readonly { readonly amount: number; readonly event: string; readonly percent_change: number }[];
  readonly type: string;
}
export interface EventPropertyParams {
  readonly event: string;
  readonly name: string;
  readonly type: CountType;
  readonly unit: SegmentationUnit;
  readonly fromDate: DateString;
  readonly toDate: DateString;
  readonly values?: readonly string[];
  readonly limit?: number;
}
export type TopPropertiesResponse = Readonly<Record<string, { readonly count: number }>>;
export interface InsightsResponse {
  readonly computed_at: string;
  readonly date_range: { readonly from_date: string; readonly to_date: string };
  readonly headers: readonly string[];
  readonly series: Readonly<Record<string, unknown>>;
}
export interface FunnelParams {
  readonly funnelId: number;
  readonly fromDate: DateString;
  readonly toDate: DateString;
  readonly length?: number;
  readonly lengthUnit?: 'day' | 'hour' | 'minute' | 'second';
  readonly interval?: number;
  readonly unit?: 'day' | 'week' | 'month';
  readonly on?: string;
  readonly where?: string;
  readonly limit?: number;
}
export interface FunnelStep {
  readonly count: number;
  readonly avg_time: number | null;
  readonly avg_time_from_start: number | null;
  readonly step_conv_ratio: number;
  readonly overall_conv_ratio: number;
  readonly goal: string;
  readonly event: string;
}
export interface FunnelResponse {
  readonly meta: { readonly dates: readonly string[] };
  readonly data: Readonly<
    Record<
      string,
      {
        readonly steps: readonly FunnelStep[];
        readonly analysis: {
          readonly completion: number;
          readonly starting_amount: number;
          readonly steps: number;
          readonly worst: number;
        };
      }
    >
  >;
}
export interface FunnelListEntry {
  readonly funnel_id: number;
  readonly name: string;
}
export interface RetentionParams {
  readonly fromDate: DateString;
  readonly toDate: DateString;
  readonly retentionType?: 'birth' | 'compounded';
  readonly bornEvent?: string;
  readonly event?: string;
  readonly bornWhere?: string;
  readonly where?: string;
  readonly interval?: number;
  readonly intervalCount?: number;
  readonly unit?: 'day' | 'week' | 'month';
  readonly unboundedRetention?: boolean;
  readonly on?: string;
  readonly limit?: number;
}
export type RetentionResponse = Readonly<Record<string, { readonly counts: readonly number[]; readonly first: number }>>;
export interface AddictionParams {
  readonly fromDate: DateString;
  readonly toDate: DateString;
  readonly unit: 'day' | 'week' | 'month';
  readonly addictionUnit: 'hour' | 'day';
  readonly event?: string;
  readonly where?: string;
  readonly on?: string;
  readonly limit?: number;
}
export interface AddictionResponse {
  readonly data: Readonly<Record<string, readonly number[]>>;
}

// ---------- Lexicon schemas ----------
export type LexiconEntityType = 'event' | 'profile';
export type JsonSchemaType = 'array' | 'boolean' | 'integer' | 'null' | 'number' | 'object' | 'string';
export interface MixpanelMetadata {
  readonly $source?: string;
  readonly displayName?: string;
  readonly tags?: readonly string[];
  readonly hidden?: boolean;
  readonly dropped?: boolean;
  readonly contacts?: readonly string[];
  readonly teamContacts?: readonly string[];
}
export interface LexiconPropertySchema {
  readonly type?: JsonSchemaType | readonly JsonSchemaType[];
  readonly description?: string;
  readonly metadata?: { readonly 'com.mixpanel'?: MixpanelMetadata };
}
export interface LexiconSchema {
  readonly $schema?: string;
  readonly description?: string;
  readonly properties?: Readonly<Record<string, LexiconPropertySchema>>;
  readonly required?: readonly string[];
  readonly additionalProperties?: boolean;
  readonly metadata?: { readonly 'com.mixpanel'?: MixpanelMetadata };
}
export interface LexiconSchemaEntry {
  readonly entityType: LexiconEntityType;
  readonly name: string;
  readonly schemaJson: LexiconSchema;
}

// ---------- Annotations ----------
export interface Annotation {
  readonly id: number;
  readonly date: string; // "2022-02-15 12:00:00"
  readonly description: string;
  readonly user: { readonly id: number; readonly first_name: string; readonly last_name: string };
  readonly tags: readonly { readonly id: number; readonly name: string }[];
}
export interface AnnotationTag {
  readonly id: number;
  readonly name: string;
  readonly project_id: number;
  readonly has_annotations: boolean;
}

// ---------- Ingestion ----------
export interface IngestEvent {
  readonly event: string;
  readonly properties: Readonly<Record<string, unknown>>;
}
export interface ImportResult {
  readonly code: number;
  readonly num_records_imported: number;
  readonly status: string;
  readonly failed_records?: readonly {
    readonly index: number;
    readonly $insert_id?: string;
    readonly field: string;
    readonly message: string;
  }[];
}
export type ProfileOperation = '$set' | '$set_once' | '$add' | '$union' | '$append' | '$remove' | '$unset' | '$delete';
export type ProfileUpdate = { readonly $distinct_id: string; readonly $ignore_alias?: boolean } & Partial<Record<ProfileOperation, unknown>>;
export type GroupUpdate = { readonly $group_key: string; readonly $group_id: string } & Partial<
  Record<'$set' | '$set_once' | '$unset' | '$remove' | '$union' | '$delete', unknown>
>;

/**
 * One typed function per endpoint. Every function rejects with a MixpanelError
 * subclass (src/mixpanel/errors.ts). No function retries: retries belong to
 * src/limits, which knows the budget.
 */
export interface MixpanelClient {
  readonly projectId: string;
  engage(params: EngageParams, options?: RequestOptions): Promise<EngagePage>;
  cohortsList(options?: RequestOptions): Promise<CohortRecord[]>;
  streamQuery(params: { distinctIds: readonly string[]; fromDate: DateString; toDate: DateString }, options?: RequestOptions): Promise<StreamEvent[]>;
  /** Streams the JSONL body: memory stays flat however many events come back. */
  exportEvents(params: ExportParams, options?: RequestOptions): AsyncIterable<ExportedEvent>;
  segmentation(params: SegmentationParams, options?: RequestOptions): Promise<SeriesResponse>;
  segmentationNumeric(params: SegmentationParams & { on: string }, options?: RequestOptions): Promise<SeriesResponse>;
  segmentationSum(params: SegmentationParams & { on: string }, options?: RequestOptions): Promise<ScalarSeriesResponse>;
  segmentationAverage(params: SegmentationParams & { on: string }, options?: RequestOptions): Promise<ScalarSeriesResponse>;
  events(params: EventsParams, options?: RequestOptions): Promise<SeriesResponse>;
  eventsTop(params: { type: CountType; limit?: number }, options?: RequestOptions): Promise<TopEventsResponse>;
  eventsNames(params: { type: CountType; limit?: number }, options?: RequestOptions): Promise<string[]>;
  eventProperties(params: EventPropertyParams, options?: RequestOptions): Promise<SeriesResponse>;
  eventPropertiesTop(params: { event: string; limit?: number }, options?: RequestOptions): Promise<TopPropertiesResponse>;
  eventPropertyValues(params: { event: string; name: string; limit?: number }, options?: RequestOptions): Promise<string[]>;
  insights(params: { bookmarkId: number }, options?: RequestOptions): Promise<InsightsResponse>;
  funnels(params: FunnelParams, options?: RequestOptions): Promise<FunnelResponse>;
  funnelsList(options?: RequestOptions): Promise<FunnelListEntry[]>;
  retention(params: RetentionParams, options?: RequestOptions): Promise<RetentionResponse>;
  retentionAddiction(params: AddictionParams, options?: RequestOptions): Promise<AddictionResponse>;

  lexiconList(entityType?: LexiconEntityType, options?: RequestOptions): Promise<LexiconSchemaEntry[]>;
  lexiconGet(entityType: LexiconEntityType, name: string, options?: RequestOptions): Promise<LexiconSchema>;
  lexiconUpload(entries: readonly LexiconSchemaEntry[], truncate?: boolean, options?: RequestOptions): Promise<{ added: number; deleted: number }>;
  lexiconDelete(target: { entityType: LexiconEntityType; name: string }, options?: RequestOptions): Promise<{ delete_count: number }>;

  annotationsList(params: { fromDate?: DateString; toDate?: DateString }, options?: RequestOptions): Promise<Annotation[]>;
  annotationCreate(params: { date: string; description: string; tags?: readonly number[] }, options?: RequestOptions): Promise<Annotation>;
  annotationGet(id: number, options?: RequestOptions): Promise<Annotation>;
  annotationUpdate(id: number, patch: { description?: string; tags?: readonly number[] }, options?: RequestOptions): Promise<Annotation>;
  annotationDelete(id: number, options?: RequestOptions): Promise<{ id: number }>;
  annotationTags(options?: RequestOptions): Promise<AnnotationTag[]>;
  annotationTagCreate(name: string, options?: RequestOptions): Promise<AnnotationTag>;

  /** /track: returns whether Mixpanel accepted the batch (verbose=1). `$source` is added to every event. */
  track(events: readonly IngestEvent[], options?: RequestOptions): Promise<void>;
  /** /import?strict=1: partial success is returned, not thrown (failed_records). */
  importEvents(events: readonly IngestEvent[], options?: RequestOptions & { strict?: boolean }): Promise<ImportResult>;
  engageUpdate(updates: readonly ProfileUpdate[], options?: RequestOptions): Promise<void>;
  groupsUpdate(updates: readonly GroupUpdate[], options?: RequestOptions): Promise<void>;

  /** Closes the connection pools. */
  close(): Promise<void>;
}
