/**
 * Event counts by event, for the whole project: a plain segmentation (one
 * event, no `on`, `where` or `interval`) and an `eventCounts` over a list of
 * events are both counts of events over one (type, unit, range), which
 * Mixpanel's /events answers for a list of events in one call
 * (https://developer.mixpanel.com/reference/events). So every such read of
 * one range, from any request, merges into one /events call while it waits
 * for its merge window or a budget slot (src/upstream/batcher.ts), the answer
 * is split back per event, and each event's counts are cached as an entity:
 * a later chart of an event already read costs nothing.
 *
 * A merged call also reads ahead the events charted recently (in any range)
 * and whatever `readAheadNames` offers, up to the per-call cap: one call
 * then refreshes or first-loads the charts nobody has asked for yet, for free.
 */
import type { EntityCache } from '../cache/entity-cache.js';
import { BACKGROUND_PRIORITY } from '../limits/defaults.js';
import type { RequestStats } from '../limits/types.js';
import { MixpanelError, RateLimitedError } from '../mixpanel/errors.js';
import type { CountType, SegmentationUnit, SeriesResponse } from '../mixpanel/types.js';
import { createBatcher, type BatchWaiter } from './batcher.js';
import { ENDPOINTS, EVENTS_MERGE, eventNameBytes } from './endpoints.js';
import type { Send } from './sources.js';

/** What the counts of one read have in common: one /events call's parameters but its events. */
export interface EventCountsRange {
  readonly type: CountType;
  readonly unit: SegmentationUnit;
  readonly fromDate: string;
  readonly toDate: string;
}

/** One event's counts over a range: the range's buckets, and the count per bucket Mixpanel gave (it may leave zeros out). */
export interface EventCounts {
  readonly series: readonly string[];
  readonly counts: Readonly<Record<string, number>>;
}

export interface EventCountsRead {
  /** The answer /events gives for these events (in the order asked), each event present, empty when it had none. */
  readonly response: SeriesResponse;
  /** When the oldest of the counts was read from Mixpanel (epoch ms). */
  readonly fetchedAt: number;
}

export interface EventCountSourceOptions {
  readonly project: string;
  readonly entities: EntityCache;
  readonly send: Send;
  /** Whether reads of different requests merge (and read ahead). */
  readonly coalesce: boolean;
  readonly windowMs: () => number;
  readonly maxWaitMs: number;
  /** How long counts of a range are fresh (a range ending today changes, one ending before does not). */
  readonly ttlMs: (range: EventCountsRange) => number;
  /** How long past their TTL counts may stand in for a read the budget refuses. */
  readonly staleMs: number;
  /** Whether the budget is down to what first views need: counts with stale ones standing in are then served stale. Default: never. */
  readonly scarce?: () => boolean;
  /** More event names worth reading along (e.g. the project's documented events). Default: none. */
  readonly readAheadNames?: () => readonly string[];
  readonly onBatch?: (size: number, waitMs: number, requests: number) => void;
  readonly onStale?: () => void;
  readonly now?: () => number;
  readonly timers?: { setTimeout(callback: () => void, ms: number): unknown; clearTimeout(handle: unknown): void };
}

export interface EventCountSource {
  /** Counts of each event over the range: fresh from the entity cache, else from a merged /events call, else (refused) stale. */
  read(range: EventCountsRange, events: readonly string[], waiter: BatchWaiter): Promise<EventCountsRead>;
}

/** Merge keys (ranges) whose charted events are remembered, the most recent kept. */
const REMEMBERED_RANGES = 64;

const rangeKey = (range: EventCountsRange): string => JSON.stringify({ type: range.type, unit: range.unit, fromDate: range.fromDate, toDate: range.toDate });

const staleMayServe = (error: unknown): boolean => error instanceof RateLimitedError || (error instanceof MixpanelError && error.retryable);

/** Adds `name` as the most recent of `names`, dropping the oldest beyond `max`. */
function remember(names: Set<string>, name: string, max: number): void {
  names.delete(name);
  names.add(name);
  if (names.size > max) names.delete(names.values().next().value as string);
}

