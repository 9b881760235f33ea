/**
 * Cross-request coalescing: calls of any requests that differ only in a list
 * of ids (engage by `distinct_ids`, activity streams by `distinct_ids`, event
 * counts of one range by event name) merge into one upstream call, and its
 * answer is split back to each waiter.
 *
 * A batch stays open to new ids while it waits for its merge window (see
 * CoalesceOptions) and then while it waits for a budget slot: the slot
 * arriving closes it, so a scarce budget merges more. An id already in an
 * open or in-flight batch is not asked for again: the request joins that batch.
 *
 * Each waiter's deadline and signal apply to it alone. A waiter that goes
 * away leaves the batch; the call is cancelled only when nobody waits for it
 * any more. One id failing (absent) never fails the others.
 */
import type { RequestStats } from '../limits/types.js';
import { RateLimitedError } from '../mixpanel/errors.js';
import type { ApiFamily } from '../mixpanel/types.js';
import { idBytes, type MergeDescription } from './endpoints.js';

/** One request waiting for ids. */
export interface BatchWaiter {
  /** Epoch ms by which the call must have started; past it, this waiter alone fails as rate limited. */
  readonly deadline: number;
  readonly signal: AbortSignal;
  readonly stats: RequestStats;
  readonly priority: number;
  /** Who asks (for the per-client fair share); undefined = anonymous. */
  readonly clientId?: string | undefined;
}

/** What a merged call is handed when it may be sent. */
export interface BatchRun<Id> {
  /** What the merged calls have in common (the call without its ids). */
  readonly mergeKey: string;
  /** Closes the batch (no id joins after this) and returns its ids. Call it when the budget grants the slot. */
  take(): readonly Id[];
  /** Aborted when no waiter is left. */
  readonly signal: AbortSignal;
  /** The latest deadline among the waiters, and the most urgent priority. */
  readonly deadline: number;
  readonly priority: number;
  /** The request that opened the batch: its calls are counted as spent. */
  readonly opener: BatchWaiter;
}

export interface BatcherOptions<Id, V> {
  readonly family: ApiFamily;
  readonly merge: MergeDescription;
  /** False: no merging across requests (each load is its own batch); ids still go out together per load. */
  readonly enabled: boolean;
  /** How long a batch stays open after its latest id, now (ms); 0 sends at once. */
  readonly windowMs: () => number;
  /** The most a batch is held past its first id, in ms. */
  readonly maxWaitMs: number;
  /** Sends one merged call; resolves with the value per id (an id left out is absent). */
  readonly run: (batch: BatchRun<Id>) => Promise<ReadonlyMap<Id, V>>;
  /** Size and wait of each merged batch, for metrics. */
  readonly onBatch?: (size: number, waitMs: number, requests: number) => void;
  /** The clock deadlines and windows are on (epoch ms). Default Date.now. */
  readonly now?: () => number;
  /** Timers on that clock. Default: the system's. */
  readonly timers?: { setTimeout(callback: () => void, ms: number): unknown; clearTimeout(handle: unknown): void };
}

/** One id's outcome: its value, or absent (Mixpanel does not know it). */
export type IdResult<V> = { readonly found: true; readonly value: V } | { readonly found: false };

interface Batch<Id, V> {
  readonly mergeKey: string;
  readonly ids: Id[];
  readonly idSet: Set<Id>;
  idBytes: number;
  readonly waiters: Set<BatchWaiter>;
  /** When the first id came (the batcher's clock). */
  readonly openedAt: number;
  readonly controller: AbortController;
  closed: boolean;
  /** Set once the call took its ids. */
  taken: boolean;
  started: boolean;
  timer: unknown;
  result: Promise<ReadonlyMap<Id, V>> | undefined;
  readonly settled: Promise<ReadonlyMap<Id, V>>;
  resolve(value: ReadonlyMap<Id, V>): void;
  reject(error: unknown): void;
  shareCounted: boolean;
}

export interface Batcher<Id, V> {
  /** The value of each id, from batches shared with other requests where possible. */
  load(mergeKey: string, ids: readonly Id[], waiter: BatchWaiter): Promise<Map<Id, IdResult<V>>>;
  /** Whether an id is in a batch open or in flight: asked for already. */
  has(mergeKey: string, id: Id): boolean;
  /** Batches open or in flight (for tests and metrics). */
  readonly pending: number;
}

