/**
 * The SQLite membership store's engine: better-sqlite3 on one file (WAL),
 * synchronous, run inside worker threads (sqlite-worker.ts) so neither a
 * locked file nor a big page ever blocks the gateway's event loop.
 *
 * Each page's writes commit in one transaction, and seen page numbers and
 * full-sync shadow sets live in the file too, so a process killed mid-sync
 * resumes where it stopped and never exposes half a replacement.
 *
 * Membership rows carry a generation. A cohort's live generation is named in
 * cohort_generations; a full sync writes its pages into a fresh generation
 * (its shadow set), and its last page switches the cohort to it by updating
 * one row. The old generation is kept, named in sync_publications, while the
 * sync's completion changes are read from both generations a batch at a time
 * (`completionReplaced`, `completionPage`); then, or when the process starts
 * again after a crash, it is listed in dropped_generations and deleted a batch
 * at a time between requests (`collectGarbage`). The swap itself is committed
 * before any completion change is read, so a crash while they are published
 * keeps the new membership.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import {
  checkPageSize,
  pageOfRank,
  planPage,
  rankOf,
  wellFormed,
  type CompletionRef,
  type SessionKey,
  type SessionRecord,
  type SyncReader,
  type SyncWrite,
} from './apply.js';
import type { ApplyResult, CohortMember, CohortSyncState, SyncPage } from './types.js';

/** What the engine's applyPage answers: a completed full sync names its completion (read with the completion calls). */
export type EngineApplyResult = Omit<ApplyResult, 'completion'> & { readonly completes?: CompletionRef | undefined };

export interface SqliteEngineOptions {
  /** Database file; its directory is created if missing. `:memory:` works for throwaway use. */
  readonly path: string;
  /** Creates or migrates the schema (the writer does; a reader opens what the writer prepared). Default true. */
  readonly prepareSchema?: boolean;
  /** How long a statement waits for another connection's lock; default 5000 ms. */
  readonly busyTimeoutMs?: number;
}

/** The store's operations, synchronous where SQLite is; `applyPage` awaits only the planner. */
export interface SqliteEngine {
  applyPage(page: SyncPage, now: number): Promise<EngineApplyResult>;
  /**
   * Members of the membership a completed full sync replaced, in distinct-id order after `afterDistinctId`
   * (at most `limit`), with those the new membership lacks; `last` is the cursor to go on from.
   */
  completionReplaced(key: SessionKey, afterDistinctId: string, limit: number): { left: CohortMember[]; last: string | undefined };
  /** Page `n` of the new membership, in rank order; `joinedOnly`: only members the replaced one lacked. */
  completionPage(key: SessionKey, n: number, joinedOnly: boolean): CohortMember[];
  /** The replaced membership goes to garbage collection. */
  completionRelease(key: SessionKey): void;
  members(projectId: string, cohortId: string, options: { first: number; afterDistinctId?: string | undefined }): CohortMember[];
  cohortsOf(projectId: string, distinctIds: readonly string[]): Map<string, string[]>;
  syncState(projectId: string, cohortId: string): CohortSyncState | undefined;
  syncedCohorts(projectId: string): CohortSyncState[];
  expireSessions(olderThan: number): number;
  /** Deletes up to `batch` rows of dropped generations; true while some remain. */
  collectGarbage(batch?: number): boolean;
  close(): void;
}

