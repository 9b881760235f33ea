/**
 * The one cohort-sync algorithm every MembershipStore backend runs. A backend
 * offers committed-state reads (SyncReader) and executes a list of writes
 * (SyncWrite) atomically; `planPage` decides what a page means.
 *
 * Semantics (Mixpanel cohort webhooks, DIGEST.md §5):
 * - A page is identified by (project, cohort, session id, action, page_count).
 *   A page seen before changes nothing (`applied: false`): Mixpanel retries
 *   pages on 429/5xx and restarts failed syncs from the top.
 * - Sessions are tracked per (project, cohort, session id) and kind: a full
 *   sync, or a diff whose add and remove pages share the session. The docs
 *   define total_pages as "the number of total messages for the given session
 *   ID", so a diff session completes once as many distinct page numbers as
 *   total_pages have arrived, whether add and remove pages are numbered as one
 *   sequence or each from 1; completion is reported once.
 * - `members` (full sync): pages are staged per (project, cohort, session) and
 *   applied as one atomic replacement when every page 1..total_pages has
 *   arrived, in any order. Until then nothing is visible. A session that
 *   completed before counts as seen (no-op); a new session id replaces again.
 * - The completing page yields, in this order: REMOVED (members that left),
 *   ADDED (members that joined; unchanged members appear in neither), then one
 *   REPLACED change per page 1..total_pages carrying that page's members (each
 *   distinct id once, on the first page that lists it), so a subscriber
 *   rebuilds the full membership from REPLACED and never sees a page twice.
 *   ADDED/REMOVED are split into chunks of MAX_MEMBERS_PER_CHANGE and carry
 *   the completing page's number.
 * - `add_members` / `remove_members` (diffs): applied per page with set
 *   semantics keyed on (cohort id, distinct id); the change lists only members
 *   actually added or removed (none when nothing changed). An added member
 *   already present keeps its place but takes the page's properties. An empty
 *   diff is valid and records a sync (lastSyncAt, session id).
 * - A page whose total_pages differs from the one recorded for its session
 *   starts that session over (staged pages are dropped): the docs are silent
 *   on this, and a different total can only come from a different export.
 * - A session's records (staged pages, seen page numbers) live until no page
 *   of it has arrived for the webhook session TTL (`expireSessions`); after
 *   that a redelivery of it counts as new.
 */
import type { AppliedChange, ApplyResult, CohortMember, CohortSyncState, SyncPage } from './types.js';

/** Upper bound of members in one ADDED/REMOVED change, Mixpanel's own batch size. */
export const MAX_MEMBERS_PER_CHANGE = 1000;

export type SessionKind = 'full' | 'diff';

export interface SessionKey {
  readonly projectId: string;
  readonly cohortId: string;
  readonly sessionId: string;
  readonly kind: SessionKind;
}

export interface SessionRecord {
  readonly totalPages: number;
  /** Pages seen so far, as `<action>:<page_count>`. */
  readonly seen: readonly string[];
  readonly startedAt: number;
  readonly updatedAt: number;
  /** Set once every page has been applied. */
  readonly completedAt?: number | undefined;
}

/** Committed-state reads a backend offers to `planPage`. */
export interface SyncReader {
  session(key: SessionKey): Promise<SessionRecord | undefined>;
  syncState(projectId: string, cohortId: string): Promise<CohortSyncState | undefined>;
  /** The subset of `distinctIds` that are members now. */
  presentMembers(projectId: string, cohortId: string, distinctIds: readonly string[]): Promise<Set<string>>;
  /** Members of every staged page of a full-sync session, by page number. */
  stagedPages(key: SessionKey): Promise<Map<number, readonly CohortMember[]>>;
  allMembers(projectId: string, cohortId: string): Promise<CohortMember[]>;
}

