/**
 * Mixpanel's documented limits (https://developer.mixpanel.com/reference/rate-limits), per project and per
 * family, on the emulated clock. A refused request consumes nothing.
 */
import type { ApiFamily } from '../mixpanel/types.js';
import type { Clock } from './types.js';

export interface RateLimits {
  readonly query: { readonly concurrent: number; readonly perHour: number };
  readonly export: { readonly concurrent: number; readonly perHour: number; readonly perSecond: number };
  readonly lexicon: { readonly perMinute: number };
  /** Uncompressed request bytes per rolling minute. */
  readonly ingestion: { readonly bytesPerMinute: number };
}

/** Overrides, per family and per number; anything omitted keeps the documented value. */
export type RateLimitOverrides = { readonly [F in keyof RateLimits]?: Partial<RateLimits[F]> };

export const DOCUMENTED_LIMITS: RateLimits = {
  query: { concurrent: 5, perHour: 60 },
  export: { concurrent: 100, perHour: 60, perSecond: 3 },
  lexicon: { perMinute: 5 },
  ingestion: { bytesPerMinute: 2 * 1024 ** 3 },
};

export function resolveLimits(overrides: RateLimitOverrides = {}): RateLimits {
  return {
    query: { ...DOCUMENTED_LIMITS.query, ...overrides.query },
    export: { ...DOCUMENTED_LIMITS.export, ...overrides.export },
    lexicon: { ...DOCUMENTED_LIMITS.lexicon, ...overrides.lexicon },
    ingestion: { ...DOCUMENTED_LIMITS.ingestion, ...overrides.ingestion },
  };
}

const SECOND = 1_000;
const MINUTE = 60_000;
const HOUR = 3_600_000;

/** A rolling window of weighted entries. */
class Window {
  private entries: { at: number; weight: number }[] = [];
  constructor(private readonly spanMs: number) {}

  total(now: number): number {
    this.prune(now);
    return this.entries.reduce((sum, e) => sum + e.weight, 0);
  }

  add(now: number, weight: number): void {
    this.entries.push({ at: now, weight });
  }

  /** Ms until the oldest entry leaves the window. */
  msUntilFree(now: number): number {
    this.prune(now);
    const oldest = this.entries[0];
    return oldest ? oldest.at + this.spanMs - now : 0;
  }

  private prune(now: number): void {
    let drop = 0;
    while (drop < this.entries.length && (this.entries[drop] as { at: number }).at <= now - this.spanMs) drop++;
    if (drop > 0) this.entries.splice(0, drop);
  }
}

interface FamilyState {
  inFlight: number;
  readonly second: Window;
  readonly minute: Window;
  readonly hour: Window;
}

export interface AdmitOptions {
  /** Counted weight: 1 per call, or the request's bytes for ingestion. Default 1. */
  readonly weight?: number;
  /** False for calls the hourly window does not count (engage follow-on pages, when so configured). Default true. */
  readonly countsAgainstHourly?: boolean;
}

export type Admission =
  | { readonly ok: true; release(): void }
  | {
      readonly ok: false;
      /** Mixpanel's wording for this family, with counters that include the refused call. */
      readonly message: string;
      /** For the export 429's Retry-After (emulated seconds); undefined where Mixpanel's is unknown. */
      readonly retryAfterSeconds: number | undefined;
    };

export interface RateLimiter {
  admit(projectId: string, family: ApiFamily, options?: AdmitOptions): Admission;
  /** The 429 message a forced rate-limit fault carries, with the current counters. */
  describe(projectId: string, family: ApiFamily): string;
}

const QUERY_DOCS = 'https://help.mixpanel.com/hc/en-us/articles/115004602563-Rate-Limits-for-Export-API-Endpoints';
/** The 429 body text of the ingestion spec (https://developer.mixpanel.com/reference/import-events); also used for every ingestion endpoint. */
export const INGESTION_RATE_LIMIT_MESSAGE = 'Project exceeded rate limits. Please retry the request with exponential backoff.';

