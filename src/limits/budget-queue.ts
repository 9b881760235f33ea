/**
 * The budget's waiting room: one priority queue per family (lower priority first, FIFO within), and the
 * pass that admits each waiting call once the store grants it a slot, or refuses it as soon as it
 * provably cannot start before its deadline (so it is never sent). Kept apart from the retry loop:
 * this decides when a call may be sent, that decides whether to send it again.
 */
import { randomUUID } from 'node:crypto';
import type { RateLimitedError } from '../mixpanel/errors.js';
import type { ApiFamily } from '../mixpanel/types.js';
import type { Metrics } from '../observability/metrics.js';
import type { CallClass, BudgetWindows } from './budget-windows.js';
import type { Clock } from './clock.js';
import { BACKGROUND_PRIORITY } from './defaults.js';
import { firstViewReserve } from './pacing.js';
import type { BudgetStore } from './store.js';

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

/** One call asking for its turn. */
export interface QueuedCall {
  readonly seq: number;
  readonly priority: number;
  readonly backgroundAfter: number;
  readonly deadline: number;
  readonly callClass: CallClass;
  readonly signal: AbortSignal | undefined;
}

export interface BudgetQueueOptions {
  readonly scope: string;
  readonly store: BudgetStore;
  readonly clock: Clock;
  readonly windows: BudgetWindows;
  /** Part of each hourly window kept for interactive calls (0..1). */
  readonly reserveFraction: number;
  readonly leaseMs: number;
  readonly pollMs: number;
  /** The error a call gets that cannot be sent before its deadline (counted in metrics). */
  readonly refusal: (family: ApiFamily, retryAfterMs: number | undefined) => RateLimitedError;
  readonly closedError: () => Error;
  readonly isClosed: () => boolean;
  readonly metrics?: Metrics | undefined;
  readonly labels: (family: ApiFamily) => { project: string; family: ApiFamily };
}

export interface BudgetQueue {
  /** Waits for the call's turn and a slot; resolves with the lease id once the call is counted as sent. */
  acquire(family: ApiFamily, call: QueuedCall): Promise<string>;
  /** Runs an admission pass over the family's queue (after a release or a recorded backoff). */
  pump(family: ApiFamily): Promise<void>;
  /** Calls of the family waiting now. */
  queued(family: ApiFamily): number;
  /** Fails every waiting call with `closedError` and stops the wake-up timers. */
  close(): void;
}

export function createBudgetQueue(options: BudgetQueueOptions): BudgetQueue {
  const { scope, store, clock, windows, reserveFraction, leaseMs, pollMs, refusal, closedError, metrics, labels } = options;
  const { limitsOf: familyLimits, reserveOf, pacerOf, windowsFor } = windows;
  const queues = new Map<ApiFamily, FamilyQueue>();

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

  /** Waits for the call's turn and a slot; resolves with the lease id once the call is counted as sent. */
  const acquire = (family: ApiFamily, call: QueuedCall): Promise<string> =>
    new Promise<string>((resolve, reject) => {
      if (options.isClosed()) return reject(closedError());
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
      } while (queue.again && !options.isClosed());
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
      if (options.isClosed()) return;
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

  return {
    acquire,
    pump,
    queued: (family) => queues.get(family)?.waiters.length ?? 0,
    close() {
      for (const queue of queues.values()) {
        if (queue.wake !== undefined) clock.clearTimeout(queue.wake);
        for (const waiter of [...queue.waiters]) waiter.finish(closedError());
      }
    },
  };
}
