/**
 * Validation of a Mixpanel cohort-sync webhook body
 * (https://docs.mixpanel.com/docs/cohort-sync/webhooks) into a SyncPage. Every problem is listed, each naming the
 * field, because the message is shown in Mixpanel's UI.
 *
 * Where the docs are silent:
 * - Ids (project, cohort, session, distinct id) are shown as strings; an
 *   integer is accepted too and turned into its decimal string, since
 *   refusing it would pause the sync for good.
 * - Unknown keys are ignored (Mixpanel may add fields); on a member they are
 *   kept in `properties` (they come from "Properties to Export").
 * - Optional text fields may be null, which reads as absent.
 */
import type { CohortMember, SyncAction, SyncPage } from '../membership/types.js';

export type CohortSyncParseResult =
  | { readonly ok: true; readonly page: SyncPage }
  /** `action` echoes the body's action when it is a string, for the response. */
  | { readonly ok: false; readonly action: string | undefined; readonly problems: readonly string[] };

const ACTIONS: readonly SyncAction[] = ['members', 'add_members', 'remove_members'];

const MEMBER_FIELDS = {
  email: 'email',
  first_name: 'firstName',
  last_name: 'lastName',
  phone_number: 'phoneNumber',
} as const;

export function parseCohortSyncBody(json: unknown): CohortSyncParseResult {
  const problems: string[] = [];
  if (!isRecord(json)) return { ok: false, action: undefined, problems: ['body must be a JSON object'] };

  const action = json['action'];
  if (!ACTIONS.includes(action as SyncAction)) problems.push(`action must be one of ${ACTIONS.join(', ')}`);
  const parameters = json['parameters'];
  if (!isRecord(parameters)) {
    problems.push('parameters must be an object');
    return { ok: false, action: typeof action === 'string' ? action : undefined, problems };
  }

  const id = (name: string) => {
    const value = parameters[name];
    const text = typeof value === 'number' && Number.isSafeInteger(value) ? String(value) : value;
    if (typeof text === 'string' && text.length > 0) return text;
    problems.push(`parameters.${name} must be a non-empty string`);
    return '';
  };
  const projectId = id('mixpanel_project_id');
  const cohortId = id('mixpanel_cohort_id');
  const sessionId = id('mixpanel_session_id');
  const cohortName = parameters['mixpanel_cohort_name'];
  if (typeof cohortName !== 'string') problems.push('parameters.mixpanel_cohort_name must be a string');
  const description = optionalText(parameters, 'mixpanel_cohort_description', 'parameters', problems);

  const pageInfo = parameters['page_info'];
  let pageCount = 0;
  let totalPages = 0;
  if (!isRecord(pageInfo)) {
    problems.push('parameters.page_info must be an object with page_count and total_pages');
  } else {
    totalPages = positiveInteger(pageInfo['total_pages'], 'parameters.page_info.total_pages', problems);
    pageCount = positiveInteger(pageInfo['page_count'], 'parameters.page_info.page_count', problems);
    if (pageCount > 0 && totalPages > 0 && pageCount > totalPages) {
      problems.push(`parameters.page_info.page_count (${pageCount}) must not exceed total_pages (${totalPages})`);
    }
  }

  const rawMembers = parameters['members'];
  const members: CohortMember[] = [];
  if (!Array.isArray(rawMembers)) problems.push('parameters.members must be an array');
  else
    rawMembers.forEach((raw, index) => {
      const member = parseMember(raw, `parameters.members[${index}]`, problems);
      if (member) members.push(member);
    });

  if (problems.length > 0) return { ok: false, action: typeof action === 'string' ? action : undefined, problems };
  return {
    ok: true,
    page: {
      projectId,
      cohortId,
      cohortName: cohortName as string,
      cohortDescription: description,
      action: action as SyncAction,
      sessionId,
      pageCount,
      totalPages,
      members,
    },
  };
}

function parseMember(raw: unknown, path: string, problems: string[]): CohortMember | undefined {
  if (!isRecord(raw)) {
    problems.push(`${path} must be an object`);
    return undefined;
  }
  const { mixpanel_distinct_id: rawId, email, first_name, last_name, phone_number, ...properties } = raw;
  const distinctId = typeof rawId === 'number' && Number.isSafeInteger(rawId) ? String(rawId) : rawId;
  if (typeof distinctId !== 'string' || distinctId.length === 0) {
    problems.push(`${path}.mixpanel_distinct_id must be a non-empty string`);
    return undefined;
  }
  const member: { -readonly [K in keyof CohortMember]: CohortMember[K] } = { distinctId, properties };
  for (const [field, key] of Object.entries(MEMBER_FIELDS)) {
    const value = optionalText(raw, field, path, problems);
    if (value !== undefined) member[key] = value;
  }
  return member;
}

function optionalText(record: Record<string, unknown>, field: string, path: string, problems: string[]): string | undefined {
  const value = record[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  problems.push(`${path}.${field} must be a string`);
  return undefined;
}

function positiveInteger(value: unknown, path: string, problems: string[]): number {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 1) return value;
  problems.push(`${path} must be an integer of at least 1`);
  return 0;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