export function createRateLimiter(limits: RateLimits, clock: Clock): RateLimiter {
  const states = new Map<string, FamilyState>();
  const stateOf = (projectId: string, family: ApiFamily): FamilyState => {
    const key = `${family}:${projectId}`;
    let state = states.get(key);
    if (!state) {
      state = { inFlight: 0, second: new Window(SECOND), minute: new Window(MINUTE), hour: new Window(HOUR) };
      states.set(key, state);
    }
    return state;
  };

  // The observed Query 429 text (https://github.com/airbytehq/airbyte/issues/9410); its counters include the refused call.
  const queryMessage = (projectId: string, running: number, hourly: number): string =>
    `Query rate limit exceeded for project_id: ${projectId}. ${running}/${limits.query.concurrent} queries running concurrently ` +
    `and ${hourly}/${limits.query.perHour} queries running in the last hour. ` +
    `For more information, please consult our documentation at ${QUERY_DOCS}`;
  // Export's 429 is a plain string whose wording is undocumented; this mirrors the Query text.
  const exportMessage = (projectId: string, running: number, hourly: number, perSecond: number): string =>
    `Export rate limit exceeded for project_id: ${projectId}. ${running}/${limits.export.concurrent} queries running concurrently, ` +
    `${hourly}/${limits.export.perHour} queries in the last hour and ${perSecond}/${limits.export.perSecond} queries in the last second.`;
  // Lexicon's 429 wording is undocumented; the App family's shape is {"error","status":"error"}.
  const lexiconMessage = (minute: number): string => `Rate limit exceeded: ${minute}/${limits.lexicon.perMinute} requests in the last minute.`;

  function describe(projectId: string, family: ApiFamily): string {
    const s = stateOf(projectId, family);
    const now = clock.now();
    switch (family) {
      case 'query':
        return queryMessage(projectId, s.inFlight + 1, s.hour.total(now) + 1);
      case 'export':
        return exportMessage(projectId, s.inFlight + 1, s.hour.total(now) + 1, s.second.total(now) + 1);
      case 'lexicon':
        return lexiconMessage(s.minute.total(now) + 1);
      case 'ingestion':
      case 'app':
        return INGESTION_RATE_LIMIT_MESSAGE;
    }
  }

  function admitted(state: FamilyState, record: () => void): Admission {
    record();
    state.inFlight++;
    let released = false;
    return {
      ok: true,
      release() {
        if (released) return;
        released = true;
        state.inFlight--;
      },
    };
  }

  return {
    describe,
    admit(projectId, family, options = {}) {
      const now = clock.now();
      const state = stateOf(projectId, family);
      const weight = options.weight ?? 1;
      switch (family) {
        case 'query': {
          const counts = options.countsAgainstHourly !== false;
          const hourly = state.hour.total(now);
          if (state.inFlight >= limits.query.concurrent || (counts && hourly >= limits.query.perHour)) {
            // Whether Query 429s carry Retry-After is unknown (https://developer.mixpanel.com/reference/rate-limits is silent): none is sent.
            return { ok: false, message: queryMessage(projectId, state.inFlight + 1, hourly + (counts ? 1 : 0)), retryAfterSeconds: undefined };
          }
          return admitted(state, () => counts && state.hour.add(now, 1));
        }
        case 'export': {
          const hourly = state.hour.total(now);
          const perSecond = state.second.total(now);
          const overHour = hourly >= limits.export.perHour;
          const overSecond = perSecond >= limits.export.perSecond;
          if (state.inFlight >= limits.export.concurrent || overHour || overSecond) {
            const waitMs = Math.max(overHour ? state.hour.msUntilFree(now) : 0, overSecond ? state.second.msUntilFree(now) : 0);
            return {
              ok: false,
              message: exportMessage(projectId, state.inFlight + 1, hourly + 1, perSecond + 1),
              retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)),
            };
          }
          return admitted(state, () => {
            state.hour.add(now, 1);
            state.second.add(now, 1);
          });
        }
        case 'lexicon': {
          // The reference page scopes this per organization (https://developer.mixpanel.com/reference/limits);
          // https://developer.mixpanel.com/reference/rate-limits says per project, which is modelled.
          const minute = state.minute.total(now);
          if (minute >= limits.lexicon.perMinute) return { ok: false, message: lexiconMessage(minute + 1), retryAfterSeconds: undefined };
          return admitted(state, () => state.minute.add(now, 1));
        }
        case 'ingestion': {
          if (state.minute.total(now) + weight > limits.ingestion.bytesPerMinute) {
            return { ok: false, message: INGESTION_RATE_LIMIT_MESSAGE, retryAfterSeconds: undefined };
          }
          return admitted(state, () => state.minute.add(now, weight));
        }
        case 'app':
          // Annotations and other App endpoints: limits undocumented (https://developer.mixpanel.com/reference/rate-limits names none).
          return admitted(state, () => undefined);
      }
    },
  };
}

/** Engage pages after the first of a session (page > 0 with a session_id). */
export function isEngageFollowOnPage(canonicalPath: string, params: Readonly<Record<string, string>>): boolean {
  return canonicalPath === '/api/query/engage' && Number(params.page ?? 0) > 0 && (params.session_id ?? '') !== '';
}
