/**
 * One export read of a (range, filter), spilled to disk in a fixed order so
 * that pages can be cut from it exactly, whatever order Mixpanel sent.
 *
 * Why a spill file rather than cache entries: Mixpanel's export comes in no
 * order, so no page can be cut before the whole range has been read, and a
 * long range holds millions of events: they cannot stay in memory, nor in the
 * byte-bounded response cache (which would evict them piecemeal and turn the
 * next page into a new export call). On disk, sorted, with a sparse index,
 * memory stays flat: one sorting run (RUN_BYTES) while reading, one line per
 * open run while merging, and one index entry per INDEX_EVERY events.
 *
 * The order is (time, $insert_id, hash of the record), so a cursor names an
 * event by its key, not by its position: a cursor stays exact across re-reads
 * of the range (after the read expires) and across Mixpanel's reordering.
 * Identical records share a key; a cursor also counts how many of them were
 * delivered.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { ExportedEvent } from '../mixpanel/types.js';

/** (epoch ms, $insert_id or "", record hash). */
export type EventKey = readonly [number, string, string];

/** A position in a read: the key of the last event delivered and how many events with that key were delivered. */
export interface EventPosition {
  readonly key: EventKey;
  readonly n: number;
}

export interface SpilledEvent {
  readonly record: ExportedEvent;
  readonly position: EventPosition;
}

export interface SpilledRead {
  /** Events in the read. */
  readonly count: number;
  /** Bytes on disk. */
  readonly bytes: number;
  /** Up to `limit` events after `after` (from the first when undefined), in key order; needs a lease. */
  page(after: EventPosition | undefined, limit: number): Promise<SpilledEvent[]>;
  /** Keeps the files until the returned release is called; undefined once removal has begun. */
  lease(): (() => void) | undefined;
  /** Deletes the files once every lease is released. */
  remove(): Promise<void>;
}

export interface SpillOptions {
  /** Directory of this read's files (created; removed by `remove`). */
  readonly dir: string;
  /** Bytes the read may take on disk; past it the read fails with ReadTooLargeError. */
  readonly maxBytes: number;
  /** Bytes of records sorted in memory per run. Default 4 MiB. */
  readonly runBytes?: number;
  readonly signal?: AbortSignal;
}

export class ReadTooLargeError extends Error {
  constructor(readonly maxBytes: number) {
    super(`the export read exceeds ${maxBytes} bytes`);
    this.name = 'ReadTooLargeError';
  }
}

const RUN_BYTES = 4 * 1024 * 1024;
/** Lines per write while spilling a run. */
const WRITE_LINES = 512;
/** One index entry per this many events: a page scans at most this many lines before its first event. */
export const INDEX_EVERY = 256;

export function compareKeys(a: EventKey, b: EventKey): number {
  if (a[0] !== b[0]) return a[0] < b[0] ? -1 : 1;
  if (a[1] !== b[1]) return a[1] < b[1] ? -1 : 1;
  if (a[2] !== b[2]) return a[2] < b[2] ? -1 : 1;
  return 0;
}

/** Mixpanel sends seconds unless asked for ms; anything this small is seconds. */
function epochMs(time: unknown): number {
  const value = typeof time === 'number' ? time : Number(time);
  if (!Number.isFinite(value)) return 0;
  return value < 100_000_000_000 ? value * 1000 : value;
}

function keyOf(record: ExportedEvent, json: string): EventKey {
  const insertId = record.properties.$insert_id;
  const hash = createHash('sha1').update(json).digest('base64url').slice(0, 16);
  return [epochMs(record.properties.time), typeof insertId === 'string' ? insertId : '', hash];
}

/** A spill line: the key as JSON, a tab (JSON never contains a raw tab), the record as JSON. */
interface Line {
  readonly key: EventKey;
  readonly text: string;
}

function parseLine(text: string): Line {
  const tab = text.indexOf('\t');
  return { key: JSON.parse(text.slice(0, tab)) as EventKey, text };
}

function recordOf(text: string): ExportedEvent {
  return JSON.parse(text.slice(text.indexOf('\t') + 1)) as ExportedEvent;
}

async function* linesOf(path: string, start = 0): AsyncGenerator<string> {
  const input = createReadStream(path, { start, encoding: 'utf8', highWaterMark: 64 * 1024 });
  const reader = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  try {
    for await (const line of reader) if (line !== '') yield line;
  } finally {
    reader.close();
    input.destroy();
  }
}

/** A min-heap of the runs' current lines, for the k-way merge. */
class LineHeap {
  private readonly items: { line: Line; source: number }[] = [];
  get size(): number {
    return this.items.length;
  }
  push(item: { line: Line; source: number }): void {
    const items = this.items;
    items.push(item);
    for (let i = items.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (compareKeys(items[parent]!.line.key, items[i]!.line.key) <= 0) break;
      [items[parent], items[i]] = [items[i]!, items[parent]!];
      i = parent;
    }
  }
  pop(): { line: Line; source: number } | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last) {
      items[0] = last;
      for (let i = 0; ; ) {
        const left = 2 * i + 1;
        const right = left + 1;
        let smallest = i;
        if (left < items.length && compareKeys(items[left]!.line.key, items[smallest]!.line.key) < 0) smallest = left;
        if (right < items.length && compareKeys(items[right]!.line.key, items[smallest]!.line.key) < 0) smallest = right;
        if (smallest === i) break;
        [items[smallest], items[i]] = [items[i]!, items[smallest]!];
        i = smallest;
      }
    }
    return top;
  }
}

