/**
 * The per-project budget: decides when each upstream call may be sent so the
 * gateway itself never causes a 429, and retries (the only place that does).
 *
 * Calls wait in a priority queue per family (lower priority first, FIFO
 * within). A call that provably cannot start before its deadline is refused at
 * once and never sent. Counts live in a BudgetStore (memory or Redis).
 */
import { randomUUID } from 'node:crypto';
import type { FamilyLimits, ProjectLimits } from '../mixpanel/rate-limits.js';
import type { Metrics } from '../observability/metrics.js';
import { MixpanelError, RateLimitedError } from '../mixpanel/errors.js';
import type { ApiFamily } from '../mixpanel/types.js';
import { retryDelay, type BackoffOptions } from './backoff.js';
import {
  BACKGROUND_PRIORITY,
  DEFAULT_INTERACTIVE_RESERVE,
  DEFAULT_LEASE_MS,
  DEFAULT_MAX_RETRIES,
  DEFAULT_POLL_MS,
  DEFAULT_SAFETY_MARGIN_MS,
  WINDOW_MS,
  type WindowName,
} from './defaults.js';
import { createPacer, firstViewReserve, type Pacer } from './pacing.js';
import { createMemoryBudgetStore, type BudgetStore, type WindowLimit } from './store.js';
import type { Budget, BudgetSnapshot, PacingSnapshot, ScheduleOptions } from './types.js';

