/**
 * The typed Mixpanel client: one function per endpoint (https://developer.mixpanel.com/reference), over
 * http.ts, one file per API family (*-api.ts). It knows HTTP and Mixpanel, nothing of GraphQL, and never retries.
 */
import type { Dispatcher } from 'undici';
import type { Secret } from '../core/secret.js';
import { basicAuthorization, createRedactor, type ServiceAccount } from './auth.js';
import { createHttp } from './http.js';
import type { BaseUrls, MixpanelClient } from './types.js';
import { createAnnotationsApi } from './annotations-api.js';
import { createClientCalls } from './client-calls.js';
import { createExportApi } from './export-api.js';
import { createIngestionApi } from './ingestion-api.js';
import { createLexiconApi } from './lexicon-api.js';
import { createPeopleApi } from './people-api.js';
import { createReportsApi } from './reports-api.js';

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
  const calls = createClientCalls({
    http,
    projectId: options.projectId,
    workspaceId: options.workspaceId,
    projectToken: options.projectToken,
    integrationId: options.integrationId,
    authorization: basicAuthorization(options.serviceAccount),
    timeoutMs,
    redact,
  });
  return {
    projectId: options.projectId,
    ...createPeopleApi(calls),
    ...createExportApi(calls),
    ...createReportsApi(calls),
    ...createLexiconApi(calls),
    ...createAnnotationsApi(calls),
    ...createIngestionApi(calls),
    close() {
      return http.close();
    },
  };
}
