/**
 * Membership store on Redis, shared by every gateway instance. A page is
 * applied with optimistic locking: WATCH the keys it reads, read, then write
 * everything in one MULTI/EXEC; if another instance touched those keys first
 * the EXEC is refused and the page is planned again. WATCH state belongs to a
 * connection, so the store runs its transactions on a connection of its own
 * (a duplicate of the one given) and one at a time.
 *
 * Keys (ids URI-encoded, so ':' in an id cannot collide), under `keyPrefix`:
 *   ids:{p}:{c}        sorted set, score 0: member distinct ids (lex order = keyset paging)
 *   member:{p}:{c}     hash distinct id -> member JSON
 *   state:{p}:{c}      CohortSyncState JSON
 *   cohorts:{p}        set of synced cohort ids
 *   session:{p}:{c}:{s}:{kind}  SessionRecord JSON
 *   shadow-ids:{p}:{c}:{s}:{kind}     a full sync's shadow set: like ids:, filled page by page
 *   shadow-member:{p}:{c}:{s}:{kind}  like member:, for the shadow set
 *   shadow-page:{p}:{c}:{s}:{kind}    hash distinct id -> its rank (apply.ts rankOf: the page listing it first)
 *   shadow-rank:{p}:{c}:{s}:{kind}    sorted set, score the rank: the shadow set page by page
 *   replaced-ids:{p}:{c}:{s}:{kind}, replaced-member:{p}:{c}:{s}:{kind}
 *                      the membership a completed full sync replaced, while its completion changes are read
 *   sessions           sorted set, score updatedAt: session keys, for expiry
 * The last page of a full sync RENAMEs ids: and member: aside (replaced-*),
 * then the shadow keys onto them, so the swap takes constant time whatever the
 * cohort's size. Its completion changes are then read in batches (ZRANGEBYLEX
 * over replaced-ids, ZRANGEBYSCORE over shadow-rank, ZMSCORE against the
 * other set) and the replaced keys UNLINKed (Redis frees them in the
 * background); they expire after PUBLICATION_TTL_MS if nobody reads them.
 * A transaction spans several keys, so Redis Cluster is not supported.
 */
import type { ChainableCommander, Redis } from 'ioredis';
import {
  checkPageSize,
  compareDistinctIds,
  completionChanges,
  createSerialQueue,
  pageOfRank,
  planPage,
  rankOf,
  type CompletionReader,
  type SessionKey,
  type SessionRecord,
  type SyncReader,
  type SyncWrite,
} from './apply.js';
import type { CohortMember, CohortSyncState, MembershipStore } from './types.js';

export interface RedisMembershipStoreOptions {
  /** Connection used for reads; the store duplicates it for its transactions and never closes it. */
  readonly redis: Redis;
  /** Prefix of every key; default `mpgw:cohorts:`. */
  readonly keyPrefix?: string;
  /** How many times a page is planned again after another instance wrote the same keys; default 10. */
  readonly maxConflictRetries?: number;
  /** Longest a command of a page's transaction may take on the store's own connection; default 30000 ms. */
  readonly transactionTimeoutMs?: number;
}

/** Another writer kept changing the keys a page needs; the caller should retry later. */
export class MembershipConflictError extends Error {
  readonly code = 'MEMBERSHIP_CONFLICT';
  constructor(attempts: number) {
    super(`Cohort membership kept changing under ${attempts} attempts to apply a page`);
    this.name = 'MembershipConflictError';
  }
}

/** Keeps variadic commands to a sane size on million-member cohorts. */
const ARGS_PER_COMMAND = 1000;

/** How long a replaced membership waits for its completion changes to be read (a process that stopped mid-way). */
export const PUBLICATION_TTL_MS = 6 * 60 * 60 * 1000;

/** RENAME that does nothing when the source is missing (a cohort's first full sync has no membership to set aside). */
const RENAME_IF_EXISTS = "if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('RENAME', KEYS[1], KEYS[2]) end return 0";