/** Writes a backend executes in order, all or nothing. */
export type SyncWrite =
  /** `restart`: drop whatever the session staged before. */
  | { readonly op: 'putSession'; readonly key: SessionKey; readonly record: SessionRecord; readonly restart: boolean }
  | { readonly op: 'stagePage'; readonly key: SessionKey; readonly page: number; readonly members: readonly CohortMember[] }
  | { readonly op: 'dropStaged'; readonly key: SessionKey }
  | { readonly op: 'upsertMembers'; readonly projectId: string; readonly cohortId: string; readonly members: readonly CohortMember[] }
  | { readonly op: 'removeMembers'; readonly projectId: string; readonly cohortId: string; readonly distinctIds: readonly string[] }
  | { readonly op: 'replaceMembers'; readonly projectId: string; readonly cohortId: string; readonly members: readonly CohortMember[] }
  | { readonly op: 'putSyncState'; readonly state: CohortSyncState };

export interface PagePlan {
  readonly result: ApplyResult;
  readonly writes: readonly SyncWrite[];
}

const NOTHING_CHANGED: ApplyResult = { applied: false, changes: [], sessionCompleted: false };

export async function planPage(page: SyncPage, now: number, reader: SyncReader): Promise<PagePlan> {
  const key = sessionKeyOf(page);
  const previous = await reader.session(key);
  const restart = key.kind === 'full' && previous !== undefined && previous.totalPages !== page.totalPages;
  const pageId = `${page.action}:${page.pageCount}`;
  const kept = restart ? undefined : previous;
  if (kept?.seen.includes(pageId)) return { result: NOTHING_CHANGED, writes: [] };

  const seen = [...(kept?.seen ?? []), pageId];
  const pageNumbers = new Set(seen.map((id) => id.slice(id.indexOf(':') + 1)));
  const completes = kept?.completedAt === undefined && pageNumbers.size >= page.totalPages;
  const record: SessionRecord = {
    totalPages: kept?.totalPages ?? page.totalPages,
    seen,
    startedAt: kept?.startedAt ?? now,
    updatedAt: now,
    completedAt: completes ? now : kept?.completedAt,
  };
  const putSession: SyncWrite = { op: 'putSession', key, record, restart };
  return page.action === 'members'
    ? planFullSyncPage(page, now, reader, putSession, completes, restart)
    : planDiffPage(page, now, reader, putSession, completes);
}

async function planFullSyncPage(
  page: SyncPage,
  now: number,
  reader: SyncReader,
  putSession: SyncWrite & { op: 'putSession' },
  completes: boolean,
  restart: boolean,
): Promise<PagePlan> {
  const members = uniqueMembers(page.members);
  if (!completes) {
    return {
      result: { applied: true, changes: [], sessionCompleted: false },
      writes: [putSession, { op: 'stagePage', key: putSession.key, page: page.pageCount, members }],
    };
  }

  const staged = restart ? new Map<number, readonly CohortMember[]>() : await reader.stagedPages(putSession.key);
  staged.set(page.pageCount, members);
  const seen = new Set<string>();
  const replacedPages: CohortMember[][] = [];
  for (let n = 1; n <= page.totalPages; n++) {
    const pageMembers = staged.get(n);
    if (!pageMembers) throw new Error(`Staged page ${n} of cohort ${page.cohortId} session ${page.sessionId} is missing`);
    replacedPages.push(pageMembers.filter((m) => !seen.has(m.distinctId) && seen.add(m.distinctId)));
  }
  const next = replacedPages.flat();
  const current = await reader.allMembers(page.projectId, page.cohortId);
  const currentIds = new Set(current.map((m) => m.distinctId));
  const removed = current.filter((m) => !seen.has(m.distinctId));
  const added = next.filter((m) => !currentIds.has(m.distinctId));

  const state = stateAfter(page, now, next.length);
  const changes: AppliedChange[] = [
    ...chunkedChanges(page, 'REMOVED', removed),
    ...chunkedChanges(page, 'ADDED', added),
    ...replacedPages.map((pageMembers, index): AppliedChange => ({ ...changeBase(page), kind: 'REPLACED', members: pageMembers, page: index + 1 })),
  ];
  return {
    result: { applied: true, changes, sessionCompleted: true, state },
    writes: [
      putSession,
      { op: 'dropStaged', key: putSession.key },
      { op: 'replaceMembers', projectId: page.projectId, cohortId: page.cohortId, members: next },
      { op: 'putSyncState', state },
    ],
  };
}

