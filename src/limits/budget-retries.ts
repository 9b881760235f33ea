/**
 * The budget's retry loop, the only place in the gateway that retries: each attempt waits for its turn
 * in the queue, runs holding its concurrency lease (renewed while it runs, released after), and on a
 * 429, 5xx or timeout is tried again after Retry-After or the backoff, while the deadline allows. Apart
 * from the queue because it decides whether to send a call again, not when one may be sent.
 */
import { MixpanelError, RateLimitedError } from '../mixpanel/errors.js';
import type { ApiFamily } from '../mixpanel/types.js';
import type { Metrics } from '../observability/metrics.js';
import { retryDelay, type BackoffOptions } from './backoff.js';
import type { BudgetQueue } from './budget-queue.js';
import { classOf } from './budget-windows.js';
import type { Clock } from './clock.js';
import type { BudgetStore } from './store.js';
import type { Budget, ScheduleOptions } from './types.js';

export interface RetryLoopOptions {
  readonly scope: string;
  readonly store: BudgetStore;
  readonly clock: Clock;
  readonly queue: Pick<BudgetQueue, 'acquire' | 'pump'>;
  /** Whether a limit of the family is 0: its calls are refused at once. */
  readonly isDisabled: (family: ApiFamily) => boolean;
  readonly refusal: (family: ApiFamily, retryAfterMs: number | undefined) => RateLimitedError;
  readonly closedError: () => Error;
  readonly isClosed: () => boolean;
  readonly defaultMaxRetries: number;
  readonly backoff: BackoffOptions | undefined;
  readonly random: () => number;
  readonly leaseMs: number;
  readonly metrics?: Metrics | undefined;
  readonly labels: (family: ApiFamily) => { project: string; family: ApiFamily };
}

export interface RetryLoop {
  readonly schedule: Budget['schedule'];
  /** Aborts every running attempt and wakes every retry asleep, with `closedError`. */
  close(): void;
}

export function createRetryLoop(options: RetryLoopOptions): RetryLoop {
  const { scope, store, clock, queue, isDisabled, refusal, closedError, defaultMaxRetries, random, leaseMs, metrics, labels } = options;
  const { acquire, pump } = queue;
  const running = new Set<AbortController>();
  const sleeping = new Set<(error: unknown) => void>();
  let nextSeq = 0;

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

  const schedule: Budget['schedule'] = async (family, task, scheduleOptions: ScheduleOptions = {}) => {
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
        if (options.isClosed() || signal?.aborted || !isRetryable(error)) throw error;
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
  };

  return {
    schedule,
    close() {
      for (const controller of running) controller.abort(closedError());
      for (const wake of [...sleeping]) wake(closedError());
    },
  };
}
