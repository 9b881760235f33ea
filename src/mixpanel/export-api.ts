/**
 * The Raw Event Export API: a range's events streamed as JSONL, parsed one line at a time.
 * https://developer.mixpanel.com/reference/raw-event-export
 */
import { UpstreamError } from './errors.js';
import { parseExportStream } from './export-stream.js';
import { transportError } from './http.js';
import type { ExportedEvent, ExportParams, MixpanelClient, RequestOptions } from './types.js';
import type { ClientCalls } from './client-calls.js';

export type ExportApi = Pick<MixpanelClient, 'exportEvents'>;

export function createExportApi(calls: ClientCalls): ExportApi {
  const { http, projectId, authorization, timeoutMs } = calls.context;

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
    exportEvents(params, requestOptions) {
      return { [Symbol.asyncIterator]: () => exportGenerator(params, requestOptions) };
    },
  };
}
