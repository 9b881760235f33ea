/**
 * One project's typed schema over time: Lexicon is read at start-up, again
 * every `refreshMs`, and at once after a Lexicon edit made through the
 * gateway. Each read goes through the project's runtime (cache, in-flight
 * sharing, budget) at background priority, as the same request the schema's
 * Lexicon fields send, so it shares their cache entry and the 5/min budget.
 *
 * The schema is swapped atomically: `current()` returns one immutable
 * GraphQLSchema, a request takes it when it starts and keeps it to its end,
 * and a rebuild only replaces what later requests get.
 */
import type { GraphQLSchema } from 'graphql';
import type { Logger } from '../observability/logger.js';
import { BACKGROUND_PRIORITY } from '../limits/defaults.js';
import type { LexiconSchemaEntry } from '../mixpanel/types.js';
import type { ProjectRuntime } from '../runtime/types.js';
import { readLexiconList } from '../runtime/lexicon-list.js';
import { newRequestStats } from '../upstream/call-context.js';
import { buildTypedSchema, type TypedLayer } from './typed-schema.js';

export const DEFAULT_LEXICON_REFRESH_MS = 10 * 60_000;
const DEFAULT_LOAD_DEADLINE_MS = 60_000;
const DEFAULT_RETRY_MS = 60_000;

export interface LexiconTypesOptions {
  /** The project whose Lexicon types the schema. */
  readonly project: ProjectRuntime;
  /** The generic schema the typed layer extends (never modified). */
  readonly generic: GraphQLSchema;
  /**
   * How often Lexicon is read again. Reads go through the cache, so Mixpanel
   * sees at most one call per lexicon cache TTL. Default 10 minutes
   * (LEXICON_REFRESH_MS).
   */
  readonly refreshMs?: number;
  /**
   * How long one read may wait for the Lexicon budget (5 calls a minute);
   * past it the read fails and is retried later. Default 60 s.
   */
  readonly loadDeadlineMs?: number;
  /** After a failed read, the next one comes after min(refreshMs, retryMs). Default 60 s. */
  readonly retryMs?: number;
  /** Where failed reads and names left out are reported. Default: nowhere. */
  readonly logger?: Logger;
  /** Clock of the budget deadlines. Default Date.now. */
  readonly now?: () => number;
}

export interface LexiconTypes {
  /** The schema a request starting now gets: typed once Lexicon has been read, the generic one before. */
  current(): GraphQLSchema;
  /** The typed layer served, or undefined before the first successful read. */
  layer(): TypedLayer | undefined;
  /**
   * Reads Lexicon and swaps the schema when it changed. Never rejects (a
   * failure keeps the schema served and is logged). A call made while a read
   * runs schedules one more read after it; further calls share that one.
   */
  refresh(): Promise<void>;
  /** Stops the timer and aborts a read in progress. */
  close(): void;
}

/** The request the schema's Lexicon fields send (one cache entry serves both), at background priority. */
function readLexicon(project: ProjectRuntime, deadline: number, signal: AbortSignal): Promise<LexiconSchemaEntry[]> {
  return readLexiconList(project, { deadline, signal, stats: newRequestStats(), priority: BACKGROUND_PRIORITY });
}

/** Entries in a canonical order, serialised: equal text, equal typed layer. */
const fingerprint = (entries: readonly LexiconSchemaEntry[]): string =>
  JSON.stringify([...entries].sort((a, b) => `${a.entityType}:${a.name}`.localeCompare(`${b.entityType}:${b.name}`)));

export function createLexiconTypes(options: LexiconTypesOptions): LexiconTypes {
  const { project, generic, logger } = options;
  const now = options.now ?? Date.now;
  const refreshMs = options.refreshMs ?? DEFAULT_LEXICON_REFRESH_MS;
  const retryMs = Math.min(refreshMs, options.retryMs ?? DEFAULT_RETRY_MS);
  const loadDeadlineMs = options.loadDeadlineMs ?? DEFAULT_LOAD_DEADLINE_MS;
  const closed = new AbortController();

  let served: { schema: GraphQLSchema; layer: TypedLayer | undefined; fingerprint: string | undefined } = {
    schema: generic,
    layer: undefined,
    fingerprint: undefined,
  };
  let timer: NodeJS.Timeout | undefined;
  let last: Promise<void> = Promise.resolve();
  let queued: Promise<void> | undefined;

  const schedule = (delayMs: number) => {
    clearTimeout(timer);
    if (closed.signal.aborted) return;
    timer = setTimeout(() => void refresh(), delayMs);
    timer.unref();
  };

  async function load(): Promise<void> {
    if (closed.signal.aborted) return;
    try {
      const entries = await readLexicon(project, now() + loadDeadlineMs, closed.signal);
      const next = fingerprint(entries);
      if (next !== served.fingerprint) {
        const { schema, layer } = buildTypedSchema(generic, entries);
        if (layer.leftOut.length > 0) logger?.warn(`Lexicon types of project ${project.config.key}: names left out after a hash clash`, layer.leftOut);
        served = { schema, layer, fingerprint: next };
      }
      schedule(refreshMs);
    } catch (error) {
      if (closed.signal.aborted) return;
      logger?.warn(`Lexicon types of project ${project.config.key}: reading Lexicon or building its types failed; keeping the schema served`, error);
      schedule(retryMs);
    }
  }

  function refresh(): Promise<void> {
    queued ??= last.then(() => {
      queued = undefined;
      return load();
    });
    last = queued;
    return queued;
  }

  return {
    current: () => served.schema,
    layer: () => served.layer,
    refresh,
    close() {
      closed.abort();
      clearTimeout(timer);
    },
  };
}
