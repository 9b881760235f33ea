/**
 * The Query API's people endpoints: user profiles (engage), the cohort list, and a profile's
 * activity (stream/query). https://developer.mixpanel.com/reference/engage-query
 */
import type { CohortRecord, EngagePage, MixpanelClient, StreamEvent } from './types.js';
import { hasResultsArray, hasResultsRecord, isArray, type ClientCalls } from './client-calls.js';

export type PeopleApi = Pick<MixpanelClient, 'engage' | 'cohortsList' | 'streamQuery'>;

export function createPeopleApi(calls: ClientCalls): PeopleApi {
  const { query, queryPost } = calls;
  return {
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
  };
}

/** `filter_by_cohort` is a JSON object string, `{"id":12345}` (query spec); numeric ids go as numbers. */
function cohortFilter(id: number | string): string {
  return JSON.stringify({ id: typeof id === 'string' && /^\d+$/.test(id) ? Number(id) : id });
}
