/**
 * In-process membership store: for tests, the demo and a single instance that
 * may forget everything on restart. Writes of one page apply synchronously,
 * so they are atomic for every reader in the process.
 */
import {
  checkPageSize,
  compareDistinctIds,
  completionChanges,
  createSerialQueue,
  planPage,
  type CompletionReader,
  type SessionKey,
  type SessionRecord,
  type SyncReader,
  type SyncWrite,
  pageOfRank,
  rankOf,
  wellFormed,
} from './apply.js';
import type { CohortMember, CohortSyncState, MembershipStore } from './types.js';

interface StoredSession {
  readonly key: SessionKey;
  record: SessionRecord;
  /** The full sync's shadow set: distinct id -> member, and its rank (`rankOf`: the page listing it first). */
  shadow: Map<string, CohortMember>;
  shadowPage: Map<string, number>;
  /** Members as each page put them, in order; one that moved to a lower page is skipped on reading. */
  byPage: Map<number, CohortMember[]>;
}

/** A swapped-in full sync whose completion changes are being read: the replaced membership and the new one. */
interface Publication {
  readonly replaced: Map<string, CohortMember>;
  readonly next: Map<string, CohortMember>;
  readonly ranks: Map<string, number>;
  readonly byPage: Map<number, CohortMember[]>;
  readonly at: number;
}

