/**
 * The Query API's reports: segmentation, event and property counts, saved Insights, funnels,
 * retention. https://developer.mixpanel.com/reference/segmentation-query
 */
import type { QueryParams } from './http.js';
import type {
  AddictionResponse,
  FunnelListEntry,
  FunnelResponse,
  InsightsResponse,
  MixpanelClient,
  RetentionResponse,
  ScalarSeriesResponse,
  SegmentationParams,
  SeriesResponse,
  TopEventsResponse,
  TopPropertiesResponse,
} from './types.js';
import { hasResultsRecord, isArray, isRecord, isSeries, isStringArray, type ClientCalls } from './client-calls.js';

export type ReportsApi = Pick<
  MixpanelClient,
  | 'segmentation'
  | 'segmentationNumeric'
  | 'segmentationSum'
  | 'segmentationAverage'
  | 'events'
  | 'eventsTop'
  | 'eventsNames'
  | 'eventProperties'
  | 'eventPropertiesTop'
  | 'eventPropertyValues'
  | 'insights'
  | 'funnels'
  | 'funnelsList'
  | 'retention'
  | 'retentionAddiction'
>;

export function createReportsApi(calls: ClientCalls): ReportsApi {
  const { query } = calls;
  return {
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
      return query<TopEventsResponse>('events/top', { type: params.type, limit: params.limit }, (b) => isRecord(b) && Array.isArray(b.events), requestOptions);
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
      return query<string[]>('events/properties/values', { event: params.event, name: params.name, limit: params.limit }, isArray, requestOptions);
    },
    insights(params, requestOptions) {
      return query<InsightsResponse>('insights', { bookmark_id: params.bookmarkId }, (b) => isRecord(b) && isRecord(b.series), requestOptions);
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
