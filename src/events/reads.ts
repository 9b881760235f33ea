/**
 * The export reads of one project: each (range, filter) is read from Mixpanel
 * once, through `project.call` (the Export budget), spilled to disk
 * (spill.ts) and paged from there while it stays fresh. Concurrent pages of
 * the same (range, filter) wait for the one read; reads past their time, or
 * beyond the disk bound, are removed oldest first.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExportParams } from '../mixpanel/types.js';
import type { CallContext, ProjectRuntime } from '../runtime/types.js';
import { spillEvents, type SpilledRead } from './spill.js';

export interface EventReadsOptions {
  /** How long a read of a range that includes today serves pages, in ms. Default 60 s (CACHE_TTL_EVENTS_MS). */
  readonly ttlMs?: number;
  /** How long a read of a range that ended before today (UTC) serves pages, in ms. Default 6 h (CACHE_TTL_ANALYTICS_CLOSED_MS). */
  readonly closedTtlMs?: number;
  /** Bytes all reads of the project may hold on disk; one read over it fails, older reads are removed to make room. Default 1 GiB. */
  readonly maxDiskBytes?: number;
  /** Parent of the spill directory. Default os.tmpdir(). */
  readonly tmpDir?: string;
  /** Epoch ms. Default Date.now. */
  readonly now?: () => number;
}

export type ReadParams = Pick<ExportParams, 'fromDate' | 'toDate' | 'events' | 'where'>;

/** A read held open: its files stay until `release()`. */
export interface LeasedRead {
  readonly read: SpilledRead;
  release(): void;
}

export interface EventReads {
  /** The read of `params` (the kept one while fresh, else one new export call), leased to the caller. */
  read(params: ReadParams, context: CallContext): Promise<LeasedRead>;
  /** Export calls this registry has made (reads started). */
  readonly reads: number;
  close(): Promise<void>;
}

interface Entry {
  readonly promise: Promise<SpilledRead>;
  read?: SpilledRead;
  expiresAt: number;
  usedAt: number;
}

const DEFAULTS = { ttlMs: 60_000, closedTtlMs: 6 * 3_600_000, maxDiskBytes: 1024 * 1024 * 1024 };

export function createEventReads(project: ProjectRuntime, options: EventReadsOptions = {}): EventReads {
  const now = options.now ?? Date.now;
  const ttlMs = options.ttlMs ?? DEFAULTS.ttlMs;
  const closedTtlMs = options.closedTtlMs ?? DEFAULTS.closedTtlMs;
  const maxDiskBytes = options.maxDiskBytes ?? DEFAULTS.maxDiskBytes;
  const entries = new Map<string, Entry>();
  let dir: Promise<string> | undefined;
  let sequence = 0;
  let started = 0;
  let closed = false;
  /** Reads outlive the request that started them (later pages wait for them too); closing aborts them. */
  const lifetime = new AbortController();

  const spillDir = (): Promise<string> => (dir ??= mkdtemp(join(options.tmpDir ?? tmpdir(), 'mpgw-events-')));

  const drop = (key: string): void => {
    const entry = entries.get(key);
    entries.delete(key);
    void entry?.read?.remove();
  };

  /** Removes expired reads, then the least recently used finished ones until the disk bound holds. */
  const sweep = (): void => {
    const at = now();
    for (const [key, entry] of entries) if (entry.read && entry.expiresAt <= at) drop(key);
    let bytes = [...entries.values()].reduce((sum, entry) => sum + (entry.read?.bytes ?? 0), 0);
    const finished = [...entries.entries()].filter(([, entry]) => entry.read).sort((a, b) => a[1].usedAt - b[1].usedAt);
    for (const [key, entry] of finished) {
      if (bytes <= maxDiskBytes) break;
      bytes -= entry.read?.bytes ?? 0;
      drop(key);
    }
  };

  return {
    get reads() {
      return started;
    },

    async read(params, context) {
      // A kept read can be removed (expired, evicted) between its promise settling and this lease: then read again.
      for (let attempt = 0; ; attempt++) {
        const read = await load(params, context);
        const release = read.lease();
        if (release) return { read, release };
        if (attempt >= 2) throw new Error('the export read was removed before it could be paged');
      }
    },

    async close() {
      closed = true;
      lifetime.abort(new Error('the gateway is closing'));
      for (const key of [...entries.keys()]) drop(key);
      if (dir) await rm(await dir, { recursive: true, force: true });
    },
  };

  /** The read's promise: the kept one, or a new export call whose read outlives this request. */
  function load(params: ReadParams, context: CallContext): Promise<SpilledRead> {
    if (closed) return Promise.reject(new Error('event reads are closed'));
    sweep();
    const key = JSON.stringify([params.fromDate, params.toDate, params.events ? [...params.events].sort() : null, params.where ?? null]);
    const known = entries.get(key);
    if (known) {
      known.usedAt = now();
      return untilAborted(known.promise, context.signal);
    }
    const exportParams: ExportParams = { ...params, timeInMs: true };
    const promise = project.fetch(
      'exportStream',
      {
        params: exportParams,
        consume: async (events, signal) => {
          started += 1;
          // A fresh directory per attempt: a retried read never sees a failed attempt's runs.
          const target = join(await spillDir(), `read-${++sequence}`);
          return spillEvents(events, { dir: target, maxBytes: maxDiskBytes, signal });
        },
      },
      { ...context, signal: lifetime.signal },
    ) as Promise<Awaited<ReturnType<typeof spillEvents>>>;
    const entry: Entry = { promise, expiresAt: Number.POSITIVE_INFINITY, usedAt: now() };
    entries.set(key, entry);
    promise.then(
      (read) => {
        if (entries.get(key) !== entry || closed) {
          void read.remove();
          return;
        }
        entry.read = read;
        const today = new Date(now()).toISOString().slice(0, 10);
        // Expired reads are swept by the next load, after this one's waiters have taken their leases.
        entry.expiresAt = now() + (params.toDate < today ? closedTtlMs : ttlMs);
      },
      () => {
        // A failed read is not kept: the next page tries again.
        if (entries.get(key) === entry) entries.delete(key);
      },
    );
    return untilAborted(promise, context.signal);
  }
}

/** `promise`, or the abort reason as soon as `signal` aborts (the promise itself goes on). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

const registries = new WeakMap<ProjectRuntime, EventReads>();

/** Gives a project its reads (the gateway does, with the configured TTLs); replaces none already given. */
export function registerEventReads(project: ProjectRuntime, options: EventReadsOptions = {}): EventReads {
  const existing = registries.get(project);
  if (existing) return existing;
  const reads = createEventReads(project, options);
  registries.set(project, reads);
  return reads;
}

/** The project's reads (defaults when the gateway registered none). */
export function eventReadsOf(project: ProjectRuntime): EventReads {
  return registries.get(project) ?? registerEventReads(project);
}

/** Closes and forgets the project's reads (their spill files are deleted). */
export async function closeEventReads(project: ProjectRuntime): Promise<void> {
  const reads = registries.get(project);
  registries.delete(project);
  await reads?.close();
}