export function createMemoryMembershipStore(): MembershipStore {
  const members = new Map<string, Map<string, CohortMember>>(); // cohort key -> distinct id -> member
  const states = new Map<string, CohortSyncState>(); // cohort key -> state
  const sessions = new Map<string, StoredSession>(); // session key -> session
  const serial = createSerialQueue();

  const cohortMembers = (projectId: string, cohortId: string) => members.get(cohortKey(projectId, cohortId));

  const reader: SyncReader = {
    session: async (key) => sessions.get(sessionKey(key))?.record,
    syncState: async (projectId, cohortId) => states.get(cohortKey(projectId, cohortId)),
    presentMembers: async (projectId, cohortId, distinctIds) => {
      const current = cohortMembers(projectId, cohortId);
      return new Set(distinctIds.filter((id) => current?.has(id)));
    },
    shadowPageOf: async (key, distinctIds) => {
      const session = sessions.get(sessionKey(key));
      const held = new Map<string, number>();
      for (const id of distinctIds) {
        const rank = session?.shadowPage.get(id);
        if (rank !== undefined) held.set(id, pageOfRank(rank));
      }
      return held;
    },
    shadowCount: async (key) => sessions.get(sessionKey(key))?.shadow.size ?? 0,
  };

  /** Completed full syncs whose completion changes are still to be read, by session key. */
  const publications = new Map<string, Publication>();

  const completionReader = (key: SessionKey): CompletionReader => {
    const id = sessionKey(key);
    const publication = () => publications.get(id);
    const replaced = publication()?.replaced.values();
    const pageMembers = (n: number) => {
      const p = publication();
      return (p?.byPage.get(n) ?? []).filter((m) => pageOfRank(p!.ranks.get(m.distinctId)!) === n && p!.next.has(m.distinctId));
    };
    return {
      nextReplaced: async (limit) => {
        const left: CohortMember[] = [];
        const next = publication()?.next;
        for (let i = 0; i < limit; i++) {
          const step = replaced?.next();
          if (!step || step.done) return { left, done: true };
          if (!next?.has(step.value.distinctId)) left.push(step.value);
        }
        return { left, done: false };
      },
      page: async (n) => pageMembers(n),
      joinedOnPage: async (n) => pageMembers(n).filter((m) => !publication()?.replaced.has(m.distinctId)),
      release: async () => void publications.delete(id),
    };
  };

  const mutableMembers = (projectId: string, cohortId: string) => {
    const key = cohortKey(projectId, cohortId);
    let current = members.get(key);
    if (!current) {
      current = new Map();
      members.set(key, current);
    }
    return current;
  };

  const execute = (write: SyncWrite): void => {
    switch (write.op) {
      case 'putSession': {
        const id = sessionKey(write.key);
        const existing = sessions.get(id);
        if (existing && !write.restart) existing.record = write.record;
        else sessions.set(id, { key: write.key, record: write.record, ...emptyShadow() });
        return;
      }
      case 'stagePage': {
        const session = sessions.get(sessionKey(write.key));
        if (!session) return;
        write.members.forEach((member, index) => {
          session.shadow.set(member.distinctId, member);
          session.shadowPage.set(member.distinctId, rankOf(write.page, index));
        });
        session.byPage.set(write.page, [...(session.byPage.get(write.page) ?? []), ...write.members]);
        return;
      }
      case 'dropStaged': {
        const session = sessions.get(sessionKey(write.key));
        if (session) Object.assign(session, emptyShadow());
        return;
      }
      case 'swapInShadow': {
        // The shadow map becomes the membership as is: constant time. The old map is kept for the completion
        // changes, then left to the garbage collector.
        const session = sessions.get(sessionKey(write.key));
        const cohort = cohortKey(write.key.projectId, write.key.cohortId);
        const next = session?.shadow ?? new Map<string, CohortMember>();
        publications.set(sessionKey(write.key), {
          replaced: members.get(cohort) ?? new Map(),
          next,
          ranks: session?.shadowPage ?? new Map(),
          byPage: session?.byPage ?? new Map(),
          at: write.at,
        });
        members.set(cohort, next);
        if (session) Object.assign(session, emptyShadow());
        return;
      }
      case 'upsertMembers': {
        const current = mutableMembers(write.projectId, write.cohortId);
        for (const member of write.members) current.set(member.distinctId, member);
        return;
      }
      case 'removeMembers': {
        const current = mutableMembers(write.projectId, write.cohortId);
        for (const id of write.distinctIds) current.delete(id);
        return;
      }
      case 'putSyncState':
        states.set(cohortKey(write.state.projectId, write.state.cohortId), write.state);
        return;
    }
  };

  return {
    applyPage: (page, now) =>
      serial(async () => {
        const plan = await planPage(page, now, reader);
        plan.writes.forEach(execute);
        return plan.completes ? { ...plan.result, completion: completionChanges(plan.completes, completionReader(plan.completes.key)) } : plan.result;
      }),

    async members(projectId, cohortId, { first, afterDistinctId }) {
      checkPageSize(first);
      const current = cohortMembers(projectId, cohortId);
      if (!current) return [];
      const ids = [...current.keys()]
        .filter((id) => afterDistinctId === undefined || compareDistinctIds(id, afterDistinctId) > 0)
        .sort(compareDistinctIds)
        .slice(0, first);
      return ids.map((id) => current.get(id)!);
    },

    async cohortsOf(projectId, distinctIds) {
      const result = new Map<string, string[]>(distinctIds.map((id) => [id, []]));
      const cohortIds = [...states.values()]
        .filter((s) => s.projectId === projectId)
        .map((s) => s.cohortId)
        .sort(compareDistinctIds);
      for (const cohortId of cohortIds) {
        const current = cohortMembers(projectId, cohortId);
        for (const [id, cohorts] of result) if (current?.has(wellFormed(id))) cohorts.push(cohortId);
      }
      return result;
    },

    syncState: async (projectId, cohortId) => states.get(cohortKey(projectId, cohortId)),

    syncedCohorts: async (projectId) =>
      [...states.values()].filter((s) => s.projectId === projectId).sort((a, b) => compareDistinctIds(a.cohortId, b.cohortId)),

    expireSessions: (olderThan) =>
      serial(async () => {
        let abandoned = 0;
        for (const [id, session] of sessions) {
          if (session.record.updatedAt >= olderThan) continue;
          if (session.record.completedAt === undefined) abandoned++;
          sessions.delete(id);
        }
        // A completion stream nobody read to its end.
        for (const [id, publication] of publications) if (publication.at < olderThan) publications.delete(id);
        return abandoned;
      }),

    async close() {},
  };
}

const emptyShadow = () => ({ shadow: new Map<string, CohortMember>(), shadowPage: new Map<string, number>(), byPage: new Map<number, CohortMember[]>() });
const cohortKey = (projectId: string, cohortId: string) => JSON.stringify([projectId, cohortId]);
const sessionKey = (key: SessionKey) => JSON.stringify([key.projectId, key.cohortId, key.sessionId, key.kind]);