export function createRedisMembershipStore(options: RedisMembershipStoreOptions): MembershipStore {
  const { redis } = options;
  const prefix = options.keyPrefix ?? 'mpgw:cohorts:';
  const maxRetries = options.maxConflictRetries ?? 10;
  // A page's transaction and the last page's reads of a big shadow set may take longer than the short timeout the
  // gateway gives ordinary commands; a bounded but generous one keeps a hung Redis from holding pages forever.
  const tx = redis.duplicate({ commandTimeout: options.transactionTimeoutMs ?? 30_000 });
  // Connection errors reach the caller as rejected commands; without a listener ioredis would also print each one.
  tx.on('error', () => undefined);
  const serial = createSerialQueue();

  const k = (...parts: string[]) => prefix + parts.map(encodeURIComponent).join(':');
  const keys = {
    ids: (p: string, c: string) => k('ids', p, c),
    member: (p: string, c: string) => k('member', p, c),
    state: (p: string, c: string) => k('state', p, c),
    cohorts: (p: string) => k('cohorts', p),
    session: (s: SessionKey) => k('session', s.projectId, s.cohortId, s.sessionId, s.kind),
    shadowIds: (s: SessionKey) => k('shadow-ids', s.projectId, s.cohortId, s.sessionId, s.kind),
    shadowMember: (s: SessionKey) => k('shadow-member', s.projectId, s.cohortId, s.sessionId, s.kind),
    shadowPage: (s: SessionKey) => k('shadow-page', s.projectId, s.cohortId, s.sessionId, s.kind),
    shadowRank: (s: SessionKey) => k('shadow-rank', s.projectId, s.cohortId, s.sessionId, s.kind),
    replacedIds: (s: SessionKey) => k('replaced-ids', s.projectId, s.cohortId, s.sessionId, s.kind),
    replacedMember: (s: SessionKey) => k('replaced-member', s.projectId, s.cohortId, s.sessionId, s.kind),
    sessions: `${prefix}sessions`,
  };
  const sessionMember = (s: SessionKey) => JSON.stringify([s.projectId, s.cohortId, s.sessionId, s.kind]);
  const shadowKeys = (s: SessionKey) => [keys.shadowIds(s), keys.shadowMember(s), keys.shadowPage(s), keys.shadowRank(s)];
  const replacedKeys = (s: SessionKey) => [keys.replacedIds(s), keys.replacedMember(s), keys.shadowRank(s)];

  /** Reads on the transaction connection, WATCHing each key before its first read. */
  const watchingReader = (): SyncReader => {
    const watched = new Set<string>();
    const watch = async (...names: string[]) => {
      const fresh = names.filter((name) => !watched.has(name));
      for (const name of fresh) watched.add(name);
      if (fresh.length > 0) await tx.watch(...fresh);
    };
    return {
      async session(key) {
        await watch(keys.session(key));
        const json = await tx.get(keys.session(key));
        return json === null ? undefined : (JSON.parse(json) as SessionRecord);
      },
      async syncState(p, c) {
        await watch(keys.state(p, c));
        return parseState(await tx.get(keys.state(p, c)));
      },
      async presentMembers(p, c, distinctIds) {
        await watch(keys.ids(p, c));
        if (distinctIds.length === 0) return new Set();
        const scores = await tx.zmscore(keys.ids(p, c), ...distinctIds);
        return new Set(distinctIds.filter((_, i) => scores[i] !== null));
      },
      async shadowPageOf(key, distinctIds) {
        await watch(keys.shadowPage(key));
        const held = new Map<string, number>();
        if (distinctIds.length === 0) return held;
        const pages = await tx.hmget(keys.shadowPage(key), ...distinctIds);
        distinctIds.forEach((id, i) => {
          const page = pages[i];
          if (page !== null && page !== undefined) held.set(id, pageOfRank(Number(page)));
        });
        return held;
      },
      async shadowCount(key) {
        await watch(keys.shadowIds(key));
        return tx.zcard(keys.shadowIds(key));
      },
    };
  };

  const queue = (multi: ChainableCommander, write: SyncWrite): void => {
    switch (write.op) {
      case 'putSession':
        if (write.restart) multi.unlink(...shadowKeys(write.key));
        multi.set(keys.session(write.key), JSON.stringify(write.record));
        multi.zadd(keys.sessions, write.record.updatedAt, sessionMember(write.key));
        return;
      case 'stagePage':
        chunks(write.members).forEach((batch, b) => {
          multi.zadd(keys.shadowIds(write.key), ...batch.flatMap((m) => [0, m.distinctId]));
          multi.hset(keys.shadowMember(write.key), ...batch.flatMap((m) => [m.distinctId, JSON.stringify(m)]));
          const ranks = batch.map((_, i) => rankOf(write.page, b * ARGS_PER_COMMAND + i));
          multi.hset(keys.shadowPage(write.key), ...batch.flatMap((m, i) => [m.distinctId, String(ranks[i])]));
          multi.zadd(keys.shadowRank(write.key), ...batch.flatMap((m, i) => [ranks[i]!, m.distinctId]));
        });
        return;
      case 'dropStaged':
        multi.unlink(...shadowKeys(write.key));
        return;
      case 'swapInShadow': {
        const { projectId: p, cohortId: c } = write.key;
        // RENAME is constant time; the replaced set stays aside for the completion changes, then is UNLINKed.
        multi.unlink(keys.shadowPage(write.key), keys.replacedIds(write.key), keys.replacedMember(write.key));
        multi.eval(RENAME_IF_EXISTS, 2, keys.ids(p, c), keys.replacedIds(write.key));
        multi.eval(RENAME_IF_EXISTS, 2, keys.member(p, c), keys.replacedMember(write.key));
        if (write.memberCount > 0) {
          multi.rename(keys.shadowIds(write.key), keys.ids(p, c));
          multi.rename(keys.shadowMember(write.key), keys.member(p, c));
        }
        for (const name of replacedKeys(write.key)) multi.pexpire(name, PUBLICATION_TTL_MS);
        return;
      }
      case 'upsertMembers':
        queueUpsert(multi, write.projectId, write.cohortId, write.members);
        return;
      case 'removeMembers':
        for (const batch of chunks(write.distinctIds)) {
          multi.zrem(keys.ids(write.projectId, write.cohortId), ...batch);
          multi.hdel(keys.member(write.projectId, write.cohortId), ...batch);
        }
        return;
      case 'putSyncState':
        multi.set(keys.state(write.state.projectId, write.state.cohortId), JSON.stringify(write.state));
        multi.sadd(keys.cohorts(write.state.projectId), write.state.cohortId);
        return;
    }
  };
  const queueUpsert = (multi: ChainableCommander, p: string, c: string, members: readonly CohortMember[]) => {
    for (const batch of chunks(members)) {
      multi.zadd(keys.ids(p, c), ...batch.flatMap((m) => [0, m.distinctId]));
      multi.hset(keys.member(p, c), ...batch.flatMap((m) => [m.distinctId, JSON.stringify(m)]));
    }
  };

  /** Runs `attempt` until its EXEC goes through; `attempt` returns undefined when it needs no write. */
  const optimistic = async <T>(attempt: () => Promise<{ writes: ChainableCommander | undefined; value: T }>): Promise<T> => {
    for (let n = 1; n <= maxRetries + 1; n++) {
      try {
        const { writes, value } = await attempt();
        if (!writes) {
          await tx.unwatch();
          return value;
        }
        const replies = await writes.exec();
        if (replies === null) continue; // a watched key changed: plan again
        const failed = replies.find(([error]) => error);
        if (failed) throw failed[0];
        return value;
      } catch (error) {
        await tx.unwatch().catch(() => undefined);
        throw error;
      }
    }
    throw new MembershipConflictError(maxRetries + 1);
  };

  const parseMembers = (jsons: (string | null)[]) => jsons.filter((json): json is string => json !== null).map((json) => JSON.parse(json) as CohortMember);
  /** Reads of a swapped-in sync on the ordinary connection: the keys are its own and no longer change. */
  const completionReader = (key: SessionKey): CompletionReader => {
    const { projectId: p, cohortId: c } = key;
    let start = '-';
    const pageIds = (n: number) => redis.zrangebyscore(keys.shadowRank(key), rankOf(n, 0), `(${rankOf(n + 1, 0)}`);
    const absentFrom = async (set: string, ids: string[]) => {
      if (ids.length === 0) return [];
      const scores = await redis.zmscore(set, ...ids);
      return ids.filter((_, i) => scores[i] === null);
    };
    const membersOf = async (hash: string, ids: string[]) => (ids.length === 0 ? [] : parseMembers(await redis.hmget(hash, ...ids)));
    return {
      async nextReplaced(limit) {
        const ids = await redis.zrangebylex(keys.replacedIds(key), start, '+', 'LIMIT', 0, limit);
        if (ids.length > 0) start = `(${ids.at(-1)}`;
        const left = await membersOf(keys.replacedMember(key), await absentFrom(keys.ids(p, c), ids));
        return { left, done: ids.length < limit };
      },
      page: async (n) => membersOf(keys.member(p, c), await pageIds(n)),
      joinedOnPage: async (n) => membersOf(keys.member(p, c), await absentFrom(keys.replacedIds(key), await pageIds(n))),
      release: async () => void (await redis.unlink(...replacedKeys(key))),
    };
  };

  return {
    async applyPage(page, now) {
      const plan = await serial(() =>
        optimistic(async () => {
          const planned = await planPage(page, now, watchingReader());
          if (planned.writes.length === 0) return { writes: undefined, value: planned };
          const multi = tx.multi();
          for (const write of planned.writes) queue(multi, write);
          return { writes: multi, value: planned };
        }),
      );
      return plan.completes ? { ...plan.result, completion: completionChanges(plan.completes, completionReader(plan.completes.key)) } : plan.result;
    },

    async members(projectId, cohortId, { first, afterDistinctId }) {
      checkPageSize(first);
      if (first === 0) return [];
      const start = afterDistinctId === undefined ? '-' : `(${afterDistinctId}`;
      const ids = await redis.zrangebylex(keys.ids(projectId, cohortId), start, '+', 'LIMIT', 0, first);
      if (ids.length === 0) return [];
      const members = await redis.hmget(keys.member(projectId, cohortId), ...ids);
      // A member removed between the two reads is simply left out.
      return members.filter((json): json is string => json !== null).map((json) => JSON.parse(json) as CohortMember);
    },

    async cohortsOf(projectId, distinctIds) {
      const result = new Map<string, string[]>(distinctIds.map((id) => [id, []]));
      if (distinctIds.length === 0) return result;
      const cohortIds = (await redis.smembers(keys.cohorts(projectId))).sort(compareDistinctIds);
      const pipeline = redis.pipeline();
      for (const cohortId of cohortIds) pipeline.zmscore(keys.ids(projectId, cohortId), ...distinctIds);
      const replies = (await pipeline.exec()) ?? [];
      cohortIds.forEach((cohortId, i) => {
        const [error, scores] = replies[i] ?? [new Error('missing reply'), null];
        if (error) throw error;
        (scores as (string | null)[]).forEach((score, j) => {
          if (score !== null) result.get(distinctIds[j]!)?.push(cohortId);
        });
      });
      return result;
    },

    syncState: async (projectId, cohortId) => parseState(await redis.get(keys.state(projectId, cohortId))),

    async syncedCohorts(projectId) {
      const cohortIds = (await redis.smembers(keys.cohorts(projectId))).sort(compareDistinctIds);
      if (cohortIds.length === 0) return [];
      const states = await redis.mget(...cohortIds.map((c) => keys.state(projectId, c)));
      return states.map(parseState).filter((s): s is CohortSyncState => s !== undefined);
    },

    expireSessions: (olderThan) =>
      serial(async () => {
        let abandoned = 0;
        for (const member of await tx.zrangebyscore(keys.sessions, '-inf', `(${olderThan}`)) {
          const [projectId, cohortId, sessionId, kind] = JSON.parse(member) as [string, string, string, SessionKey['kind']];
          const key: SessionKey = { projectId, cohortId, sessionId, kind };
          abandoned += await optimistic(async () => {
            await tx.watch(keys.session(key));
            const json = await tx.get(keys.session(key));
            const record = json === null ? undefined : (JSON.parse(json) as SessionRecord);
            // A page that arrived since the range was read keeps the session alive.
            if (record && record.updatedAt >= olderThan) return { writes: undefined, value: 0 };
            const writes = tx
              .multi()
              .unlink(keys.session(key), ...shadowKeys(key))
              .zrem(keys.sessions, member);
            return { writes, value: record && record.completedAt === undefined ? 1 : 0 };
          });
        }
        return abandoned;
      }),

    close: () => serial(async () => void (await tx.quit().catch(() => tx.disconnect()))),
  };
}

function parseState(json: string | null): CohortSyncState | undefined {
  return json === null ? undefined : (JSON.parse(json) as CohortSyncState);
}

function chunks<T>(items: readonly T[]): T[][] {
  const result: T[][] = [];
  for (let i = 0; i < items.length; i += ARGS_PER_COMMAND) result.push(items.slice(i, i + ARGS_PER_COMMAND));
  return result;
}
