/**
 * Embedded membership store on one SQLite file (better-sqlite3, WAL), kept
 * off the event loop: two worker threads own a connection each (sqlite-worker.ts),
 * a writer that applies webhook pages and a reader that answers queries. In
 * WAL mode a reader never waits for a writer, so a page waiting on a locked
 * file (another process holding the write lock) or writing a big page holds
 * up neither GraphQL reads nor the rest of the gateway. One process owns the
 * file; several gateway instances share state through Redis instead.
 *
 * `:memory:` runs both roles on one worker (two connections would be two databases).
 */
import { Worker } from 'node:worker_threads';
import { completionChanges, type CompletionReader, type SessionKey } from './apply.js';
import type { EngineApplyResult, SqliteEngine } from './sqlite-engine.js';
import type { SqliteCall, SqliteReply, SqliteWorkerData } from './sqlite-worker.js';
import type { CohortMember, MembershipStore } from './types.js';

export interface SqliteMembershipStoreOptions {
  /** Database file; its directory is created if missing. `:memory:` works for throwaway use. */
  readonly path: string;
  /** How long a write waits for another connection's lock before failing; default 5000 ms. */
  readonly busyTimeoutMs?: number;
}

/** An error the SQLite worker reported, with SQLite's code (e.g. SQLITE_BUSY) when it had one. */
export class SqliteStoreError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
    this.name = 'SqliteStoreError';
  }
}

// A completed sync's generations are committed, so its completion changes are read beside GraphQL reads.
const READ_METHODS = new Set<keyof SqliteEngine>(['members', 'cohortsOf', 'syncState', 'syncedCohorts', 'completionReplaced', 'completionPage']);

export function createSqliteMembershipStore(options: SqliteMembershipStoreOptions): MembershipStore {
  const writer = startWorker({ path: options.path, busyTimeoutMs: options.busyTimeoutMs, role: 'writer' });
  // The reader opens the file once the writer has prepared its schema: its first call waits for the writer's.
  const writerReady = writer.call('syncedCohorts', ['']).then(
    () => undefined,
    () => undefined,
  );
  const reader = options.path === ':memory:' ? writer : startWorker({ path: options.path, busyTimeoutMs: options.busyTimeoutMs, role: 'reader' }, writerReady);
  let closed: Promise<void> | undefined;

  const call = <T>(method: keyof SqliteEngine, args: readonly unknown[]): Promise<T> => {
    if (closed) return Promise.reject(new SqliteStoreError('The SQLite membership store is closed', undefined));
    return (READ_METHODS.has(method) ? reader : writer).call(method, args) as Promise<T>;
  };

  const completionReader = (key: SessionKey): CompletionReader => {
    let after = ''; // sorts before every distinct id
    return {
      async nextReplaced(limit) {
        const { left, last } = await call<{ left: CohortMember[]; last: string | undefined }>('completionReplaced', [key, after, limit]);
        if (last !== undefined) after = last;
        return { left, done: last === undefined };
      },
      page: (n) => call('completionPage', [key, n, false]),
      joinedOnPage: (n) => call('completionPage', [key, n, true]),
      release: () => call('completionRelease', [key]),
    };
  };

  return {
    async applyPage(page, now) {
      const { completes, ...result } = await call<EngineApplyResult>('applyPage', [page, now]);
      return completes ? { ...result, completion: completionChanges(completes, completionReader(completes.key)) } : result;
    },
    members: (projectId, cohortId, paging) => call('members', [projectId, cohortId, paging]),
    cohortsOf: (projectId, distinctIds) => call('cohortsOf', [projectId, distinctIds]),
    syncState: (projectId, cohortId) => call('syncState', [projectId, cohortId]),
    syncedCohorts: (projectId) => call('syncedCohorts', [projectId]),
    expireSessions: (olderThan) => call('expireSessions', [olderThan]),
    close: () =>
      (closed ??= (async () => {
        // Calls already sent finish first: each worker answers in order, close last.
        await Promise.allSettled([writer.call('close', []), reader === writer ? undefined : reader.call('close', [])]);
        await Promise.all([writer.terminate(), reader === writer ? undefined : reader.terminate()]);
      })()),
  };
}

interface WorkerHandle {
  call(method: keyof SqliteEngine, args: readonly unknown[]): Promise<unknown>;
  terminate(): Promise<void>;
}

function startWorker(data: SqliteWorkerData, after: Promise<void> = Promise.resolve()): WorkerHandle {
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  let nextId = 0;
  let failed: Error | undefined;
  const worker = after.then(() => {
    const spawned = spawnWorker(data);
    spawned.on('message', (reply: SqliteReply) => {
      const waiter = pending.get(reply.id);
      pending.delete(reply.id);
      if (pending.size === 0) spawned.unref();
      if (reply.ok) waiter?.resolve(reply.value);
      else waiter?.reject(Object.assign(new SqliteStoreError(reply.error.message, reply.error.code), { name: reply.error.name }));
    });
    const fail = (error: Error) => {
      failed = error;
      for (const waiter of pending.values()) waiter.reject(error);
      pending.clear();
    };
    spawned.on('error', fail);
    spawned.on('exit', () => fail(new SqliteStoreError('The SQLite membership worker stopped', undefined)));
    // An idle worker must not keep a process alive that has nothing else to do; a call in flight does.
    spawned.unref();
    return spawned;
  });
  return {
    call(method, args) {
      if (failed) return Promise.reject(failed);
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        void worker.then((w) => {
          w.ref();
          w.postMessage({ id, method, args } satisfies SqliteCall);
        });
      });
    },
    async terminate() {
      await (await worker).terminate();
    },
  };
}

/** Built code runs the compiled worker; under tsx or vitest (TypeScript sources) the worker registers tsx first. */
function spawnWorker(data: SqliteWorkerData): Worker {
  const fromSource = import.meta.url.endsWith('.ts');
  const url = new URL(fromSource ? './sqlite-worker.ts' : './sqlite-worker.js', import.meta.url);
  if (!fromSource) return new Worker(url, { workerData: data });
  const tsx = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(url.href)}); })`;
  return new Worker(bootstrap, { eval: true, workerData: data });
}
