/**
 * Read-ahead of a project's whole user-profile listing: when the first
 * profile misses the entity cache, engage lists every profile, 1,000 a page
 * with session paging (https://developer.mixpanel.com/reference/engage-query),
 * all properties, and each page feeds the entity cache. For a project of
 * 10,000 profiles that is 10 calls for every profile page of the hour,
 * where reads by `distinct_ids` cost one call per burst of new ids however
 * many are merged.
 *
 * Page 0 carries `total`: the read-ahead goes on only when the pages left
 * fit what the budget can spare (half of what is left above the interactive
 * reserve, and at most `maxPages` in all); otherwise page 0 has primed a
 * thousand profiles and the rest are read by id as before. Requests that
 * miss while the listing is read wait for it (within their own deadline),
 * then read by id only what it did not bring.
 */
import type { EngagePage } from '../mixpanel/types.js';
import type { CallContext } from './call-context.js';

/**
 * How long each page after page 0 may wait for a budget slot, in ms: no request waits for those pages
 * beyond its own deadline, and a listing cut short by one request's deadline would have spent page 0 for little.
 */
export const FOLLOW_ON_PAGE_DEADLINE_MS = 10 * 60_000;
/**
 * Budget priority of the pages after page 0 (lower goes first; requests default to 0): each page
 * answers a thousand profiles' first views, more than any other call waiting with it.
 */
export const FOLLOW_ON_PAGE_PRIORITY = -1;

export interface ProfileReadAheadOptions {
  /** Most engage pages one read-ahead may send, page 0 included; 0 turns it off. */
  readonly maxPages: number;
  /**
   * Reads one page of the whole listing (no filter, all properties); the caller feeds the
   * entity cache from it. Its context's signal is the read-ahead's own: a caller going away never cancels it.
   */
  readonly readPage: (page: { readonly sessionId?: string; readonly page?: number }, context: CallContext) => Promise<EngagePage>;
  /** Calls the Query budget can spare now (above the interactive reserve). */
  readonly spareCalls: () => number;
  /** Whether pages after page 0 count against the hourly limit (then they must fit `spareCalls`). */
  readonly followOnPagesCount: boolean;
  /** How long one read-ahead stands: no new one starts before it has passed (its entries serve as fresh, then stale). */
  readonly everyMs: number;
  readonly now: () => number;
  readonly timers: { setTimeout(callback: () => void, ms: number): unknown; clearTimeout(handle: unknown): void };
  /** Called when a read-ahead ends: how many pages it read and whether it read the whole listing. */
  readonly onDone?: (pages: number, complete: boolean) => void;
}

export interface ProfileReadAhead {
  /**
   * Resolves once the current read-ahead (started now if none stands) has read what it will, or at
   * the caller's deadline or abort, whichever comes first. Never rejects: a failed read-ahead leaves
   * the ids to the read by id.
   */
  cover(context: CallContext): Promise<void>;
  /**
   * Whether a read-ahead that read the whole listing within the last `withinMs` brought `distinctId`;
   * undefined when none did. False means Mixpanel does not know the id.
   */
  listed(distinctId: string, withinMs: number): boolean | undefined;
  /**
   * Forgets which ids the last listing had (after a profile write, say): ids it lacked are read by id
   * again. It does not start a new listing sooner.
   */
  forgetListing(): void;
}

export function createProfileReadAhead(options: ProfileReadAheadOptions): ProfileReadAhead {
  let running: Promise<void> | undefined;
  /** When the last read-ahead ended, and whether it read every page. */
  let ended: { readonly at: number; readonly complete: boolean } | undefined;
  /** The distinct ids the last read-ahead listed (at most `maxPages` × 1,000). */
  let listedIds = new Set<string>();

  const run = async (context: CallContext): Promise<void> => {
    let pages = 0;
    let complete = false;
    const seen = new Set<string>();
    const note = (page: EngagePage): void => {
      for (const profile of page.results) seen.add(String(profile.$distinct_id));
    };
    try {
      let page = await options.readPage({}, context);
      pages = 1;
      note(page);
      const total = page.total;
      const pageCount = total === undefined || page.page_size <= 0 ? undefined : Math.ceil(total / page.page_size);
      const wanted = pageCount !== undefined && pageCount <= options.maxPages && (!options.followOnPagesCount || pageCount - 1 <= options.spareCalls());
      complete = page.results.length < page.page_size || (pageCount !== undefined && pageCount <= 1);
      while (wanted && !complete) {
        page = await options.readPage(
          { sessionId: page.session_id, page: page.page + 1 },
          { ...context, deadline: options.now() + FOLLOW_ON_PAGE_DEADLINE_MS, priority: FOLLOW_ON_PAGE_PRIORITY },
        );
        pages++;
        note(page);
        complete = page.results.length < page.page_size || page.results.length === 0 || pages >= (pageCount ?? 0);
      }
    } finally {
      // A page 0 the budget refused spent nothing: the next miss tries again.
      if (pages > 0) {
        ended = { at: options.now(), complete };
        listedIds = complete ? seen : new Set();
        options.onDone?.(pages, complete);
      }
    }
  };

  const standing = (): boolean => ended !== undefined && options.now() - ended.at < options.everyMs;

  return {
    cover(context) {
      if (options.maxPages <= 0) return Promise.resolve();
      if (!running && !standing()) {
        // Shared by every request that misses meanwhile: the first one going away must not cancel it.
        running = run({ ...context, signal: new AbortController().signal })
          .catch(() => undefined)
          .finally(() => {
            running = undefined;
          });
      }
      if (!running) return Promise.resolve();
      return untilDeadlineOrAbort(running, context, options);
    },
    forgetListing() {
      if (ended) ended = { at: ended.at, complete: false };
      listedIds = new Set();
    },
    listed(distinctId, withinMs) {
      if (ended?.complete !== true || options.now() - ended.at >= withinMs) return undefined;
      return listedIds.has(distinctId);
    },
  };
}

function untilDeadlineOrAbort(promise: Promise<void>, context: CallContext, options: Pick<ProfileReadAheadOptions, 'now' | 'timers'>): Promise<void> {
  if (context.signal.aborted) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const left = context.deadline - options.now();
    const timer = Number.isFinite(left) ? options.timers.setTimeout(resolve, Math.max(0, left)) : undefined;
    const onAbort = (): void => resolve();
    context.signal.addEventListener('abort', onAbort, { once: true });
    void promise.finally(() => {
      if (timer !== undefined) options.timers.clearTimeout(timer);
      context.signal.removeEventListener('abort', onAbort);
      resolve();
    });
  });
}