export function createBatcher<Id extends string, V>(options: BatcherOptions<Id, V>): Batcher<Id, V> {
  const now = options.now ?? Date.now;
  const timers = options.timers ?? {
    setTimeout: (callback: () => void, ms: number) => setTimeout(callback, ms),
    clearTimeout: (handle: unknown) => clearTimeout(handle as NodeJS.Timeout),
  };
  /** The batch still accepting ids, per merge key. */
  const open = new Map<string, Batch<Id, V>>();
  /** Every batch not yet answered, per merge key and id: a second ask for an id joins it. */
  const byId = new Map<string, Batch<Id, V>>();
  const idKey = (mergeKey: string, id: Id): string => `${mergeKey}\u0000${id}`;
  let pending = 0;
  const bytesOf = options.merge.idBytes ?? idBytes;

  const newBatch = (mergeKey: string): Batch<Id, V> => {
    let resolve!: (value: ReadonlyMap<Id, V>) => void;
    let reject!: (error: unknown) => void;
    const settled = new Promise<ReadonlyMap<Id, V>>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // Waiters observe the outcome; a batch nobody waits for must not raise an unhandled rejection.
    settled.catch(() => undefined);
    pending++;
    return {
      mergeKey,
      ids: [],
      idSet: new Set(),
      idBytes: 0,
      waiters: new Set(),
      openedAt: now(),
      controller: new AbortController(),
      closed: false,
      taken: false,
      started: false,
      timer: undefined,
      result: undefined,
      settled,
      resolve,
      reject,
      shareCounted: false,
    };
  };

  /** No id joins a closed batch; one not yet dispatched still leaves on its timer (armed at once when full). */
  const close = (batch: Batch<Id, V>): void => {
    if (batch.closed) return;
    batch.closed = true;
    if (open.get(batch.mergeKey) === batch) open.delete(batch.mergeKey);
  };

  const finish = (batch: Batch<Id, V>): void => {
    for (const id of batch.ids) if (byId.get(idKey(batch.mergeKey, id)) === batch) byId.delete(idKey(batch.mergeKey, id));
    pending--;
  };

  const dispatch = (batch: Batch<Id, V>): void => {
    if (batch.started) return;
    batch.started = true;
    batch.timer = undefined;
    const waiters = [...batch.waiters];
    const opener = waiters[0];
    if (!opener) {
      close(batch);
      finish(batch);
      batch.reject(new DOMException('No request waits for this batch', 'AbortError'));
      return;
    }
    const firstAt = batch.openedAt;
    options
      .run({
        mergeKey: batch.mergeKey,
        // A retry takes the same ids again: the batch closed at the first attempt.
        take: () => {
          close(batch);
          if (!batch.taken) {
            batch.taken = true;
            options.onBatch?.(batch.ids.length, now() - firstAt, batch.waiters.size);
          }
          return [...batch.ids];
        },
        signal: batch.controller.signal,
        deadline: Math.max(...waiters.map((w) => w.deadline)),
        priority: Math.min(...waiters.map((w) => w.priority)),
        opener,
      })
      .then(batch.resolve, batch.reject)
      .finally(() => {
        close(batch);
        finish(batch);
      });
  };

  /** (Re)arms the batch's timer: it leaves `window` ms after its latest id, and never later than `maxWait` after its first. */
  const arm = (batch: Batch<Id, V>): void => {
    if (batch.started) return;
    const window = options.enabled ? options.windowMs() : 0;
    const full = batch.closed || batch.ids.length >= options.merge.maxIds;
    const at = now();
    // Never hold a batch past half the time its most urgent waiter has left to get a slot.
    const urgent = Math.min(...[...batch.waiters].map((w) => w.deadline));
    const due = full || window <= 0 ? 0 : Math.max(0, Math.min(window, batch.openedAt + options.maxWaitMs - at, (urgent - at) / 2));
    if (batch.timer !== undefined) timers.clearTimeout(batch.timer);
    // A zero window still waits one macrotask: ids of the same tick (one request's loader) go together.
    batch.timer = due <= 0 ? setTimeout(() => dispatch(batch), 0) : timers.setTimeout(() => dispatch(batch), due);
  };

  const fits = (batch: Batch<Id, V>, id: Id): boolean =>
    !batch.closed && batch.ids.length < options.merge.maxIds && batch.idBytes + bytesOf(id) <= options.merge.maxIdBytes;

  const leave = (batch: Batch<Id, V>, waiter: BatchWaiter): void => {
    if (!batch.waiters.delete(waiter)) return;
    if (batch.waiters.size > 0) return;
    // Nobody waits any more: drop a batch not yet sent, cancel one in flight.
    close(batch);
    if (!batch.started) {
      batch.started = true;
      if (batch.timer !== undefined) timers.clearTimeout(batch.timer);
      finish(batch);
      batch.reject(new DOMException('No request waits for this batch', 'AbortError'));
    } else batch.controller.abort(new DOMException('No request waits for this call', 'AbortError'));
  };

  /** One waiter's view of one batch: its own deadline and signal, the batch's shared outcome. */
  const await_ = (batch: Batch<Id, V>, waiter: BatchWaiter): Promise<ReadonlyMap<Id, V>> =>
    new Promise<ReadonlyMap<Id, V>>((resolve, reject) => {
      let done = false;
      let deadlineTimer: unknown;
      const end = (): boolean => {
        if (done) return false;
        done = true;
        waiter.signal.removeEventListener('abort', onAbort);
        if (deadlineTimer !== undefined) timers.clearTimeout(deadlineTimer);
        return true;
      };
      const onAbort = (): void => {
        if (!end()) return;
        leave(batch, waiter);
        reject(waiter.signal.reason);
      };
      if (waiter.signal.aborted) return onAbort();
      waiter.signal.addEventListener('abort', onAbort, { once: true });
      const untilDeadline = waiter.deadline - now();
      if (Number.isFinite(untilDeadline)) {
        deadlineTimer = timers.setTimeout(
          () => {
            // Past its deadline a waiter still gets a call that has started; one still waiting for budget fails alone.
            if (batch.taken || !end()) return;
            leave(batch, waiter);
            reject(
              new RateLimitedError(
                options.family,
                undefined,
                `Mixpanel ${options.family} budget for this project cannot fit this call before its deadline; retry later`,
              ),
            );
          },
          Math.max(0, untilDeadline + 1),
        );
      }
      batch.settled.then(
        (value) => {
          if (end()) resolve(value);
        },
        (error: unknown) => {
          if (end()) reject(error);
        },
      );
    });

  return {
    async load(mergeKey, ids, waiter) {
      const wanted = [...new Set(ids)];
      const batches = new Set<Batch<Id, V>>();
      /** Without cross-request merging, this load's own batch. */
      let own: Batch<Id, V> | undefined;
      for (const id of wanted) {
        const known = options.enabled ? byId.get(idKey(mergeKey, id)) : undefined;
        if (known && known.waiters.size > 0) {
          batches.add(known);
          continue;
        }
        // Without cross-request merging, this load's ids still share its own batch.
        let batch = options.enabled ? open.get(mergeKey) : own;
        if (!batch || !fits(batch, id)) {
          if (batch && options.enabled) {
            // Full: it leaves now, and the next ids open a new batch.
            close(batch);
            arm(batch);
          }
          batch = newBatch(mergeKey);
          if (options.enabled) open.set(mergeKey, batch);
          else own = batch;
        }
        batch.ids.push(id);
        batch.idSet.add(id);
        batch.idBytes += bytesOf(id);
        if (options.enabled) byId.set(idKey(mergeKey, id), batch);
        batches.add(batch);
      }
      for (const batch of batches) {
        const joined = batch.waiters.size > 0 && !batch.waiters.has(waiter);
        batch.waiters.add(waiter);
        if (joined) {
          waiter.stats.deduplicated++;
          const opener = [...batch.waiters][0];
          if (opener && !batch.shareCounted) {
            batch.shareCounted = true;
            opener.stats.shared = (opener.stats.shared ?? 0) + 1;
          }
        }
        arm(batch);
      }
      const results = new Map<Id, IdResult<V>>();
      const answers = await Promise.all([...batches].map(async (batch) => ({ batch, answer: await await_(batch, waiter) })));
      for (const { batch, answer } of answers) {
        for (const id of wanted) {
          if (!batch.idSet.has(id) || results.get(id)?.found) continue;
          const value = answer.get(id);
          results.set(id, value === undefined ? { found: false } : { found: true, value });
        }
      }
      for (const id of wanted) if (!results.has(id)) results.set(id, { found: false });
      return results;
    },
    has: (mergeKey, id) => byId.has(idKey(mergeKey, id)),
    get pending() {
      return pending;
    },
  };
}
