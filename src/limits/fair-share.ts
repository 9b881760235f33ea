/**
 * Per-client fair share of a project's hourly budget: one noisy client
 * (an API key; anonymous callers share one id) cannot spend the whole window
 * and starve the others.
 *
 * A client may open at most `ceil(limit × (1 − newcomerReserve) / active)`
 * calls per rolling hour, where `active` counts the clients that opened a
 * call in that hour (itself included). A lone API-key client thus keeps a
 * quarter of the window (by default) free for the next client to arrive, and
 * with more clients each gets an equal part. Anonymous callers (one shared
 * id) get `ceil(limit / active)`: without keys there is no other client to
 * keep room for. Only calls a client opens count: riding
 * on a call another request opened (a merged batch, a cached answer) is free.
 *
 * Counts are per gateway instance (a client usually talks to one instance;
 * the project-wide limit itself is shared through the budget store).
 */
import type { FamilyLimits } from '../mixpanel/rate-limits.js';
import { RateLimitedError } from '../mixpanel/errors.js';
import type { ApiFamily } from '../mixpanel/types.js';
import { WINDOW_MS } from './defaults.js';

/** The id anonymous callers share. */
export const ANONYMOUS_CLIENT = 'anonymous';

/** Default part of the window a lone client leaves for newcomers. */
export const DEFAULT_NEWCOMER_RESERVE = 0.25;

export interface FairShareOptions {
  readonly limitsOf: (family: ApiFamily) => FamilyLimits;
  /** Part of the hourly window no single client may take, kept for clients yet to come (0..1). Default 0.25. */
  readonly newcomerReserve?: number;
  /** Default Date.now. */
  readonly now?: () => number;
}

export interface FairShareSnapshot {
  /** Clients that opened a call in the rolling hour. */
  readonly activeClients: number;
  /** Calls each client may open per rolling hour now; null when the family has no hourly limit. */
  readonly perClient: number | null;
}

export interface FairShare {
  /** Throws RateLimitedError when `clientId` has spent its share of the family's hour. */
  check(family: ApiFamily, clientId: string | undefined): void;
  /** Counts one call opened by `clientId`. */
  record(family: ApiFamily, clientId: string | undefined): void;
  snapshot(family: ApiFamily): FairShareSnapshot;
}

export function createFairShare(options: FairShareOptions): FairShare {
  const now = options.now ?? Date.now;
  const reserve = Math.min(0.9, Math.max(0, options.newcomerReserve ?? DEFAULT_NEWCOMER_RESERVE));
  /** Send times per family and client, oldest first. */
  const sent = new Map<ApiFamily, Map<string, number[]>>();

  const live = (family: ApiFamily, at: number): Map<string, number[]> => {
    const clients = sent.get(family) ?? new Map<string, number[]>();
    sent.set(family, clients);
    for (const [client, times] of clients) {
      const first = times.findIndex((time) => time + WINDOW_MS.hour > at);
      if (first === -1) clients.delete(client);
      else if (first > 0) times.splice(0, first);
    }
    return clients;
  };

  const shareOf = (limit: number, active: number, keyed: boolean): number => Math.max(1, Math.ceil((limit * (keyed ? 1 - reserve : 1)) / Math.max(1, active)));

  return {
    check(family, clientId) {
      const limit = options.limitsOf(family).perHour;
      if (limit === undefined || limit <= 0) return;
      const id = clientId ?? ANONYMOUS_CLIENT;
      const at = now();
      const clients = live(family, at);
      const own = clients.get(id) ?? [];
      const active = clients.size + (clients.has(id) ? 0 : 1);
      const share = shareOf(limit, active, clientId !== undefined);
      // A share of the whole window is no limit: the budget itself refuses what does not fit.
      if (own.length < share || share >= limit) return;
      const oldest = own[own.length - share] ?? at;
      throw new RateLimitedError(
        family,
        Math.max(0, oldest + WINDOW_MS.hour - at),
        `This client's fair share of the project's Mixpanel ${family} budget (${share} calls per hour among ${active} clients) is spent; retry later`,
      );
    },
    record(family, clientId) {
      if (options.limitsOf(family).perHour === undefined) return;
      const clients = live(family, now());
      const id = clientId ?? ANONYMOUS_CLIENT;
      const times = clients.get(id) ?? [];
      times.push(now());
      clients.set(id, times);
    },
    snapshot(family) {
      const limit = options.limitsOf(family).perHour;
      const clients = live(family, now());
      return { activeClients: clients.size, perClient: limit === undefined ? null : shareOf(limit, Math.max(1, clients.size), true) };
    },
  };
}
