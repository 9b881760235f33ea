/**
 * /engage: user profiles, paged through a session (https://developer.mixpanel.com/reference/engage-query).
 */
import { randomBytes } from 'node:crypto';
import { cohortMembers, findCohort } from '../cohorts.js';
import { EmulatorHttpError } from '../errors.js';
import { compileParam } from '../events.js';
import type { Clock, EmulatorProfile, EmulatorProjectData, EmulatorRequest, EmulatorResponse } from '../types.js';
import { type Params, boolean, integer, jsonArray, optional } from './query-params.js';

const DEFAULT_PAGE_SIZE = 1_000;
/** The largest page_size clients are seen to use (https://github.com/airbytehq/airbyte/pull/41976); larger values are clamped. */
const MAX_PAGE_SIZE = 40_000;
/** The message the spec quotes for pages of a query no longer cached. */
export const UNCACHED_PAGE_MESSAGE = 'request for page in uncached query for params';

interface EngageSession {
  /** Sessions are cached per project: another project's session_id is unknown here. */
  readonly projectId: string;
  readonly ids: readonly string[];
  readonly groupKey: string | undefined;
  readonly expiresAt: number;
}

function parseCohortFilter(raw: string): number {
  let value: unknown = raw;
  try {
    value = JSON.parse(raw);
  } catch {
    // a bare id
  }
  const id = typeof value === 'object' && value !== null ? (value as { id?: unknown }).id : value;
  const n = Number(id);
  if (!Number.isInteger(n)) throw new EmulatorHttpError(400, 'filter_by_cohort must look like {"id":12345}');
  return n;
}

function selectProfiles(params: Params, data: EmulatorProjectData): { ids: string[]; groupKey: string | undefined } {
  const groupKey = optional(params, 'data_group_id');
  const source: ReadonlyMap<string, EmulatorProfile> = groupKey ? (data.groups.get(groupKey) ?? new Map()) : data.profiles;
  const distinctIds = jsonArray(params, 'distinct_ids', false);
  const single = optional(params, 'distinct_id');
  const where = compileParam(optional(params, 'where'));
  const cohortParam = optional(params, 'filter_by_cohort');
  // The spec documents each selector alone and says nothing of distinct_ids with filter_by_cohort. The
  // emulator promises no intersection: listed ids win and the cohort filter is ignored, so a client
  // relying on the combination fails here rather than in production. `where` still narrows.
  let candidates: EmulatorProfile[];
  if (distinctIds !== undefined || single !== undefined) {
    candidates = (distinctIds ?? [single as string]).flatMap((id) => {
      const profile = source.get(id);
      return profile ? [profile] : [];
    });
  } else {
    candidates = [...source.values()];
  }
  if (cohortParam !== undefined && distinctIds === undefined && single === undefined) {
    const cohortId = parseCohortFilter(cohortParam);
    if (!findCohort(data, cohortId)) throw new EmulatorHttpError(400, `cohort ${cohortId} was not found`);
    // Members are defined by profile rules, so include_all_users=true adds no profile-less ids here.
    boolean(params, 'include_all_users', true);
    const members = new Set(groupKey ? [] : cohortMembers(data, cohortId).map((p) => p.distinctId));
    candidates = candidates.filter((p) => members.has(p.distinctId));
  }
  const ids = candidates.filter((p) => !where || where({ properties: p.properties, user: p.properties }) === true).map((p) => p.distinctId);
  return { ids, groupKey };
}

export function createEngage(clock: Clock, sessionTtlMs: number) {
  const sessions = new Map<string, EngageSession>();
  return (request: EmulatorRequest): EmulatorResponse => {
    const { params, project: data } = request;
    const now = clock.now();
    for (const [id, session] of sessions) if (session.expiresAt <= now) sessions.delete(id);
    if (optional(params, 'behaviors') !== undefined && optional(params, 'filter_by_cohort') !== undefined) {
      throw new EmulatorHttpError(400, 'behaviors and filter_by_cohort are mutually exclusive');
    }
    const page = integer(params, 'page', 0, 0);
    const pageSize = Math.min(integer(params, 'page_size', DEFAULT_PAGE_SIZE, 1), MAX_PAGE_SIZE);
    const outputProperties = jsonArray(params, 'output_properties', false);
    const sessionId = optional(params, 'session_id');
    // Chosen wording: the docs only say page > 0 needs session_id.
    if (page > 0 && sessionId === undefined) throw new EmulatorHttpError(400, 'session_id is required when page is greater than 0');
    // The spec: paging past the first page of a `behaviors` query needs as_of_timestamp.
    if (page > 0 && optional(params, 'behaviors') !== undefined && optional(params, 'as_of_timestamp') === undefined) {
      throw new EmulatorHttpError(400, UNCACHED_PAGE_MESSAGE);
    }

    let session: EngageSession | undefined;
    let id: string;
    if (sessionId !== undefined) {
      session = sessions.get(sessionId);
      if (!session || session.projectId !== data.projectId) throw new EmulatorHttpError(400, UNCACHED_PAGE_MESSAGE);
      id = sessionId;
    } else {
      const selection = selectProfiles(params, data);
      id = `${Math.floor(now / 1000)}-${randomBytes(4).toString('hex').toUpperCase().slice(0, 6)}`;
      session = { projectId: data.projectId, ids: selection.ids, groupKey: selection.groupKey, expiresAt: now + sessionTtlMs };
      sessions.set(id, session);
    }
    const source: ReadonlyMap<string, EmulatorProfile> = session.groupKey ? (data.groups.get(session.groupKey) ?? new Map()) : data.profiles;
    const results = session.ids.slice(page * pageSize, (page + 1) * pageSize).flatMap((distinctId) => {
      const profile = source.get(distinctId);
      if (!profile) return [];
      const properties = outputProperties
        ? Object.fromEntries(outputProperties.filter((k) => k in profile.properties).map((k) => [k, profile.properties[k]]))
        : { ...profile.properties };
      return [{ $distinct_id: distinctId, $properties: properties }];
    });
    const body: Record<string, unknown> = { page, page_size: pageSize, session_id: id, status: 'ok' };
    // `total` only on page 0, as Mixpanel does (airbytehq/airbyte:
    // airbyte-integrations/connectors/source-mixpanel/source_mixpanel/components.py, EngagePaginationStrategy).
    if (page === 0) body.total = session.ids.length;
    body.results = results;
    return { status: 200, json: body };
  };
}