const SCHEMA_VERSION = 2;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS cohort_members (
  project_id TEXT NOT NULL, cohort_id TEXT NOT NULL, generation TEXT NOT NULL, distinct_id TEXT NOT NULL,
  member TEXT NOT NULL, page INTEGER, -- shadow sets only: apply.ts rankOf (page, then place on it)
  PRIMARY KEY (project_id, cohort_id, generation, distinct_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS cohort_members_by_profile ON cohort_members (project_id, distinct_id);
CREATE TABLE IF NOT EXISTS cohort_generations (
  project_id TEXT NOT NULL, cohort_id TEXT NOT NULL, generation TEXT NOT NULL,
  PRIMARY KEY (project_id, cohort_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sync_shadows (
  project_id TEXT NOT NULL, cohort_id TEXT NOT NULL, session_id TEXT NOT NULL, kind TEXT NOT NULL, generation TEXT NOT NULL,
  PRIMARY KEY (project_id, cohort_id, session_id, kind)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS dropped_generations (
  project_id TEXT NOT NULL, cohort_id TEXT NOT NULL, generation TEXT NOT NULL,
  PRIMARY KEY (project_id, cohort_id, generation)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS cohort_sync_state (
  project_id TEXT NOT NULL, cohort_id TEXT NOT NULL, cohort_name TEXT NOT NULL,
  last_sync_at INTEGER NOT NULL, session_id TEXT NOT NULL, member_count INTEGER NOT NULL,
  PRIMARY KEY (project_id, cohort_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sync_sessions (
  project_id TEXT NOT NULL, cohort_id TEXT NOT NULL, session_id TEXT NOT NULL, kind TEXT NOT NULL,
  record TEXT NOT NULL, updated_at INTEGER NOT NULL,
  PRIMARY KEY (project_id, cohort_id, session_id, kind)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS sync_sessions_by_update ON sync_sessions (updated_at);
CREATE INDEX IF NOT EXISTS cohort_members_by_rank ON cohort_members (project_id, cohort_id, generation, page);
CREATE TABLE IF NOT EXISTS sync_publications (
  project_id TEXT NOT NULL, cohort_id TEXT NOT NULL, session_id TEXT NOT NULL, kind TEXT NOT NULL,
  replaced_generation TEXT NOT NULL, generation TEXT NOT NULL, completed_at INTEGER NOT NULL,
  PRIMARY KEY (project_id, cohort_id, session_id, kind)
) WITHOUT ROWID;
`;

/**
 * Version 1 kept one membership per cohort and staged whole pages as JSON. Its members become generation ''
 * (the default live one); its staged pages are dropped with their unfinished full-sync sessions, so a sync
 * caught mid-way by the upgrade starts over when Mixpanel sends it again.
 */
const MIGRATE_FROM_1 = `
ALTER TABLE cohort_members RENAME TO cohort_members_v1;
DROP INDEX IF EXISTS cohort_members_by_profile;
${SCHEMA}
INSERT INTO cohort_members (project_id, cohort_id, generation, distinct_id, member, page)
  SELECT project_id, cohort_id, '', distinct_id, member, NULL FROM cohort_members_v1;
DROP TABLE cohort_members_v1;
DELETE FROM sync_sessions WHERE kind = 'full' AND json_extract(record, '$.completedAt') IS NULL;
DROP TABLE IF EXISTS staged_pages;
`;

const SESSION_WHERE = 'project_id = ? AND cohort_id = ? AND session_id = ? AND kind = ?';
/** The generation readers see: the one named in cohort_generations, else ''. */
const LIVE = `COALESCE((SELECT generation FROM cohort_generations g WHERE g.project_id = ? AND g.cohort_id = ?), '')`;

interface StateRow {
  project_id: string;
  cohort_id: string;
  cohort_name: string;
  last_sync_at: number;
  session_id: string;
  member_count: number;
}

export function openSqliteEngine(options: SqliteEngineOptions): SqliteEngine {
  if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
  const db = new Database(options.path);
  db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
  if (options.prepareSchema ?? true) {
    db.pragma('journal_mode = WAL');
    const version = db.pragma('user_version', { simple: true }) as number;
    const hasV1 = version < 2 && db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'cohort_members'").get() !== undefined;
    db.transaction(() => {
      db.exec(hasV1 ? MIGRATE_FROM_1 : SCHEMA);
      db.pragma(`user_version = ${SCHEMA_VERSION}`);
    })();
  }
  // FULL: a page is acknowledged to Mixpanel only after its commit, and Mixpanel never resends an acknowledged page.
  db.pragma('synchronous = FULL');

  const sql = {
    session: db.prepare<[string, string, string, string], { record: string }>(`SELECT record FROM sync_sessions WHERE ${SESSION_WHERE}`),
    putSession: db.prepare(
      `INSERT INTO sync_sessions (project_id, cohort_id, session_id, kind, record, updated_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT DO UPDATE SET record = excluded.record, updated_at = excluded.updated_at`,
    ),
    shadowOf: db.prepare<[string, string, string, string], { generation: string }>(`SELECT generation FROM sync_shadows WHERE ${SESSION_WHERE}`),
    putShadow: db.prepare('INSERT INTO sync_shadows (project_id, cohort_id, session_id, kind, generation) VALUES (?, ?, ?, ?, ?)'),
    dropShadow: db.prepare(`DELETE FROM sync_shadows WHERE ${SESSION_WHERE}`),
    dropGeneration: db.prepare('INSERT OR IGNORE INTO dropped_generations (project_id, cohort_id, generation) VALUES (?, ?, ?)'),
    liveGeneration: db.prepare<[string, string], { generation: string }>(`SELECT ${LIVE} AS generation`),
    setLive: db.prepare('INSERT OR REPLACE INTO cohort_generations (project_id, cohort_id, generation) VALUES (?, ?, ?)'),
    shadowCount: db.prepare<[string, string, string], { n: number }>(
      'SELECT COUNT(*) AS n FROM cohort_members WHERE project_id = ? AND cohort_id = ? AND generation = ?',
    ),
    rankRange: db.prepare<[string, string, string, number, number], { distinct_id: string; member: string }>(
      'SELECT distinct_id, member FROM cohort_members WHERE project_id = ? AND cohort_id = ? AND generation = ? AND page >= ? AND page < ? ORDER BY page',
    ),
    generationAfter: db.prepare<[string, string, string, string, number], { distinct_id: string; member: string }>(
      'SELECT distinct_id, member FROM cohort_members WHERE project_id = ? AND cohort_id = ? AND generation = ? AND distinct_id > ? ORDER BY distinct_id LIMIT ?',
    ),
    inGeneration: db.prepare<[string, string, string, string], { one: number }>(
      'SELECT 1 AS one FROM cohort_members WHERE project_id = ? AND cohort_id = ? AND generation = ? AND distinct_id = ?',
    ),
    publication: db.prepare<[string, string, string, string], { replaced_generation: string; generation: string }>(
      `SELECT replaced_generation, generation FROM sync_publications WHERE ${SESSION_WHERE}`,
    ),
    putPublication: db.prepare(
      `INSERT OR REPLACE INTO sync_publications (project_id, cohort_id, session_id, kind, replaced_generation, generation, completed_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ),
    dropPublication: db.prepare(`DELETE FROM sync_publications WHERE ${SESSION_WHERE}`),
    publications: db.prepare<[number], { project_id: string; cohort_id: string; session_id: string; kind: string }>(
      'SELECT project_id, cohort_id, session_id, kind FROM sync_publications WHERE completed_at < ?',
    ),
    pageOf: db.prepare<[string, string, string, string], { page: number }>(
      'SELECT page FROM cohort_members WHERE project_id = ? AND cohort_id = ? AND generation = ? AND distinct_id = ?',
    ),
    state: db.prepare<[string, string], StateRow>('SELECT * FROM cohort_sync_state WHERE project_id = ? AND cohort_id = ?'),
    states: db.prepare<[string], StateRow>('SELECT * FROM cohort_sync_state WHERE project_id = ? ORDER BY cohort_id'),
    putState: db.prepare(
      `INSERT OR REPLACE INTO cohort_sync_state (project_id, cohort_id, cohort_name, last_sync_at, session_id, member_count)
       VALUES (?, ?, ?, ?, ?, ?)`,
    ),
    // One bound id per lookup: better-sqlite3 binds text as V8 writes UTF-8, exactly as the ids were stored.
    present: db.prepare<[string, string, string, string, string], { distinct_id: string }>(
      `SELECT distinct_id FROM cohort_members WHERE project_id = ? AND cohort_id = ? AND generation = ${LIVE} AND distinct_id = ?`,
    ),
    membersPage: db.prepare<[string, string, string, string, string, number], { member: string }>(
      `SELECT member FROM cohort_members WHERE project_id = ? AND cohort_id = ? AND generation = ${LIVE}
       AND distinct_id > ? ORDER BY distinct_id LIMIT ?`,
    ),
    upsertMember: db.prepare(`INSERT OR REPLACE INTO cohort_members (project_id, cohort_id, generation, distinct_id, member, page) VALUES (?, ?, ?, ?, ?, ?)`),
    removeMember: db.prepare('DELETE FROM cohort_members WHERE project_id = ? AND cohort_id = ? AND generation = ? AND distinct_id = ?'),
    cohortsOf: db.prepare<[string, string], { cohort_id: string }>(
      `SELECT m.cohort_id FROM cohort_members m
       JOIN cohort_sync_state s ON s.project_id = m.project_id AND s.cohort_id = m.cohort_id
       LEFT JOIN cohort_generations g ON g.project_id = m.project_id AND g.cohort_id = m.cohort_id
       WHERE m.project_id = ? AND m.distinct_id = ? AND m.generation = COALESCE(g.generation, '') ORDER BY m.cohort_id`,
    ),
    expired: db.prepare<[number], { project_id: string; cohort_id: string; session_id: string; kind: string; record: string }>(
      'SELECT project_id, cohort_id, session_id, kind, record FROM sync_sessions WHERE updated_at < ?',
    ),
    dropSession: db.prepare(`DELETE FROM sync_sessions WHERE ${SESSION_WHERE}`),
    nextDropped: db.prepare<[], { project_id: string; cohort_id: string; generation: string }>(
      'SELECT project_id, cohort_id, generation FROM dropped_generations LIMIT 1',
    ),
    deleteBatch: db.prepare(
      `DELETE FROM cohort_members WHERE project_id = ? AND cohort_id = ? AND generation = ? AND distinct_id IN
       (SELECT distinct_id FROM cohort_members WHERE project_id = ? AND cohort_id = ? AND generation = ? LIMIT ?)`,
    ),
    forgetDropped: db.prepare('DELETE FROM dropped_generations WHERE project_id = ? AND cohort_id = ? AND generation = ?'),
  };

  const keyArgs = (key: SessionKey) => [key.projectId, key.cohortId, key.sessionId, key.kind] as const;
  const shadowGeneration = (key: SessionKey): string | undefined => sql.shadowOf.get(...keyArgs(key))?.generation;
  const live = (projectId: string, cohortId: string) => [projectId, cohortId, projectId, cohortId] as const;

  const reader: SyncReader = {
    session: async (key) => {
      const row = sql.session.get(...keyArgs(key));
      return row ? (JSON.parse(row.record) as SessionRecord) : undefined;
    },
    syncState: async (projectId, cohortId) => stateOf(sql.state.get(projectId, cohortId)),
    presentMembers: async (projectId, cohortId, distinctIds) =>
      new Set(distinctIds.filter((id) => sql.present.get(...live(projectId, cohortId), id) !== undefined)),
    shadowPageOf: async (key, distinctIds) => {
      const held = new Map<string, number>();
      const generation = shadowGeneration(key);
      if (generation === undefined) return held;
      for (const id of distinctIds) {
        const row = sql.pageOf.get(key.projectId, key.cohortId, generation, id);
        if (row) held.set(id, pageOfRank(row.page));
      }
      return held;
    },
    shadowCount: async (key) => {
      const generation = shadowGeneration(key);
      return generation === undefined ? 0 : sql.shadowCount.get(key.projectId, key.cohortId, generation)!.n;
    },
  };

  const publicationOf = (key: SessionKey) => sql.publication.get(...keyArgs(key));
  const releasePublication = db.transaction((key: SessionKey) => {
    const publication = publicationOf(key);
    if (!publication) return;
    sql.dropGeneration.run(key.projectId, key.cohortId, publication.replaced_generation);
    sql.dropPublication.run(...keyArgs(key));
  });

  const dropShadowOf = (key: SessionKey) => {
    const generation = shadowGeneration(key);
    if (generation === undefined) return;
    sql.dropGeneration.run(key.projectId, key.cohortId, generation);
    sql.dropShadow.run(...keyArgs(key));
  };

  const execute = (write: SyncWrite): void => {
    switch (write.op) {
      case 'putSession':
        if (write.restart) dropShadowOf(write.key);
        sql.putSession.run(...keyArgs(write.key), JSON.stringify(write.record), write.record.updatedAt);
        return;
      case 'stagePage': {
        let generation = shadowGeneration(write.key);
        if (generation === undefined) {
          generation = randomUUID();
          sql.putShadow.run(...keyArgs(write.key), generation);
        }
        write.members.forEach((m, index) => {
          sql.upsertMember.run(write.key.projectId, write.key.cohortId, generation, m.distinctId, JSON.stringify(m), rankOf(write.page, index));
        });
        return;
      }
      case 'dropStaged':
        dropShadowOf(write.key);
        return;
      case 'swapInShadow': {
        const { projectId, cohortId } = write.key;
        const previous = sql.liveGeneration.get(projectId, cohortId)!.generation;
        const next = shadowGeneration(write.key) ?? randomUUID();
        // Kept for the completion changes; dropped once they are read (`completionRelease`).
        sql.putPublication.run(...keyArgs(write.key), previous, next, write.at);
        sql.setLive.run(projectId, cohortId, next);
        sql.dropShadow.run(...keyArgs(write.key));
        return;
      }
      case 'upsertMembers': {
        const generation = sql.liveGeneration.get(write.projectId, write.cohortId)!.generation;
        for (const m of write.members) sql.upsertMember.run(write.projectId, write.cohortId, generation, m.distinctId, JSON.stringify(m), null);
        return;
      }
      case 'removeMembers': {
        const generation = sql.liveGeneration.get(write.projectId, write.cohortId)!.generation;
        for (const id of write.distinctIds) sql.removeMember.run(write.projectId, write.cohortId, generation, id);
        return;
      }
      case 'putSyncState': {
        const s = write.state;
        sql.putState.run(s.projectId, s.cohortId, s.cohortName, s.lastSyncAt, s.sessionId, s.memberCount);
        return;
      }
    }
  };
  const commit = db.transaction((writes: readonly SyncWrite[]) => writes.forEach(execute));

  const expire = db.transaction((olderThan: number) => {
    let abandoned = 0;
    for (const row of sql.expired.all(olderThan)) {
      const key: SessionKey = { projectId: row.project_id, cohortId: row.cohort_id, sessionId: row.session_id, kind: row.kind as SessionKey['kind'] };
      if ((JSON.parse(row.record) as SessionRecord).completedAt === undefined) abandoned++;
      dropShadowOf(key);
      sql.dropSession.run(...keyArgs(key));
    }
    // A completion stream nobody read to its end.
    for (const row of sql.publications.all(olderThan)) {
      releasePublication({ projectId: row.project_id, cohortId: row.cohort_id, sessionId: row.session_id, kind: row.kind as SessionKey['kind'] });
    }
    return abandoned;
  });

  if (options.prepareSchema ?? true) {
    // Publications a stopped process left unfinished: their events are gone with it (delivery is at most
    // once), the swapped-in membership stays, the replaced one goes.
    for (const row of sql.publications.all(Number.MAX_SAFE_INTEGER)) {
      releasePublication({ projectId: row.project_id, cohortId: row.cohort_id, sessionId: row.session_id, kind: row.kind as SessionKey['kind'] });
    }
  }

  const collect = db.transaction((batch: number): boolean => {
    const dropped = sql.nextDropped.get();
    if (!dropped) return false;
    const generation = [dropped.project_id, dropped.cohort_id, dropped.generation] as const;
    const { changes } = sql.deleteBatch.run(...generation, ...generation, batch);
    if (changes < batch) sql.forgetDropped.run(dropped.project_id, dropped.cohort_id, dropped.generation);
    return true;
  });

  return {
    async applyPage(page, now) {
      // The planner's reads run on this connection outside the write transaction; the worker runs one page at a time.
      const plan = await planPage(page, now, reader);
      commit(plan.writes);
      return plan.completes ? { ...plan.result, completes: plan.completes } : plan.result;
    },
    completionReplaced(key, afterDistinctId, limit) {
      const publication = publicationOf(key);
      if (!publication) return { left: [], last: undefined };
      const rows = sql.generationAfter.all(key.projectId, key.cohortId, publication.replaced_generation, afterDistinctId, limit);
      const left = rows
        .filter((row) => sql.inGeneration.get(key.projectId, key.cohortId, publication.generation, row.distinct_id) === undefined)
        .map((row) => JSON.parse(row.member) as CohortMember);
      return { left, last: rows.length < limit ? undefined : rows.at(-1)?.distinct_id };
    },
    completionPage(key, n, joinedOnly) {
      const publication = publicationOf(key);
      if (!publication) return [];
      const rows = sql.rankRange.all(key.projectId, key.cohortId, publication.generation, rankOf(n, 0), rankOf(n + 1, 0));
      const kept = joinedOnly
        ? rows.filter((row) => sql.inGeneration.get(key.projectId, key.cohortId, publication.replaced_generation, row.distinct_id) === undefined)
        : rows;
      return kept.map((row) => JSON.parse(row.member) as CohortMember);
    },
    completionRelease(key) {
      releasePublication(key);
    },
    members(projectId, cohortId, { first, afterDistinctId }) {
      checkPageSize(first);
      // '' sorts before every other string, and distinct ids are never empty.
      return sql.membersPage.all(...live(projectId, cohortId), afterDistinctId ?? '', first).map((r) => JSON.parse(r.member) as CohortMember);
    },
    cohortsOf(projectId, distinctIds) {
      const result = new Map<string, string[]>(distinctIds.map((id) => [id, []]));
      for (const id of result.keys())
        result.set(
          id,
          sql.cohortsOf.all(projectId, wellFormed(id)).map((r) => r.cohort_id),
        );
      return result;
    },
    syncState: (projectId, cohortId) => stateOf(sql.state.get(projectId, cohortId)),
    syncedCohorts: (projectId) => sql.states.all(projectId).map((row) => stateOf(row)!),
    expireSessions: (olderThan) => expire(olderThan),
    collectGarbage: (batch = 2000) => collect(batch),
    close() {
      if (db.open) db.close();
    },
  };
}

function stateOf(row: StateRow | undefined): CohortSyncState | undefined {
  return (
    row && {
      projectId: row.project_id,
      cohortId: row.cohort_id,
      cohortName: row.cohort_name,
      lastSyncAt: row.last_sync_at,
      sessionId: row.session_id,
      memberCount: row.member_count,
    }
  );
}
