/**
 * The one cohort-sync algorithm every MembershipStore backend runs. A backend
 * offers committed-state reads (SyncReader) and executes a list of writes
 * (SyncWrite) atomically; `planPage` decides what a page means.
 *
 * Semantics (Mixpanel cohort webhooks, https://docs.mixpanel.com/docs/cohort-sync/webhooks):
 * - A page is identified by (project, cohort, session id, action, page_count).
 *   A page seen before changes nothing (`applied: false`): Mixpanel retries
 *   pages on 429/5xx and restarts failed syncs from the top.
 * - Sessions are tracked per (project, cohort, session id) and kind: a full
 *   sync, or a diff whose add and remove pages share the session. The docs
 *   define total_pages as "the number of total messages for the given session
 *   ID", so a diff session completes once as many distinct page numbers as
 *   total_pages have arrived, whether add and remove pages are numbered as one
 *   sequence or each from 1; completion is reported once.
 * - `members` (full sync): each page is written, as it arrives, into a shadow
 *   set of its (project, cohort, session), invisible to readers. When every
 *   page 1..total_pages has arrived, in any order, the shadow set becomes the
 *   cohort's membership in one constant-time swap (a map swap, a SQLite
 *   generation switch, a Redis RENAME); the old set is deleted lazily. So no
 *   page, the last included, rewrites the membership. A session that
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
 * - Every page yields at least one change, an empty one when it changed
 *   nothing (a diff page of members already there, an empty page), so a
 *   subscriber waiting for "page 2 of 2" sees it; a staged full-sync page
 *   yields its changes when the session completes.
 * - Distinct ids are compared as UTF-8, as SQLite and Redis store them: a
 *   lone UTF-16 surrogate reads as U+FFFD (`wellFormed`), in every backend.
 * - A page whose total_pages differs from the one recorded for its session
 *   starts that session over (its shadow set is dropped): the docs are silent
 *   on this, and a different total can only come from a different export.
 * - A session's records (staged pages, seen page numbers) live until no page
 *   of it has arrived for the webhook session TTL (`expireSessions`); after
 *   that a redelivery of it counts as new.
 */
import type { AppliedChange, ApplyResult, CohortMember, CohortSyncState, SyncPage } from './types.js';

/**
 * Where a shadow-set member sits: its page, then its place on the page as sent, in one number that every
 * backend stores beside the member (places past 2^20 share the last rank: such a page cannot fit a body).
 */
export const rankOf = (page: number, index: number): number => page * PAGE_RANK + Math.min(index, PAGE_RANK - 1);
export const pageOfRank = (rank: number): number => Math.floor(rank / PAGE_RANK);
const PAGE_RANK = 2 ** 20;

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
  /** The shadow set of a full-sync session, by page number, in `rankOf` order: each distinct id once, on the lowest page listing it. */
  shadowPages(key: SessionKey): Promise<Map<number, CohortMember[]>>;
  /** Of `distinctIds`, those already in the session's shadow set, with the page that holds them. */
  shadowPageOf(key: SessionKey, distinctIds: readonly string[]): Promise<Map<string, number>>;
  allMembers(projectId: string, cohortId: string): Promise<CohortMember[]>;
}

