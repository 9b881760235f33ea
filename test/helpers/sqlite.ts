/**
 * Reads a membership SQLite file from outside the store, as an operator would:
 * what the store keeps on disk, not what it answers.
 */
import Database from 'better-sqlite3';

/** Rows of cohort_members in the file now (every generation). */
export function cohortMemberRows(sqlitePath: string): number {
  const db = new Database(sqlitePath, { readonly: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM cohort_members').get() as { n: number }).n;
  } finally {
    db.close();
  }
}
