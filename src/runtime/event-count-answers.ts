/**
 * Segmentation and /events answers drawn from per-event counts (src/upstream/event-counts.ts): which calls
 * /events answers as well as their own endpoint, the merged count source wired to the budget, and the
 * events Lexicon documents (read along in every merged call). Separate from the runtime's one path
 * because it is a second way to answer two endpoints, behind the same response cache.
 */
import type { EntityCache } from '../cache/entity-cache.js';
import { cacheKey } from '../cache/keys.js';
import { analyticsKind, type ResponseCache } from '../cache/response-cache.js';
import type { CacheConfig, EconomyConfig, ProjectConfig } from '../config/types.js';
import type { Clock } from '../limits/clock.js';
import { BACKGROUND_PRIORITY } from '../limits/defaults.js';
import type { EventsParams, LexiconSchemaEntry, SegmentationParams, SeriesResponse } from '../mixpanel/types.js';
import type { Metrics } from '../observability/metrics.js';
import { ENDPOINTS, EVENTS_MAX_PER_CALL, isPlainSegmentation, type EndpointName } from '../upstream/endpoints.js';
import { createEventCountSource, type EventCountsRange } from '../upstream/event-counts.js';
import type { Send } from '../upstream/sources.js';
import type { CallContext } from './types.js';

export interface EventCountAnswersOptions {
  readonly config: ProjectConfig;
  readonly cacheConfig: CacheConfig;
  readonly economy: EconomyConfig;
  readonly cache: ResponseCache;
  readonly entities: EntityCache;
  /** The runtime's send (fair share and budget). */
  readonly send: Send;
  /** The merge window of the events family now. */
  readonly windowMs: () => number;
  /** Whether the events family is scarce now (src/runtime/scarcity.ts). */
  readonly scarce: () => boolean;
  readonly clock: Clock;
  readonly credentials: string;
  readonly metrics?: Metrics | undefined;
}

export interface EventCountAnswers {
  /** The range and events of a call /events answers as well as its own endpoint: a plain segmentation, or /events over a date range. */
  countsOf(endpoint: EndpointName, params: unknown): { range: EventCountsRange; events: readonly string[] } | undefined;
  /** The call's answer from the per-event counts, behind the response cache. */
  answer(endpoint: EndpointName, params: unknown, range: EventCountsRange, events: readonly string[], context: CallContext): Promise<SeriesResponse>;
  /** Notes the events a Lexicon list documents: a merged /events call reads them along. */
  noteDocumentedEvents(entries: readonly LexiconSchemaEntry[]): void;
}

export function createEventCountAnswers(options: EventCountAnswersOptions): EventCountAnswers {
  const { config, cacheConfig, economy, cache, entities, send, clock, credentials, metrics } = options;

  /** The events the project documents in Lexicon, as last read: charts are drawn of these, so a merged /events call reads them along. */
  let documentedEvents: readonly string[] = [];
  const noteDocumentedEvents = (entries: readonly LexiconSchemaEntry[]): void => {
    documentedEvents = entries
      .filter((entry) => entry.entityType === 'event')
      .map((entry) => entry.name)
      .sort()
      .slice(0, EVENTS_MAX_PER_CALL);
  };

  const eventCounts = createEventCountSource({
    project: config.key,
    entities,
    send,
    coalesce: economy.coalesce,
    windowMs: options.windowMs,
    maxWaitMs: economy.coalesceMaxWaitMs,
    ttlMs: (range) => cacheConfig.ttlMs[analyticsKind(range.toDate, clock.now(), config.timezone)],
    staleMs: cacheConfig.staleMs + economy.lastResortMs,
    scarce: options.scarce,
    // Lexicon is read on its own budget (and at start): its event names cost no Query call.
    readAheadNames: () => documentedEvents,
    now: () => clock.now(),
    timers: { setTimeout: (callback, ms) => clock.setTimeout(callback, ms), clearTimeout: (handle) => clock.clearTimeout(handle) },
    onBatch: (size, waitMs, requests) => {
      metrics?.mergedBatchSize.observe({ project: config.key, endpoint: 'events' }, size);
      metrics?.mergedBatchRequests.observe({ project: config.key, endpoint: 'events' }, requests);
      metrics?.mergedBatchWait.observe({ project: config.key, endpoint: 'events' }, waitMs / 1000);
    },
    onStale: () => metrics?.staleAnswers.inc({ project: config.key, kind: 'eventCounts' }),
  });

  const countsOf = (endpoint: EndpointName, params: unknown): { range: EventCountsRange; events: readonly string[] } | undefined => {
    if (endpoint === 'segmentation') {
      const p = params as SegmentationParams;
      if (!isPlainSegmentation(p)) return undefined;
      return { range: { type: p.type ?? 'general', unit: p.unit ?? 'day', fromDate: p.fromDate, toDate: p.toDate }, events: [p.event] };
    }
    if (endpoint === 'events') {
      const p = params as EventsParams;
      if (p.fromDate === undefined || p.toDate === undefined || p.interval !== undefined) return undefined;
      return { range: { type: p.type, unit: p.unit, fromDate: p.fromDate, toDate: p.toDate }, events: p.events };
    }
    return undefined;
  };

  /**
   * A segmentation or /events answer from the per-event counts (src/upstream/event-counts.ts), behind the
   * response cache as any call: fresh answers as they are, stale ones at once while one refresh runs.
   */
  const answer = (
    endpoint: EndpointName,
    params: unknown,
    range: EventCountsRange,
    events: readonly string[],
    context: CallContext,
  ): Promise<SeriesResponse> => {
    const kind = analyticsKind(range.toDate, clock.now(), config.timezone);
    const key = cacheKey({ project: config.key, kind, family: ENDPOINTS.events.family, endpoint, params, credentials });
    let readAt: number | undefined;
    return cache.get(key, {
      ttlMs: cacheConfig.ttlMs[kind],
      staleMs: cacheConfig.staleMs,
      lastResortMs: economy.lastResortMs,
      signal: context.signal,
      stats: context.stats,
      labels: { project: config.key, kind },
      onStale: (staleKind) => metrics?.staleAnswers.inc({ project: config.key, kind: staleKind }),
      // Counts read for another chart a while ago are fresh only as long as they would have been then.
      loadedAt: () => readAt,
      load: async (signal, refresh) => {
        const read = await eventCounts.read(range, events, {
          // A refresh is worth sending only while the stale value it replaces is still served.
          deadline: refresh ? refresh.staleUntil : context.deadline,
          priority: refresh ? BACKGROUND_PRIORITY : (context.priority ?? 0),
          signal,
          stats: refresh ? { upstreamCalls: 0, cacheHits: 0, cacheMisses: 0, deduplicated: 0 } : context.stats,
          clientId: context.clientId,
        });
        readAt = read.fetchedAt;
        return read.response;
      },
    });
  };

  return { countsOf, answer, noteDocumentedEvents };
}