async function planDiffPage(
  page: SyncPage,
  now: number,
  reader: SyncReader,
  putSession: SyncWrite,
  completes: boolean,
): Promise<PagePlan> {
  const members = uniqueMembers(page.members);
  const present = await reader.presentMembers(page.projectId, page.cohortId, members.map((m) => m.distinctId));
  const previousCount = (await reader.syncState(page.projectId, page.cohortId))?.memberCount ?? 0;
  const adding = page.action === 'add_members';
  const changed = members.filter((m) => present.has(m.distinctId) !== adding);
  const state = stateAfter(page, now, previousCount + (adding ? changed.length : -changed.length));

  const writes: SyncWrite[] = [putSession];
  if (adding && members.length > 0) writes.push({ op: 'upsertMembers', projectId: page.projectId, cohortId: page.cohortId, members });
  if (!adding && changed.length > 0) {
    writes.push({ op: 'removeMembers', projectId: page.projectId, cohortId: page.cohortId, distinctIds: changed.map((m) => m.distinctId) });
  }
  writes.push({ op: 'putSyncState', state });
  return {
    result: { applied: true, changes: chunkedChanges(page, adding ? 'ADDED' : 'REMOVED', changed), sessionCompleted: completes, state },
    writes,
  };
}

export function sessionKeyOf(page: SyncPage): SessionKey {
  return { projectId: page.projectId, cohortId: page.cohortId, sessionId: page.sessionId, kind: page.action === 'members' ? 'full' : 'diff' };
}

/** Each distinct id once, its first occurrence winning (Mixpanel re-sends users after a restarted sync). */
function uniqueMembers(members: readonly CohortMember[]): CohortMember[] {
  const seen = new Set<string>();
  return members.filter((m) => !seen.has(m.distinctId) && seen.add(m.distinctId));
}

function stateAfter(page: SyncPage, now: number, memberCount: number): CohortSyncState {
  return {
    projectId: page.projectId,
    cohortId: page.cohortId,
    cohortName: page.cohortName,
    lastSyncAt: now,
    sessionId: page.sessionId,
    memberCount,
  };
}

function changeBase(page: SyncPage) {
  return { projectId: page.projectId, cohortId: page.cohortId, sessionId: page.sessionId, page: page.pageCount, totalPages: page.totalPages };
}

function chunkedChanges(page: SyncPage, kind: 'ADDED' | 'REMOVED', members: readonly CohortMember[]): AppliedChange[] {
  const changes: AppliedChange[] = [];
  for (let start = 0; start < members.length; start += MAX_MEMBERS_PER_CHANGE) {
    changes.push({ ...changeBase(page), kind, members: members.slice(start, start + MAX_MEMBERS_PER_CHANGE) });
  }
  return changes;
}

/**
 * Byte order of the UTF-8 encodings, which is how SQLite (BINARY collation)
 * and Redis (lex ranges) order strings, so every backend pages alike.
 */
export function compareDistinctIds(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** Checks `members()` paging options the same way in every backend. */
export function checkPageSize(first: number): void {
  if (!Number.isSafeInteger(first) || first < 0) throw new RangeError(`first must be a non-negative integer, got ${first}`);
}

/** Runs tasks one at a time, in call order: `planPage` reads then writes, which must not interleave. */
export function createSerialQueue(): <T>(task: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(task: () => Promise<T>): Promise<T> => {
    const run = tail.then(task);
    tail = run.catch(() => undefined);
    return run;
  };
}