export function createEventCountSource(options: EventCountSourceOptions): EventCountSource {
  const now = options.now ?? Date.now;
  const entityKey = (key: string, name: string): string => `${key}\u0000${name}`;
  /** Events charted recently, per range and over all ranges, most recent last. */
  const chartedIn = new Map<string, Set<string>>();
  const charted = new Set<string>();
  /** Events read ahead in a call now in flight, per entity key: a request for one waits for that call. */
  const readingAhead = new Map<string, Promise<unknown>>();

  const note = (key: string, names: readonly string[]): void => {
    if (!options.coalesce) return;
    let own = chartedIn.get(key);
    if (own) chartedIn.delete(key);
    else own = new Set();
    chartedIn.set(key, own);
    if (chartedIn.size > REMEMBERED_RANGES) chartedIn.delete(chartedIn.keys().next().value as string);
    for (const name of names) {
      remember(own, name, EVENTS_MERGE.maxIds);
      remember(charted, name, EVENTS_MERGE.maxIds);
    }
  };

  /** Names to read along with `asked`: charted in this range, then in others, then offered; none fresh, within the call's limits. */
  const ahead = (key: string, asked: readonly string[]): string[] => {
    if (!options.coalesce) return [];
    const taken = new Set(asked);
    let bytes = asked.reduce((sum, name) => sum + eventNameBytes(name), 0);
    const extra: string[] = [];
    const candidates = [...[...(chartedIn.get(key) ?? [])].reverse(), ...[...charted].reverse(), ...(options.readAheadNames?.() ?? [])];
    for (const name of candidates) {
      if (taken.size >= EVENTS_MERGE.maxIds) break;
      if (taken.has(name) || readingAhead.has(entityKey(key, name)) || batcher.has(key, name)) continue;
      if (options.entities.isFresh('eventCounts', options.project, entityKey(key, name))) continue;
      const size = eventNameBytes(name);
      if (bytes + size > EVENTS_MERGE.maxIdBytes) continue;
      bytes += size;
      taken.add(name);
      extra.push(name);
    }
    return extra;
  };

  const batcher = createBatcher<string, EventCounts>({
    family: ENDPOINTS.events.family,
    merge: EVENTS_MERGE,
    enabled: options.coalesce,
    windowMs: options.windowMs,
    maxWaitMs: options.maxWaitMs,
    now,
    ...(options.timers ? { timers: options.timers } : {}),
    ...(options.onBatch ? { onBatch: options.onBatch } : {}),
    async run(batch) {
      const range = JSON.parse(batch.mergeKey) as EventCountsRange;
      let names: string[] | undefined;
      let extra: readonly string[] = [];
      let settle = (): void => undefined;
      const flight = new Promise<void>((resolve) => (settle = resolve));
      try {
        const answer = await options.send(
          'events',
          () => {
            // Every event that joined while the call waited goes along, and the read-ahead fills the rest; a retry sends the same.
            if (names === undefined) {
              const asked = batch.take();
              extra = ahead(batch.mergeKey, asked);
              for (const name of extra) readingAhead.set(entityKey(batch.mergeKey, name), flight);
              names = [...asked, ...extra].sort();
            }
            return { events: names, type: range.type, unit: range.unit, fromDate: range.fromDate, toDate: range.toDate };
          },
          { deadline: batch.deadline, priority: batch.priority, signal: batch.signal, opener: batch.opener },
        );
        const found = new Map<string, EventCounts>();
        const ttlMs = options.ttlMs(range);
        for (const name of names ?? []) {
          // An event without counts in the range is an answer too: none.
          const counts: EventCounts = { series: answer.data.series, counts: answer.data.values[name] ?? {} };
          found.set(name, counts);
          options.entities.store('eventCounts', options.project, entityKey(batch.mergeKey, name), counts, ttlMs, options.staleMs);
        }
        return found;
      } finally {
        for (const name of extra) if (readingAhead.get(entityKey(batch.mergeKey, name)) === flight) readingAhead.delete(entityKey(batch.mergeKey, name));
        settle();
      }
    },
  });

  return {
    async read(range, events, waiter) {
      const key = rangeKey(range);
      const wanted = [...new Set(events)];
      note(key, wanted);
      const found = new Map<string, EventCounts>();
      const stale = new Map<string, { counts: EventCounts; fetchedAt: number }>();
      // When the oldest of the counts was read: counts loaded below were read when their call answered.
      let oldest = Number.POSITIVE_INFINITY;
      const lookup = (name: string, stats: RequestStats | undefined): boolean => {
        const entry = options.entities.lookup<EventCounts>('eventCounts', options.project, entityKey(key, name));
        if (entry.state === 'fresh' && entry.entry.value !== undefined) {
          if (stats) stats.cacheHits++;
          found.set(name, entry.entry.value);
          oldest = Math.min(oldest, entry.entry.fetchedAt);
          return true;
        }
        if (stats) stats.cacheMisses++;
        if (entry.state === 'stale' && entry.entry.value !== undefined) stale.set(name, { counts: entry.entry.value, fetchedAt: entry.entry.fetchedAt });
        return false;
      };
      let missing = wanted.filter((name) => !lookup(name, waiter.stats));
      // Read ahead by a call in flight: its answer is as good as a call of our own, and costs nothing.
      const flights = new Set(missing.map((name) => readingAhead.get(entityKey(key, name))).filter((f) => f !== undefined));
      if (flights.size > 0) {
        await Promise.all(flights);
        missing = missing.filter((name) => !lookup(name, undefined));
      }
      const serveStale = (): void => {
        for (const name of missing) {
          const entry = stale.get(name)!;
          found.set(name, entry.counts);
          oldest = Math.min(oldest, entry.fetchedAt);
        }
        waiter.stats.staleAnswers = (waiter.stats.staleAnswers ?? 0) + 1;
        waiter.stats.staleSeconds = Math.max(waiter.stats.staleSeconds ?? 0, Math.floor((now() - oldest) / 1000));
        waiter.stats.maxAgeSeconds = 0;
        options.onStale?.();
      };
      // Near exhaustion, what was read a little while ago beats spending what a first view needs. A background
      // refresh queues all the same: the budget keeps it off what first views need, and one /events call then
      // refreshes every chart of the range, worth a slot as much as any other stale read's refresh.
      const refresh = waiter.priority >= BACKGROUND_PRIORITY;
      if (missing.length > 0 && !refresh && missing.every((name) => stale.has(name)) && options.scarce?.()) {
        serveStale();
        missing = [];
      }
      if (missing.length > 0) {
        try {
          const loaded = await batcher.load(key, missing, waiter);
          oldest = Math.min(oldest, now());
          for (const [name, outcome] of loaded) found.set(name, outcome.found ? outcome.value : { series: [], counts: {} });
        } catch (error) {
          // Refused or failed: counts read a while ago stand in, said to be stale, when every event has some.
          if (waiter.signal.aborted || !staleMayServe(error) || missing.some((name) => !stale.has(name))) throw error;
          serveStale();
        }
      }
      const series = [...found.values()].find((counts) => counts.series.length > 0)?.series ?? [];
      const values = Object.fromEntries(wanted.map((name) => [name, found.get(name)?.counts ?? {}]));
      return { response: { data: { series: [...series], values }, legend_size: wanted.length }, fetchedAt: Number.isFinite(oldest) ? oldest : now() };
    },
  };
}