/** Time and timers, injectable so tests run an hour of budget in milliseconds. */
export interface Clock {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface BudgetOptions {
  /** Counting scope shared by every instance: the Mixpanel project id (Mixpanel counts per project). */
  readonly scope: string;
  readonly limits: ProjectLimits;
  /** Label of the project in metrics. Default: `scope`. */
  readonly projectLabel?: string;
  /** Where counts live. Default: a new memory store, closed with the budget. A store passed in is left open. */
  readonly store?: BudgetStore;
  /** Default: the system clock and timers. */
  readonly clock?: Clock;
  /** Retries per call on 429, 5xx and timeouts. Default 2. */
  readonly maxRetries?: number;
  /** Retry delays when Mixpanel sends no Retry-After. Default: 2 s doubling to 60 s, plus 1-5 s jitter. */
  readonly backoff?: BackoffOptions;
  /** Extra time a call stays counted after its window passed, per window. Default: hour 5 s, minute 1 s, second 250 ms. */
  readonly safetyMarginMs?: Partial<Record<WindowName, number>>;
  /** Concurrency lease length, renewed while a call runs. Default 60000. */
  readonly leaseMs?: number;
  /** How often a call waiting for a concurrency slot re-checks the store. Default 1000. */
  readonly pollMs?: number;
  /** Source of jitter. Default Math.random. */
  readonly random?: () => number;
  /**
   * Part of each hourly window kept for interactive calls (0..1): background
   * refreshes (priority >= BACKGROUND_PRIORITY) never spend it, so a busy
   * cache cannot use up what users asking now need. Default 0.2.
   */
  readonly interactiveReserve?: number;
  /**
   * Whether hourly calls are paced (src/limits/pacing.ts: a burst, then the
   * rest of the hour's limit spread evenly) rather than sent as fast as the
   * rolling window allows. Default false; the gateway turns it on (BUDGET_PACING).
   */
  readonly pacing?: boolean;
  readonly metrics?: Metrics;
}

type CallClass = 'hourly' | 'free';

interface Waiter {
  readonly seq: number;
  /** Lowered to BACKGROUND_PRIORITY once `backgroundAfter` has passed. */
  priority: number;
  readonly backgroundAfter: number;
  readonly deadline: number;
  readonly callClass: CallClass;
  readonly enqueuedAt: number;
  readonly leaseId: string;
  settled: boolean;
  finish(error?: unknown): void;
}

interface FamilyQueue {
  readonly waiters: Waiter[];
  pumping: boolean;
  again: boolean;
  wake: unknown;
}

const WINDOW_ORDER: readonly WindowName[] = ['hour', 'minute', 'second'];

export function createBudget(options: BudgetOptions): Budget {
  const { scope, limits, metrics } = options;
  const store = options.store ?? createMemoryBudgetStore();
  const clock = options.clock ?? systemClock;
  const defaultMaxRetries = options.maxRetries ?? DEFAULT_MAX_RETRIES;
  const leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
  const pollMs = options.pollMs ?? DEFAULT_POLL_MS;
  const random = options.random ?? Math.random;
  const margins = { ...DEFAULT_SAFETY_MARGIN_MS, ...options.safetyMarginMs };
  const labels = (family: ApiFamily) => ({ project: options.projectLabel ?? scope, family });
  const reserveFraction = Math.min(1, Math.max(0, options.interactiveReserve ?? DEFAULT_INTERACTIVE_RESERVE));
  /** Calls of the family's hourly window only interactive calls may spend. */
  const reserveOf = (family: ApiFamily): number => {
    const perHour = familyLimits(family).perHour;
    return perHour === undefined || perHour <= 1 ? 0 : Math.floor(perHour * reserveFraction);
  };

  const queues = new Map<ApiFamily, FamilyQueue>();
  const pacers = new Map<ApiFamily, Pacer | undefined>();
  /** The family's pacer; none without pacing or an hourly limit worth spreading. */
  const pacerOf = (family: ApiFamily): Pacer | undefined => {
    const perHour = familyLimits(family).perHour;
    if (!options.pacing || perHour === undefined || perHour <= 0) return undefined;
    if (!pacers.has(family)) pacers.set(family, createPacer(perHour, clock.now()));
    return pacers.get(family);
  };
  const running = new Set<AbortController>();
  const sleeping = new Set<(error: unknown) => void>();
  let nextSeq = 0;
  let closed = false;

  const familyLimits = (family: ApiFamily): FamilyLimits => limits[family] ?? {};

  /**
   * The windows a call counts against, oldest-clearing last; calls free of the hourly limit skip the hour.
   * A background call sees the hour without the interactive reserve.
   */
  const windowsFor = (family: ApiFamily, callClass: CallClass, background = false): WindowLimit[] => {
    const own = familyLimits(family);
    const hour = own.perHour === undefined ? undefined : own.perHour - (background ? reserveOf(family) : 0);
    const byWindow: Record<WindowName, number | undefined> = {
      hour: callClass === 'hourly' ? hour : undefined,
      minute: own.perMinute,
      second: own.perSecond,
    };
    return WINDOW_ORDER.flatMap((window) => {
      const limit = byWindow[window];
      return limit === undefined ? [] : [{ window, limit, spanMs: WINDOW_MS[window] + margins[window] }];
    });
  };

  const isDisabled = (family: ApiFamily): boolean => Object.values(familyLimits(family)).some((limit) => limit !== undefined && limit <= 0);

  const refusal = (family: ApiFamily, retryAfterMs: number | undefined): RateLimitedError => {
    metrics?.budgetRejected.inc(labels(family));
    const message = `Mixpanel ${family} budget for this project cannot fit this call before its deadline; retry later`;
    return new RateLimitedError(family, retryAfterMs === undefined ? undefined : Math.ceil(retryAfterMs), message);
  };

  const closedError = (): Error => new DOMException('The budget was closed', 'AbortError');

  const queueOf = (family: ApiFamily): FamilyQueue => {
    let queue = queues.get(family);
    if (!queue) {
      queue = { waiters: [], pumping: false, again: false, wake: undefined };
      queues.set(family, queue);
    }
    return queue;
  };

  /** Puts `waiter` in the queue by priority, FIFO within. */
  const place = (queue: FamilyQueue, waiter: Waiter): void => {
    const position = queue.waiters.findIndex(
      (other) => other !== waiter && (other.priority > waiter.priority || (other.priority === waiter.priority && other.seq > waiter.seq)),
    );
    queue.waiters.splice(position === -1 ? queue.waiters.length : position, 0, waiter);
  };

  /** Waiters whose `backgroundAfter` has passed go behind every live call, as background work. */
  const demote = (queue: FamilyQueue, now: number): void => {
    for (const waiter of [...queue.waiters]) {
      if (waiter.priority >= BACKGROUND_PRIORITY || waiter.backgroundAfter > now) continue;
      queue.waiters.splice(queue.waiters.indexOf(waiter), 1);
      waiter.priority = BACKGROUND_PRIORITY;
      place(queue, waiter);
    }
  };

  const classOf = (countsAgainstHourly: boolean | undefined): CallClass => (countsAgainstHourly === false ? 'free' : 'hourly');

  /** Waits for the call's turn and a slot; resolves with the lease id once the call is counted as sent. */
  const acquire = (
    family: ApiFamily,
    call: { seq: number; priority: number; backgroundAfter: number; deadline: number; callClass: CallClass; signal: AbortSignal | undefined },
  ): Promise<string> =>
    new Promise<string>((resolve, reject) => {
      if (closed) return reject(closedError());
      const { signal } = call;
      if (signal?.aborted) return reject(signal.reason);
      const queue = queueOf(family);
      const onAbort = (): void => waiter.finish(signal?.reason);
      const waiter: Waiter = {
        seq: call.seq,
        priority: call.priority,
        backgroundAfter: call.backgroundAfter,
        deadline: call.deadline,
        callClass: call.callClass,
        enqueuedAt: clock.now(),
        leaseId: randomUUID(),
        settled: false,
        finish(error?: unknown) {
          if (waiter.settled) return;
          waiter.settled = true;
          const index = queue.waiters.indexOf(waiter);
          if (index !== -1) queue.waiters.splice(index, 1);
          signal?.removeEventListener('abort', onAbort);
          metrics?.budgetQueued.dec(labels(family));
          if (error === undefined) resolve(waiter.leaseId);
          else reject(error);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      place(queue, waiter);
      metrics?.budgetQueued.inc(labels(family));
      void pump(family);
    });

  const pump = async (family: ApiFamily): Promise<void> => {
    const queue = queueOf(family);
    if (queue.pumping) {
      queue.again = true;
      return;
    }
    queue.pumping = true;
    try {
      do {
        queue.again = false;
        await admit(family, queue);
      } while (queue.again && !closed);
    } catch (error) {
      // The store failed (Redis down): nothing can be admitted, so fail the waiting calls instead of hanging them.
      for (const waiter of [...queue.waiters]) waiter.finish(error);
    } finally {
      queue.pumping = false;
    }
  };

  /** Background hourly calls that cannot wait until `at` fail now, as every call does that cannot meet its deadline. */
  const refuseBackground = (family: ApiFamily, queue: FamilyQueue, at: number, now: number): void => {
    for (const other of [...queue.waiters]) {
      if (other.priority >= BACKGROUND_PRIORITY && other.callClass === 'hourly' && other.deadline < at) other.finish(refusal(family, at - now));
    }
  };

  /** One pass over the queue: start every call the store allows, refuse the ones that cannot meet their deadline. */
  const admit = async (family: ApiFamily, queue: FamilyQueue): Promise<void> => {
    if (queue.wake !== undefined) clock.clearTimeout(queue.wake);
    queue.wake = undefined;
    const blocked: Record<CallClass, boolean> = { hourly: false, free: false };
    let blockedBackground = false;
    let wakeAt = Number.POSITIVE_INFINITY;
    const concurrent = familyLimits(family).concurrent;
    for (;;) {
      if (closed) return;
      const now = clock.now();
      for (const waiter of [...queue.waiters]) if (waiter.deadline < now) waiter.finish(refusal(family, undefined));
      demote(queue, now);
      const waiter = queue.waiters.find(
        (candidate) => !blocked[candidate.callClass] && !(blockedBackground && candidate.priority >= BACKGROUND_PRIORITY && candidate.callClass === 'hourly'),
      );
      if (!waiter) break;
      const pacer = waiter.callClass === 'hourly' ? pacerOf(family) : undefined;
      const background = waiter.priority >= BACKGROUND_PRIORITY;
      if (pacer && background) {
        // Background refreshes leave the pacing's reserve to interactive calls, as they leave the window's,
        // and at least half the burst: a refresh has stale data standing in for it, a first view has nothing.
        const keep = firstViewReserve(pacer.burst, reserveFraction);
        const backgroundAt = pacer.nextAt(now, keep);
        if (backgroundAt > now) {
          blockedBackground = true;
          wakeAt = Math.min(wakeAt, backgroundAt);
          refuseBackground(family, queue, backgroundAt, now);
          continue;
        }
      }
      const pacedUntil = pacer?.nextAt(now) ?? now;
      if (pacedUntil > now) {
        // Paced: no hourly call of the family now; one that cannot wait that long fails fast, as for a full window.
        blocked.hourly = true;
        wakeAt = Math.min(wakeAt, pacedUntil);
        for (const other of [...queue.waiters])
          if (other.callClass === 'hourly' && other.deadline < pacedUntil) other.finish(refusal(family, pacedUntil - now));
        continue;
      }
      const result = await store.tryAcquire({
        scope,
        family,
        now,
        windows: windowsFor(family, waiter.callClass, waiter.priority >= BACKGROUND_PRIORITY),
        concurrent,
        leaseId: waiter.leaseId,
        leaseUntil: now + leaseMs,
      });
      if (result.granted) {
        pacer?.take(now);
        if (waiter.settled) await store.release(scope, family, waiter.leaseId);
        else {
          metrics?.budgetQueueWait.observe(labels(family), (clock.now() - waiter.enqueuedAt) / 1000);
          waiter.finish();
        }
        continue;
      }
      if (result.concurrencyFull) {
        // A local release wakes the queue at once; the poll catches releases by other instances.
        blocked.hourly = blocked.free = true;
        wakeAt = Math.min(wakeAt, now + pollMs, result.leaseExpiresAt ?? Number.POSITIVE_INFINITY);
      }
      if (result.notBefore !== null) {
        const notBefore = result.notBefore;
        // A background call blocked by the reserve blocks only background calls: interactive ones may still spend it.
        if (waiter.priority >= BACKGROUND_PRIORITY && waiter.callClass === 'hourly' && reserveOf(family) > 0) {
          blockedBackground = true;
          wakeAt = Math.min(wakeAt, notBefore);
          refuseBackground(family, queue, notBefore, now);
          continue;
        }
        // Hourly calls count against every window free calls do: what blocks a free call blocks them too.
        const affected: readonly CallClass[] = waiter.callClass === 'free' ? ['free', 'hourly'] : ['hourly'];
        for (const callClass of affected) blocked[callClass] = true;
        wakeAt = Math.min(wakeAt, notBefore);
        for (const other of [...queue.waiters]) {
          if (affected.includes(other.callClass) && other.deadline < notBefore) {
            other.finish(refusal(family, notBefore - now));
          }
        }
      }
    }
    if (queue.waiters.length === 0) return;
    // Waiting calls fail when their deadline passes, not later.
    const nextDeadline = Math.min(...queue.waiters.map((waiter) => waiter.deadline + 1));
    wakeAt = Math.min(wakeAt, nextDeadline);
    if (Number.isFinite(wakeAt)) {
      queue.wake = clock.setTimeout(
        () => {
          queue.wake = undefined;
          void pump(family);
        },
        Math.max(0, wakeAt - clock.now()),
      );
    }
  };

  /** Runs one attempt holding its lease: renews it while running, releases it after. */
  const run = async <T>(family: ApiFamily, leaseId: string, task: (signal: AbortSignal) => Promise<T>, signal: AbortSignal | undefined): Promise<T> => {
    const controller = new AbortController();
    const onAbort = (): void => controller.abort(signal?.reason);
    if (signal?.aborted) onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    running.add(controller);
    metrics?.budgetInFlight.inc(labels(family));
    let renewal: unknown;
    const scheduleRenewal = (): void => {
      renewal = clock.setTimeout(() => {
        const now = clock.now();
        // A failed renewal only risks the lease expiring early; the next renewal tries again.
        store.renew(scope, family, leaseId, now + leaseMs, now).catch(() => undefined);
        scheduleRenewal();
      }, leaseMs / 3);
    };
    scheduleRenewal();
    try {
      return await task(controller.signal);
    } finally {
      clock.clearTimeout(renewal);
      signal?.removeEventListener('abort', onAbort);
      running.delete(controller);
      metrics?.budgetInFlight.dec(labels(family));
      // If the release fails, the lease expires on its own.
      store
        .release(scope, family, leaseId)
        .catch(() => undefined)
        .finally(() => void pump(family));
    }
  };

  const sleep = (ms: number, signal: AbortSignal | undefined): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const done = (error?: unknown): void => {
        clock.clearTimeout(handle);
        sleeping.delete(done);
        signal?.removeEventListener('abort', onAbort);
        if (error === undefined) resolve();
        else reject(error);
      };
      const onAbort = (): void => done(signal?.reason);
      const handle = clock.setTimeout(() => done(), ms);
      sleeping.add(done);
      signal?.addEventListener('abort', onAbort, { once: true });
    });

  const isRetryable = (error: unknown): boolean => error instanceof MixpanelError && error.retryable;

  return {
    async schedule(family, task, scheduleOptions: ScheduleOptions = {}) {
      const { signal, stats } = scheduleOptions;
      const deadline = scheduleOptions.deadline ?? Number.POSITIVE_INFINITY;
      const maxRetries = scheduleOptions.maxRetries ?? defaultMaxRetries;
      const call = {
        seq: nextSeq++,
        priority: scheduleOptions.priority ?? 0,
        backgroundAfter: scheduleOptions.backgroundAfter ?? Number.POSITIVE_INFINITY,
        deadline,
        callClass: classOf(scheduleOptions.countsAgainstHourly),
        signal,
      };
      if (isDisabled(family)) throw refusal(family, undefined);
      let lastError: unknown;
      for (let attempt = 0; ; attempt++) {
        let leaseId: string;
        try {
          leaseId = await acquire(family, call);
        } catch (error) {
          // A retry the budget cannot fit: report what Mixpanel answered, not the refusal.
          if (lastError !== undefined && error instanceof RateLimitedError) throw lastError;
          throw error;
        }
        if (stats) stats.upstreamCalls++;
        try {
          return await run(family, leaseId, task, signal);
        } catch (error) {
          if (closed || signal?.aborted || !isRetryable(error)) throw error;
          const now = clock.now();
          const delay = retryDelay(error, attempt, options.backoff, random);
          // After a 429 someone else shares the project: hold every call of the family (on every instance) until the
          // backoff passes. The retry then simply queues; without a recorded backoff it sleeps on its own.
          const held =
            error instanceof RateLimitedError &&
            (await store.backoff(scope, family, now + delay, now).then(
              () => true,
              () => false,
            ));
          if (held) void pump(family);
          if (attempt >= maxRetries || now + delay > deadline) throw error;
          lastError = error;
          if (!held) await sleep(delay, signal);
        }
      }
    },

    async remaining(family) {
      if (isDisabled(family)) return 0;
      const usage = await store.usage(scope, family, windowsFor(family, 'hourly'), clock.now());
      if (usage.backoffUntil !== null) return 0;
      const windows = windowsFor(family, 'hourly');
      let remaining = Number.POSITIVE_INFINITY;
      usage.windows.forEach((window, index) => {
        remaining = Math.min(remaining, (windows[index]?.limit ?? Number.POSITIVE_INFINITY) - window.used);
      });
      const concurrent = familyLimits(family).concurrent;
      if (concurrent !== undefined) remaining = Math.min(remaining, concurrent - usage.inFlight);
      return Math.max(0, remaining);
    },

    async snapshot(family): Promise<BudgetSnapshot> {
      const windows = windowsFor(family, 'hourly');
      const usage = await store.usage(scope, family, windows, clock.now());
      const primary = windows[0];
      const primaryUsage = usage.windows[0];
      const oldestAt = primaryUsage?.oldestAt ?? null;
      return {
        family,
        used: primaryUsage?.used ?? 0,
        limit: primary?.limit ?? null,
        window: primary?.window ?? null,
        windowResetsAt: primary && oldestAt !== null ? oldestAt + primary.spanMs : null,
        inFlight: usage.inFlight,
        concurrentLimit: familyLimits(family).concurrent ?? null,
        queued: queues.get(family)?.waiters.length ?? 0,
        backoffUntil: usage.backoffUntil,
      };
    },

    pacing(family): PacingSnapshot {
      return { reserve: reserveOf(family), pacedCalls: pacerOf(family)?.available(clock.now()) ?? null };
    },

    async close() {
      if (closed) return;
      closed = true;
      for (const queue of queues.values()) {
        if (queue.wake !== undefined) clock.clearTimeout(queue.wake);
        for (const waiter of [...queue.waiters]) waiter.finish(closedError());
      }
      for (const controller of running) controller.abort(closedError());
      for (const wake of [...sleeping]) wake(closedError());
      if (!options.store) await store.close();
    },
  };
}
