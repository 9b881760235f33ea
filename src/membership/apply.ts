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
 *   the completing page's number. These completion changes are not built by
 *   the page: its writes only swap the shadow set in (keeping the replaced
 *   membership aside), and `completionChanges` streams them afterwards from
 *   the store, a bounded batch per read (COMPLETION_SCAN members of the old
 *   set, or one page of the new), so the last page costs what any page costs
 *   and memory stays flat whatever the cohort's size.
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
  /** A full sync's shadow set size so far (absent in records written before it was kept: then counted). */
  readonly stagedMembers?: number | undefined;
}

/** Committed-state reads a backend offers to `planPage`. */
export interface SyncReader {
  session(key: SessionKey): Promise<SessionRecord | undefined>;
  syncState(projectId: string, cohortId: string): Promise<CohortSyncState | undefined>;
  /** The subset of `distinctIds` that are members now. */
  presentMembers(projectId: string, cohortId: string, distinctIds: readonly string[]): Promise<Set<string>>;
  /** Of `distinctIds`, those already in the session's shadow set, with the page that holds them. */
  shadowPageOf(key: SessionKey, distinctIds: readonly string[]): Promise<Map<string, number>>;
  /** How many distinct ids the session's shadow set holds. */
  shadowCount(key: SessionKey): Promise<number>;
}

/** A completed full sync whose completion changes are still to be read (see `completionChanges`). */
export interface CompletionRef {
  readonly key: SessionKey;
  /** The page that completed the session (ADDED/REMOVED carry its number). */
  readonly page: number;
  readonly totalPages: number;
}

/**
 * Reads of a completed full sync, in bounded batches: the membership it replaced (kept aside by the swap)
 * and the new one, page by page. A backend keeps its own cursor over the replaced membership.
 */
export interface CompletionReader {
  /** The next (at most) `limit` members of the replaced membership, and those of them the new one lacks; `done` at its end. */
  nextReplaced(limit: number): Promise<{ readonly left: CohortMember[]; readonly done: boolean }>;
  /** Members of page `n` of the new membership, in `rankOf` order (each distinct id once, on the lowest page listing it). */
  page(n: number): Promise<CohortMember[]>;
  /** Of page `n`'s members, those the replaced membership did not have, in the same order. */
  joinedOnPage(n: number): Promise<CohortMember[]>;
  /** Lets the replaced membership go (deleted lazily); called once, when the stream ends or is abandoned. */
  release(): Promise<void>;
}

/** Writes a backend executes in order, all or nothing. */
export type SyncWrite =
  /** `restart`: drop the session's shadow set. */
  | { readonly op: 'putSession'; readonly key: SessionKey; readonly record: SessionRecord; readonly restart: boolean }
  /** Puts members into the session's shadow set, on `page` (each is new there, or moves down from a later page). */
  | { readonly op: 'stagePage'; readonly key: SessionKey; readonly page: number; readonly members: readonly CohortMember[] }
  | { readonly op: 'dropStaged'; readonly key: SessionKey }
  /**
   * Makes the session's shadow set the cohort's membership, in constant time. The old set is kept aside
   * for the completion changes (`CompletionReader`), then deleted lazily once they are read.
   */
  | { readonly op: 'swapInShadow'; readonly key: SessionKey; readonly memberCount: number; readonly at: number }
  | { readonly op: 'upsertMembers'; readonly projectId: string; readonly cohortId: string; readonly members: readonly CohortMember[] }
  | { readonly op: 'removeMembers'; readonly projectId: string; readonly cohortId: string; readonly distinctIds: readonly string[] }
  | { readonly op: 'putSyncState'; readonly state: CohortSyncState };

export interface PagePlan {
  /** `completion` is left for the backend to fill, from `completes` (it reads the backend). */
  readonly result: Omit<ApplyResult, 'completion'>;
  readonly writes: readonly SyncWrite[];
  /** Set when the page completed a full sync: what the backend's completion stream reads. */
  readonly completes?: CompletionRef | undefined;
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
    ...(kept?.stagedMembers === undefined ? {} : { stagedMembers: kept.stagedMembers }),
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
  const held = restart
    ? new Map<string, number>()
    : await reader.shadowPageOf(
        key,
        members.map((m) => m.distinctId),
      );
  const fresh = members.filter((m) => (held.get(m.distinctId) ?? Number.POSITIVE_INFINITY) > page.pageCount);
  const stage: SyncWrite = { op: 'stagePage', key, page: page.pageCount, members: fresh };
  // The shadow set's size, kept in the session record so the last page need not count the set: the fresh
  // members not held before are new to it (the others move down from a later page).
  const before = restart ? 0 : (putSession.record.stagedMembers ?? (await reader.shadowCount(key)));
  const memberCount = before + fresh.filter((m) => !held.has(m.distinctId)).length;
  const counted: SyncWrite = { ...putSession, record: { ...putSession.record, stagedMembers: memberCount } };
  if (!completes) {
    return { result: { applied: true, changes: [], sessionCompleted: false }, writes: [counted, stage] };
  }

  const state = stateAfter(page, now, memberCount);
  return {
    result: { applied: true, changes: [], sessionCompleted: true, state },
    writes: [counted, stage, { op: 'swapInShadow', key, memberCount, at: now }, { op: 'putSyncState', state }],
    completes: { key, page: page.pageCount, totalPages: page.totalPages },
  };
}

/** Members of the replaced membership read per `nextReplaced` call. */
export const COMPLETION_SCAN = 1000;

/**
 * The completion changes of a full sync (REMOVED, ADDED, then REPLACED page by page: see the top of this
 * file), read from the store a batch at a time as they are iterated, with a turn of the event loop after
 * each read. At most one batch and one change are held at once. The replaced membership is released
 * when the stream ends, fails or is returned.
 */
export async function* completionChanges(ref: CompletionRef, reader: CompletionReader): AsyncGenerator<AppliedChange, void, undefined> {
  const base = { projectId: ref.key.projectId, cohortId: ref.key.cohortId, sessionId: ref.key.sessionId, page: ref.page, totalPages: ref.totalPages };
  const pending: CohortMember[] = [];
  const full = function* (kind: 'ADDED' | 'REMOVED', all: boolean): Generator<AppliedChange> {
    while (pending.length >= MAX_MEMBERS_PER_CHANGE || (all && pending.length > 0)) {
      yield { ...base, kind, members: pending.splice(0, MAX_MEMBERS_PER_CHANGE) };
    }
  };
  try {
    for (let done = false; !done; ) {
      const batch = await reader.nextReplaced(COMPLETION_SCAN);
      done = batch.done;
      pending.push(...batch.left);
      yield* full('REMOVED', done);
      await turn();
    }
    for (let n = 1; n <= ref.totalPages; n++) {
      pending.push(...(await reader.joinedOnPage(n)));
      yield* full('ADDED', n === ref.totalPages);
      await turn();
    }
    for (let n = 1; n <= ref.totalPages; n++) {
      const members = await reader.page(n);
      yield { ...base, kind: 'REPLACED', members, page: n };
      await turn();
    }
  } finally {
    await reader.release();
  }
}

/** Lets the event loop serve other work between two batches of a completion stream. */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

async function planDiffPage(page: SyncPage, now: number, reader: SyncReader, putSession: SyncWrite, completes: boolean): Promise<PagePlan> {
  const members = uniqueMembers(page.members);
  const present = await reader.presentMembers(
    page.projectId,
    page.cohortId,
    members.map((m) => m.distinctId),
  );
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
