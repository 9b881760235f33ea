/**
 * Embedded membership store on one SQLite file (better-sqlite3, WAL). Each
 * page's writes commit in one transaction, and staged full-sync pages and
 * seen page numbers live in the file too, so a process killed mid-sync
 * resumes where it stopped and never exposes half a replacement. One process
 * owns the file; several gateway instances share state through Redis instead.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { checkPageSize, createSerialQueue, planPage, type SessionKey, type SessionRecord, type SyncReader, type SyncWrite } from './apply.js';
import type { CohortMember, CohortSyncState, MembershipStore } from './types.js';

export interface SqliteMembershipStoreOptions {
  /** Database file; its directory is created if missing. `:memory:` works for throwaway use. */
  readonly path: string;
}

const SCHEMA_VERSION = 1;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS cohort_members (
  project_id TEXT NOT NULL, cohort_id TEXT NOT NULL, distinct_id TEXT NOT NULL, member TEXT NOT NULL,
  PRIMARY KEY (project_id, cohort_id, distinct_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS cohort_members_by_profile ON cohort_members (project_id, distinct_id);
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
CREATE TABLE IF NOT EXISTS staged_pages (
  project_id TEXT NOT NULL, cohort_id TEXT NOT NULL, session_id TEXT NOT NULL, kind TEXT NOT NULL,
  page INTEGER NOT NULL, members TEXT NOT NULL,
  PRIMARY KEY (project_id, cohort_id, session_id, kind, page)
) WITHOUT ROWID;
`;

const SESSION_WHERE = 'project_id = ? AND cohort_id = ? AND session_id = ? AND kind = ?';

interface StateRow {
  project_id: string;
  cohort_id: string;
  cohort_name: string;
  last_sync_at: number;
  session_id: string;
  member_count: number;
}

export function createSqliteMembershipStore(options: SqliteMembershipStoreOptions): MembershipStore {
  if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
  const db = new Database(options.path);
  db.pragma('journal_mode = WAL');
  // FULL: a page is acknowledged to Mixpanel only after its commit, and Mixpanel never resends an acknowledged page.
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 5000');
  db.exec(SCHEMA);
  db.pragma(`user_version = ${SCHEMA_VERSION}`);

  const sql = {
    session: db.prepare<[string, string, string, string], { record: string }>(`SELECT record FROM sync_sessions WHERE ${SESSION_WHERE}`),
    putSession: db.prepare(
      `INSERT INTO sync_sessions (project_id, cohort_id, session_id, kind, record, updated_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT DO UPDATE SET record = excluded.record, updated_at = excluded.updated_at`,
    ),
    stagedPages: db.prepare<[string, string, string, string], { page: number; members: string }>(
      `SELECT page, members FROM staged_pages WHERE ${SESSION_WHERE}`,
    ),
    stagePage: db.prepare('INSERT OR REPLACE INTO staged_pages (project_id, cohort_id, session_id, kind, page, members) VALUES (?, ?, ?, ?, ?, ?)'),
    dropStaged: db.prepare(`DELETE FROM staged_pages WHERE ${SESSION_WHERE}`),
    state: db.prepare<[string, string], StateRow>('SELECT * FROM cohort_sync_state WHERE project_id = ? AND cohort_id = ?'),
    states: db.prepare<[string], StateRow>('SELECT * FROM cohort_sync_state WHERE project_id = ? ORDER BY cohort_id'),
    putState: db.prepare(
      `INSERT OR REPLACE INTO cohort_sync_state (project_id, cohort_id, cohort_name, last_sync_at, session_id, member_count)
       VALUES (?, ?, ?, ?, ?, ?)`,
    ),
    present: db.prepare<[string, string, string], { distinct_id: string }>(
      'SELECT distinct_id FROM cohort_members WHERE project_id = ? AND cohort_id = ? AND distinct_id IN (SELECT value FROM json_each(?))',
    ),
    allMembers: db.prepare<[string, string], { member: string }>('SELECT member FROM cohort_members WHERE project_id = ? AND cohort_id = ?'),
    membersPage: db.prepare<[string, string, string, number], { member: string }>(
      'SELECT member FROM cohort_members WHERE project_id = ? AND cohort_id = ? AND distinct_id > ? ORDER BY distinct_id LIMIT ?',
    ),
    upsertMember: db.prepare('INSERT OR REPLACE INTO cohort_members (project_id, cohort_id, distinct_id, member) VALUES (?, ?, ?, ?)'),
    removeMember: db.prepare('DELETE FROM cohort_members WHERE project_id = ? AND cohort_id = ? AND distinct_id = ?'),
    clearCohort: db.prepare('DELETE FROM cohort_members WHERE project_id = ? AND cohort_id = ?'),
    cohortsOf: db.prepare<[string, string], { distinct_id: string; cohort_id: string }>(
      `SELECT m.distinct_id, m.cohort_id FROM cohort_members m
       JOIN cohort_sync_state s ON s.project_id = m.project_id AND s.cohort_id = m.cohort_id
       WHERE m.project_id = ? AND m.distinct_id IN (SELECT value FROM json_each(?)) ORDER BY m.cohort_id`,
    ),
    expired: db.prepare<[number], { project_id: string; cohort_id: string; session_id: string; kind: string; record: string }>(
      'SELECT project_id, cohort_id, session_id, kind, record FROM sync_sessions WHERE updated_at < ?',
    ),
    dropSession: db.prepare(`DELETE FROM sync_sessions WHERE ${SESSION_WHERE}`),
  };

  const keyArgs = (key: SessionKey) => [key.projectId, key.cohortId, key.sessionId, key.kind] as const;

  const reader: SyncReader = {
    session: async (key) => {
      const row = sql.session.get(...keyArgs(key));
      return row ? (JSON.parse(row.record) as SessionRecord) : undefined;
    },
    syncState: async (projectId, cohortId) => stateOf(sql.state.get(projectId, cohortId)),
    presentMembers: async (projectId, cohortId, distinctIds) =>
      new Set(sql.present.all(projectId, cohortId, JSON.stringify(distinctIds)).map((r) => r.distinct_id)),
    stagedPages: async (key) =>
      new Map(sql.stagedPages.all(...keyArgs(key)).map((r) => [r.page, JSON.parse(r.members) as CohortMember[]])),
    allMembers: async (projectId, cohortId) => sql.allMembers.all(projectId, cohortId).map((r) => JSON.parse(r.member) as CohortMember),
  };

  const execute = (write: SyncWrite): void => {
    switch (write.op) {
      case 'putSession':
        if (write.restart) sql.dropStaged.run(...keyArgs(write.key));
        sql.putSession.run(...keyArgs(write.key), JSON.stringify(write.record), write.record.updatedAt);
        return;
      case 'stagePage':
        sql.stagePage.run(...keyArgs(write.key), write.page, JSON.stringify(write.members));
        return;
      case 'dropStaged':
        sql.dropStaged.run(...keyArgs(write.key));
        return;
      case 'replaceMembers':
        sql.clearCohort.run(write.projectId, write.cohortId);
        for (const m of write.members) sql.upsertMember.run(write.projectId, write.cohortId, m.distinctId, JSON.stringify(m));
        return;
      case 'upsertMembers':
        for (const m of write.members) sql.upsertMember.run(write.projectId, write.cohortId, m.distinctId, JSON.stringify(m));
        return;
      case 'removeMembers':
        for (const id of write.distinctIds) sql.removeMember.run(write.projectId, write.cohortId, id);
        return;
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
      const key = [row.project_id, row.cohort_id, row.session_id, row.kind] as const;
      if ((JSON.parse(row.record) as SessionRecord).completedAt === undefined) abandoned++;
      sql.dropStaged.run(...key);
      sql.dropSession.run(...key);
    }
    return abandoned;
  });

  // Reads happen outside the write transaction; the queue keeps this process's pages from interleaving.
  const serial = createSerialQueue();

  return {
    applyPage: (page, now) =>
      serial(async () => {
        const plan = await planPage(page, now, reader);
        commit(plan.writes);
        return plan.result;
      }),

    async members(projectId, cohortId, { first, afterDistinctId }) {
      checkPageSize(first);
      // '' sorts before every other string, and distinct ids are never empty.
      return sql.membersPage.all(projectId, cohortId, afterDistinctId ?? '', first).map((r) => JSON.parse(r.member) as CohortMember);
    },

    async cohortsOf(projectId, distinctIds) {
      const result = new Map<string, string[]>(distinctIds.map((id) => [id, []]));
      for (const row of sql.cohortsOf.all(projectId, JSON.stringify(distinctIds))) result.get(row.distinct_id)?.push(row.cohort_id);
      return result;
    },

    syncState: async (projectId, cohortId) => stateOf(sql.state.get(projectId, cohortId)),

    syncedCohorts: async (projectId) => sql.states.all(projectId).map((row) => stateOf(row)!),

    expireSessions: (olderThan) => serial(async () => expire(olderThan)),

    close: () =>
      serial(async () => {
        if (db.open) db.close();
      }),
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
