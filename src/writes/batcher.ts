/**
 * Merges the items of concurrent writes, from every client of a project,
 * into as few upstream requests as Mixpanel's per-request limits allow.
 *
 * A batch leaves as soon as it is full (by items or bytes), once no item
 * arrived for `windowMs`, or `maxWaitMs` after its first item, whichever
 * comes first: a burst of writes from many clients travels together however
 * the clients' requests are spread over the burst. Each caller gets one outcome per item it
 * submitted, whichever batches they travelled in: a failed batch fails only
 * its own items.
 */

export type Outcome<R> = { readonly ok: true; readonly value: R } | { readonly ok: false; readonly error: unknown };

export interface BatcherOptions<I, R> {
  /** Most items in one request. */
  readonly maxItems: number;
  /** Most bytes of one request body (a JSON array of the items). */
  readonly maxBytes: number;
  /** Bytes an item adds to the body (its JSON); an item over `maxBytes` must be refused before submit. */
  readonly sizeOf: (item: I) => number;
  /** How long a batch that is not full waits for another item, in ms. */
  readonly windowMs: number;
  /** Longest a batch waits after its first item, in ms. Default 10 × windowMs. */
  readonly maxWaitMs?: number;
  /**
   * Sends one batch. Resolves with one outcome per item, in order; a
   * rejection fails every item of the batch with that error.
   */
  readonly send: (items: readonly I[]) => Promise<readonly Outcome<R>[]>;
}

export interface Batcher<I, R> {
  /** Queues the items; resolves when every one of them has its outcome (never rejects). */
  submit(items: readonly I[]): Promise<Outcome<R>[]>;
  /** Batches sent so far (tests and benchmarks). */
  readonly sent: number;
  /** Sends what is queued now, without waiting for the window. */
  flush(): void;
}

interface Entry<I, R> {
  readonly item: I;
  readonly settle: (outcome: Outcome<R>) => void;
}

/** Two brackets; each item after the first adds a comma. */
const ARRAY_OVERHEAD_BYTES = 2;

export function createBatcher<I, R>(options: BatcherOptions<I, R>): Batcher<I, R> {
  let pending: Entry<I, R>[] = [];
  let pendingBytes = ARRAY_OVERHEAD_BYTES;
  let timer: NodeJS.Timeout | undefined;
  let firstAt = 0;
  let sent = 0;
  const maxWaitMs = options.maxWaitMs ?? options.windowMs * 10;

  const flush = (): void => {
    clearTimeout(timer);
    timer = undefined;
    if (pending.length === 0) return;
    const batch = pending;
    pending = [];
    pendingBytes = ARRAY_OVERHEAD_BYTES;
    sent += 1;
    options.send(batch.map((entry) => entry.item)).then(
      (outcomes) => {
        for (const [index, entry] of batch.entries())
          entry.settle(outcomes[index] ?? { ok: false, error: new Error('Mixpanel answered for fewer records than were sent') });
      },
      (error: unknown) => {
        for (const entry of batch) entry.settle({ ok: false, error });
      },
    );
  };

  const add = (entry: Entry<I, R>): void => {
    const bytes = options.sizeOf(entry.item) + (pending.length > 0 ? 1 : 0);
    if (pending.length > 0 && (pending.length >= options.maxItems || pendingBytes + bytes > options.maxBytes)) flush();
    pendingBytes += options.sizeOf(entry.item) + (pending.length > 0 ? 1 : 0);
    pending.push(entry);
    if (pending.length >= options.maxItems) {
      flush();
      return;
    }
    const now = Date.now();
    if (pending.length === 1) firstAt = now;
    clearTimeout(timer);
    timer = setTimeout(flush, Math.max(0, Math.min(options.windowMs, firstAt + maxWaitMs - now)));
    timer.unref();
  };

  return {
    submit(items) {
      return Promise.all(items.map((item) => new Promise<Outcome<R>>((settle) => add({ item, settle }))));
    },
    get sent() {
      return sent;
    },
    flush,
  };
}