/** Writes a backend executes in order, all or nothing. */
export type SyncWrite =
  /** `restart`: drop the session's shadow set. */
  | { readonly op: 'putSession'; readonly key: SessionKey; readonly record: SessionRecord; readonly restart: boolean }
  /** Puts members into the session's shadow set, on `page` (each is new there, or moves down from a later page). */
  | { readonly op: 'stagePage'; readonly key: SessionKey; readonly page: number; readonly members: readonly CohortMember[] }
  | { readonly op: 'dropStaged'; readonly key: SessionKey }
  /** Makes the session's shadow set the cohort's membership, in constant time; the old set is deleted lazily. */
  | { readonly op: 'swapInShadow'; readonly key: SessionKey; readonly memberCount: number }
  | { readonly op: 'upsertMembers'; readonly projectId: string; readonly cohortId: string; readonly members: readonly CohortMember[] }
  | { readonly op: 'removeMembers'; readonly projectId: string; readonly cohortId: string; readonly distinctIds: readonly string[] }
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
  const key = putSession.key;
  const members = uniqueMembers(page.members);
  // Lowest page wins, so the REPLACED changes list each distinct id once whatever order pages came in.
  const held = restart ? new Map<string, number>() : await reader.shadowPageOf(key, members.map((m) => m.distinctId));
  const fresh = members.filter((m) => (held.get(m.distinctId) ?? Number.POSITIVE_INFINITY) > page.pageCount);
  const stage: SyncWrite = { op: 'stagePage', key, page: page.pageCount, members: fresh };
  if (!completes) {
    return { result: { applied: true, changes: [], sessionCompleted: false }, writes: [putSession, stage] };
  }

  const shadow = restart ? new Map<number, CohortMember[]>() : await reader.shadowPages(key);
  const moved = new Set(fresh.map((m) => m.distinctId));
  for (const [n, pageMembers] of shadow) if (n > page.pageCount) shadow.set(n, pageMembers.filter((m) => !moved.has(m.distinctId)));
  shadow.set(page.pageCount, fresh);
  const replacedPages: CohortMember[][] = [];
  for (let n = 1; n <= page.totalPages; n++) replacedPages.push(shadow.get(n) ?? []);
  const next = replacedPages.flat();
  const current = await reader.allMembers(page.projectId, page.cohortId);
  // O(members) work: done in slices that let the event loop serve other requests in between.
  const nextIds = new Set<string>();
  await inSlices(next, (m) => nextIds.add(m.distinctId));
  const currentIds = new Set<string>();
  await inSlices(current, (m) => currentIds.add(m.distinctId));
  const removed: CohortMember[] = [];
  await inSlices(current, (m) => nextIds.has(m.distinctId) || removed.push(m));
  const added: CohortMember[] = [];
  await inSlices(next, (m) => currentIds.has(m.distinctId) || added.push(m));

  const state = stateAfter(page, now, next.length);
  const changes: AppliedChange[] = [
    ...chunkedChanges(page, 'REMOVED', removed, false),
    ...chunkedChanges(page, 'ADDED', added, false),
    ...replacedPages.map((pageMembers, index): AppliedChange => ({ ...changeBase(page), kind: 'REPLACED', members: pageMembers, page: index + 1 })),
  ];
  return {
    result: { applied: true, changes, sessionCompleted: true, state },
    writes: [putSession, stage, { op: 'swapInShadow', key, memberCount: next.length }, { op: 'putSyncState', state }],
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
    result: { applied: true, changes: chunkedChanges(page, adding ? 'ADDED' : 'REMOVED', changed, true), sessionCompleted: completes, state },
    writes,
  };
}

export function sessionKeyOf(page: SyncPage): SessionKey {
  return { projectId: page.projectId, cohortId: page.cohortId, sessionId: page.sessionId, kind: page.action === 'members' ? 'full' : 'diff' };
}

const SLICE = 10_000;

/** Runs `step` over `items`, yielding to the event loop after every SLICE of them. */
async function inSlices<T>(items: readonly T[], step: (item: T) => unknown): Promise<void> {
  for (let start = 0; start < items.length; start += SLICE) {
    if (start > 0) await new Promise((resolve) => setImmediate(resolve));
    const end = Math.min(items.length, start + SLICE);
    for (let i = start; i < end; i++) step(items[i]!);
  }
}

/** Each distinct id once, its first occurrence winning (Mixpanel re-sends users after a restarted sync). */
function uniqueMembers(members: readonly CohortMember[]): CohortMember[] {
  const seen = new Set<string>();
  return members
    .map((m) => (isWellFormed(m.distinctId) ? m : { ...m, distinctId: wellFormed(m.distinctId) }))
    .filter((m) => !seen.has(m.distinctId) && seen.add(m.distinctId));
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

function isWellFormed(text: string): boolean {
  LONE_SURROGATE.lastIndex = 0;
  return !LONE_SURROGATE.test(text);
}

/** The string as its UTF-8 encoding reads back: each lone surrogate becomes U+FFFD, as SQLite and Redis store it. */
export function wellFormed(text: string): string {
  return text.replace(LONE_SURROGATE, '\uFFFD');
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

/** `evenIfEmpty`: one change with no members when there are none, so the page itself is published. */
function chunkedChanges(page: SyncPage, kind: 'ADDED' | 'REMOVED', members: readonly CohortMember[], evenIfEmpty: boolean): AppliedChange[] {
  if (members.length === 0 && evenIfEmpty) return [{ ...changeBase(page), kind, members: [] }];
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
