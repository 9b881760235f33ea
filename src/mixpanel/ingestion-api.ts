/**
 * The Ingestion API: events (/track with the project token, /import with the service account),
 * user profile and group profile updates (/engage, /groups). Every event carries `$source`.
 * https://developer.mixpanel.com/reference/ingestion-api
 */
import { BadRequestError, UnauthorizedError, UpstreamError } from './errors.js';
import type { ImportResult, IngestEvent, MixpanelClient, RequestOptions } from './types.js';
import { expectShape, isRecord, type ClientCalls } from './client-calls.js';

export type IngestionApi = Pick<MixpanelClient, 'track' | 'importEvents' | 'engageUpdate' | 'groupsUpdate'>;

export function createIngestionApi(calls: ClientCalls): IngestionApi {
  const { http, projectId, projectToken, integrationId, authorization, redact } = calls.context;
  const withSource = (event: IngestEvent, extra: Record<string, unknown> = {}): IngestEvent => ({
    event: event.event,
    properties: { ...event.properties, ...extra, $source: integrationId },
  });

  function requireToken(what: string): string {
    if (projectToken === undefined || projectToken.isEmpty) {
      throw new UnauthorizedError(`${what} needs the project token, and none is configured for this project`, 'ingestion');
    }
    return projectToken.reveal();
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

  return {
    async track(events, requestOptions) {
      const token = requireToken('/track');
      await ingest(
        '/track',
        events.map((event) => withSource(event, { token })),
        requestOptions,
      );
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
      return expectShape<ImportResult>(body, (b) => isRecord(b) && typeof b.num_records_imported === 'number', 'ingestion', '/import', status);
    },

    async engageUpdate(updates, requestOptions) {
      const token = requireToken('/engage');
      await ingest(
        '/engage',
        updates.map((update) => ({ $token: token, ...update })),
        requestOptions,
      );
    },

    async groupsUpdate(updates, requestOptions) {
      const token = requireToken('/groups');
      await ingest(
        '/groups',
        updates.map((update) => ({ $token: token, ...update })),
        requestOptions,
      );
    },
  };
}