interface IndexEntry {
  readonly key: EventKey;
  readonly offset: number;
}

/**
 * Reads `events` to the end into `options.dir`: sorted runs while reading,
 * then one merged file with its sparse index. Throws what the stream throws
 * (a cut-short export is an error, never a short read), ReadTooLargeError
 * past `maxBytes`, or the abort reason.
 */
export async function spillEvents(events: AsyncIterable<ExportedEvent>, options: SpillOptions): Promise<SpilledRead> {
  const runBytes = options.runBytes ?? RUN_BYTES;
  await mkdir(options.dir, { recursive: true });
  const runs: string[] = [];
  let buffer: Line[] = [];
  let buffered = 0;
  let spilled = 0;
  const flush = async (): Promise<void> => {
    if (buffer.length === 0) return;
    buffer.sort((a, b) => compareKeys(a.key, b.key));
    const path = join(options.dir, `run-${runs.length}.tsv`);
    // Written in small chunks: joining the whole run would hold it twice.
    const out = createWriteStream(path);
    try {
      for (let i = 0; i < buffer.length; i += WRITE_LINES) {
        const chunk = buffer
          .slice(i, i + WRITE_LINES)
          .map((line) => `${line.text}\n`)
          .join('');
        if (!out.write(chunk)) await once(out, 'drain');
      }
      out.end();
      await once(out, 'finish');
    } finally {
      out.destroy();
    }
    runs.push(path);
    buffer = [];
    buffered = 0;
  };
  try {
    for await (const record of events) {
      options.signal?.throwIfAborted();
      const json = JSON.stringify(record);
      const key = keyOf(record, json);
      const text = `${JSON.stringify(key)}\t${json}`;
      spilled += text.length + 1;
      // Runs and the merged file both hold every byte once: the bound covers the pair.
      if (spilled * 2 > options.maxBytes) throw new ReadTooLargeError(options.maxBytes);
      buffer.push({ key, text });
      buffered += text.length;
      if (buffered >= runBytes) await flush();
    }
    await flush();
    const merged = join(options.dir, 'events.tsv');
    const { index, count, bytes } = await merge(runs, merged, options.signal);
    await Promise.all(runs.map((run) => rm(run, { force: true })));
    return createRead(options.dir, merged, index, count, bytes);
  } catch (error) {
    await rm(options.dir, { recursive: true, force: true });
    throw error;
  }
}

async function merge(runs: readonly string[], target: string, signal: AbortSignal | undefined): Promise<{ index: IndexEntry[]; count: number; bytes: number }> {
  const out = createWriteStream(target);
  const index: IndexEntry[] = [];
  let count = 0;
  let bytes = 0;
  const sources = runs.map((run) => linesOf(run));
  const heap = new LineHeap();
  try {
    for (const [source, lines] of sources.entries()) {
      const first = await lines.next();
      if (!first.done) heap.push({ line: parseLine(first.value), source });
    }
    while (heap.size > 0) {
      signal?.throwIfAborted();
      const { line, source } = heap.pop()!;
      if (count % INDEX_EVERY === 0) index.push({ key: line.key, offset: bytes });
      const chunk = `${line.text}\n`;
      count += 1;
      bytes += Buffer.byteLength(chunk);
      if (!out.write(chunk)) await once(out, 'drain');
      const next = await sources[source]!.next();
      if (!next.done) heap.push({ line: parseLine(next.value), source });
    }
    out.end();
    await once(out, 'finish');
  } finally {
    out.destroy();
    await Promise.all(sources.map((lines) => lines.return(undefined)));
  }
  return { index, count, bytes };
}

function createRead(dir: string, path: string, index: readonly IndexEntry[], count: number, bytes: number): SpilledRead {
  let leases = 0;
  let removing: Promise<void> | undefined;
  let drained: (() => void) | undefined;

  /** The offset of the last indexed event whose key is strictly before `key` (all events equal to it come later). */
  const startOffset = (key: EventKey): number => {
    let lo = 0;
    let hi = index.length - 1;
    let found = 0;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (compareKeys(index[mid]!.key, key) < 0) {
        found = index[mid]!.offset;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  };

  return {
    count,
    bytes,
    async page(after, limit) {
      const out: SpilledEvent[] = [];
      if (count === 0 || limit <= 0) return out;
      let previous: EventPosition | undefined = after;
      let equalSeen = 0;
      for await (const text of linesOf(path, after ? startOffset(after.key) : 0)) {
        const line = parseLine(text);
        if (after && out.length === 0) {
          const order = compareKeys(line.key, after.key);
          if (order < 0) continue;
          if (order === 0 && ++equalSeen <= after.n) continue;
        }
        const n = previous && compareKeys(previous.key, line.key) === 0 ? previous.n + 1 : 1;
        previous = { key: line.key, n };
        out.push({ record: recordOf(line.text), position: previous });
        if (out.length >= limit) break;
      }
      return out;
    },
    lease() {
      if (removing) return undefined;
      leases += 1;
      let released = false;
      return () => {
        if (released) return;
        released = true;
        leases -= 1;
        if (leases === 0) drained?.();
      };
    },
    remove() {
      removing ??= (async () => {
        if (leases > 0) await new Promise<void>((resolve) => (drained = resolve));
        await rm(dir, { recursive: true, force: true });
      })();
      return removing;
    },
  };
}
