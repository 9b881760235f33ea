import { afterEach, describe, expect, it, vi } from 'vitest';
import { createBudget, type BudgetOptions, type Clock } from '../src/limits/budget.js';
import { DEFAULT_SAFETY_MARGIN_MS, DOCUMENTED_LIMITS } from '../src/limits/defaults.js';
import type { Budget, RequestStats } from '../src/limits/types.js';
import { BadRequestError, RateLimitedError, UpstreamError } from '../src/mixpanel/errors.js';

const HOUR = 3_600_000;

/** A clock whose time moves only when the test advances it, firing due timers in order. */
class ManualClock implements Clock {
  time = Date.UTC(2024, 0, 1, 12);
  #timers: { id: number; at: number; callback: () => void }[] = [];
  #nextId = 1;
  now(): number {
    return this.time;
  }
  setTimeout(callback: () => void, ms: number): unknown {
    const id = this.#nextId++;
    this.#timers.push({ id, at: this.time + ms, callback });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.#timers = this.#timers.filter((timer) => timer.id !== handle);
  }
  async advance(ms: number): Promise<void> {
    const target = this.time + ms;
    for (;;) {
      await settle();
      const due = this.#timers.filter((timer) => timer.at <= target).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.clearTimeout(due.id);
      this.time = Math.max(this.time, due.at);
      due.callback();
    }
    this.time = target;
    await settle();
  }
}

/** Lets every pending promise chain run (the memory store answers in microtasks). */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function deferred<T = string>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const newStats = (): RequestStats => ({ upstreamCalls: 0, cacheHits: 0, cacheMisses: 0, deduplicated: 0 });

describe('budget', () => {
  let budget: Budget | undefined;
  let clock: ManualClock;

  const makeBudget = (options: Partial<BudgetOptions> = {}): Budget => {
    clock = new ManualClock();
    budget = createBudget({ scope: 'project-1', limits: DOCUMENTED_LIMITS, clock, random: () => 0, ...options });
    return budget;
  };

  /** Tracks a promise's outcome without awaiting it. */
  const track = <T>(promise: Promise<T>) => {
    const state: { done: boolean; value?: T; error?: unknown } = { done: false };
    promise.then(
      (value) => Object.assign(state, { done: true, value }),
      (error: unknown) => Object.assign(state, { done: true, error }),
    );
    return state;
  };

  afterEach(async () => {
    await budget?.close();
    budget = undefined;
  });

  it('sends 60 query calls in an hour; the 61st fails fast when its deadline is before the window frees', async () => {
    const b = makeBudget();
    const task = vi.fn(async () => 'ok');
    await Promise.all(Array.from({ length: 60 }, () => b.schedule('query', task)));
    expect(task).toHaveBeenCalledTimes(60);
    expect(await b.snapshot('query')).toMatchObject({ used: 60, limit: 60 });

    const late = vi.fn(async () => 'late');
    const error = await b.schedule('query', late, { deadline: clock.now() + 60_000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitedError);
    expect((error as RateLimitedError).retryAfterMs).toBe(HOUR + DEFAULT_SAFETY_MARGIN_MS.hour);
    expect((error as RateLimitedError).message).toMatch(/budget/);
    expect(late).not.toHaveBeenCalled();
  });

  it('the 61st query call waits for the rolling hour (plus the safety margin) when its deadline allows', async () => {
    const b = makeBudget();
    await Promise.all(Array.from({ length: 60 }, () => b.schedule('query', async () => 'ok')));
    await clock.advance(30 * 60_000);
    const late = vi.fn(async () => 'late');
    const result = track(b.schedule('query', late, { deadline: clock.now() + HOUR }));
    await clock.advance(30 * 60_000);
    expect(late).not.toHaveBeenCalled(); // exactly one hour after the first calls: still inside the margin
    expect((await b.snapshot('query')).queued).toBe(1);
    await clock.advance(DEFAULT_SAFETY_MARGIN_MS.hour);
    expect(result).toMatchObject({ done: true, value: 'late' });
    expect(late).toHaveBeenCalledTimes(1);
  });

  it('a 6th concurrent query call waits until one of the five finishes', async () => {
    const b = makeBudget();
    const gates = Array.from({ length: 6 }, () => deferred());
    const started: number[] = [];
    const calls = gates.map((gate, index) =>
      track(
        b.schedule('query', () => {
          started.push(index);
          return gate.promise;
        }),
      ),
    );
    await settle();
    expect(started).toEqual([0, 1, 2, 3, 4]);
    expect((await b.snapshot('query')).inFlight).toBe(5);
    await clock.advance(10 * 60_000); // time alone frees nothing
    expect(started).toHaveLength(5);
    gates[2]?.resolve('done');
    await settle();
    expect(started).toEqual([0, 1, 2, 3, 4, 5]);
    expect(calls[2]).toMatchObject({ done: true, value: 'done' });
    for (const gate of gates) gate.resolve('done');
  });

  it('a 4th export call in one second waits for the rolling second', async () => {
    const b = makeBudget();
    const task = vi.fn(async () => 'rows');
    const calls = Array.from({ length: 4 }, () => track(b.schedule('export', task)));
    await settle();
    expect(task).toHaveBeenCalledTimes(3);
    await clock.advance(1_000);
    expect(task).toHaveBeenCalledTimes(3);
    await clock.advance(DEFAULT_SAFETY_MARGIN_MS.second);
    expect(task).toHaveBeenCalledTimes(4);
    expect(calls[3]?.done).toBe(true);
  });

  it('a 6th lexicon call in one minute waits for the rolling minute', async () => {
    const b = makeBudget();
    const task = vi.fn(async () => []);
    const sixth = Array.from({ length: 6 }, () => track(b.schedule('lexicon', task)))[5];
    await settle();
    expect(task).toHaveBeenCalledTimes(5);
    expect(await b.snapshot('lexicon')).toMatchObject({ used: 5, limit: 5, window: 'minute' });
    await clock.advance(59_000);
    expect(task).toHaveBeenCalledTimes(5);
    await clock.advance(1_000 + DEFAULT_SAFETY_MARGIN_MS.minute);
    expect(task).toHaveBeenCalledTimes(6);
    expect(sixth?.done).toBe(true);
  });

  it('a call waiting for a concurrency slot fails at its deadline without being sent', async () => {
    const b = makeBudget({ limits: { ...DOCUMENTED_LIMITS, query: { concurrent: 1 } } });
    const gate = deferred();
    void b.schedule('query', () => gate.promise);
    const never = vi.fn(async () => 'never');
    const waiting = track(b.schedule('query', never, { deadline: clock.now() + 5_000 }));
    await clock.advance(4_000);
    expect(waiting.done).toBe(false);
    await clock.advance(2_000);
    expect(waiting.error).toBeInstanceOf(RateLimitedError);
    gate.resolve('done');
    await settle();
    expect(never).not.toHaveBeenCalled();
  });

  it('runs waiting calls by priority, FIFO within one priority', async () => {
    const b = makeBudget({ limits: { ...DOCUMENTED_LIMITS, query: { concurrent: 1 } } });
    const gate = deferred();
    const order: string[] = [];
    void b.schedule('query', () => gate.promise);
    const names: [string, number][] = [
      ['refresh', 10],
      ['first', 0],
      ['middle', 5],
      ['second', 0],
    ];
    const calls = names.map(([name, priority]) => b.schedule('query', async () => void order.push(name), { priority }));
    await settle();
    gate.resolve('done');
    await Promise.all(calls);
    expect(order).toEqual(['first', 'second', 'middle', 'refresh']);
  });

  it('honours Retry-After on an upstream 429: holds the whole family, then recovers', async () => {
    const b = makeBudget();
    const stats = newStats();
    let attempts = 0;
    const flaky = vi.fn(async () => {
      if (attempts++ === 0) throw new RateLimitedError('query', 30_000);
      return 'recovered';
    });
    const result = track(b.schedule('query', flaky, { stats, deadline: clock.now() + 120_000 }));
    await settle();
    expect(flaky).toHaveBeenCalledTimes(1);
    expect((await b.snapshot('query')).backoffUntil).toBe(clock.now() + 30_000);

    const other = vi.fn(async () => 'other');
    const otherCall = track(b.schedule('query', other));
    const tooSoon = vi.fn(async () => 'soon');
    const refused = await b.schedule('query', tooSoon, { deadline: clock.now() + 10_000 }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(RateLimitedError);
    expect(tooSoon).not.toHaveBeenCalled();

    await clock.advance(29_000);
    expect(flaky).toHaveBeenCalledTimes(1);
    expect(other).not.toHaveBeenCalled();
    await clock.advance(1_000);
    expect(result).toMatchObject({ done: true, value: 'recovered' });
    expect(otherCall).toMatchObject({ done: true, value: 'other' });
    expect(stats.upstreamCalls).toBe(2);
    const snapshot = await b.snapshot('query');
    expect(snapshot.backoffUntil).toBeNull();
    expect(snapshot.used).toBe(3); // both attempts of the retried call were sent, and counted
  });

  it('backs off exponentially with jitter on a 429 without Retry-After', async () => {
    const b = makeBudget();
    const attempts: number[] = [];
    const task = async () => {
      attempts.push(clock.now());
      if (attempts.length < 3) throw new RateLimitedError('query', undefined);
      return 'ok';
    };
    const start = clock.now();
    const result = track(b.schedule('query', task));
    await clock.advance(20_000);
    expect(result).toMatchObject({ done: true, value: 'ok' });
    // random() = 0: 2 s + 1 s jitter, then 4 s + 1 s jitter.
    expect(attempts.map((at) => at - start)).toEqual([0, 3_000, 8_000]);
  });

  it('retries a 5xx after a backoff without holding the rest of the family', async () => {
    const b = makeBudget();
    let failures = 1;
    const task = vi.fn(async () => {
      if (failures-- > 0) throw new UpstreamError('Mixpanel answered 503', 'query', 503);
      return 'ok';
    });
    const result = track(b.schedule('query', task));
    await settle();
    expect((await b.snapshot('query')).backoffUntil).toBeNull();
    const other = vi.fn(async () => 'other');
    await b.schedule('query', other);
    expect(other).toHaveBeenCalledTimes(1);
    await clock.advance(3_000);
    expect(result).toMatchObject({ done: true, value: 'ok' });
    expect(task).toHaveBeenCalledTimes(2);
  });

  it('never retries a 400', async () => {
    const b = makeBudget();
    const task = vi.fn(async () => {
      throw new BadRequestError('bad where expression', 'query', 400);
    });
    await expect(b.schedule('query', task)).rejects.toBeInstanceOf(BadRequestError);
    expect(task).toHaveBeenCalledTimes(1);
  });

  it('stops after the retry limit', async () => {
    const b = makeBudget();
    const task = vi.fn(async () => {
      throw new UpstreamError('Mixpanel answered 500', 'query', 500);
    });
    const result = track(b.schedule('query', task));
    await clock.advance(60_000);
    expect(result.error).toBeInstanceOf(UpstreamError);
    expect(task).toHaveBeenCalledTimes(3);
  });

  it('retries only within the deadline', async () => {
    const b = makeBudget();
    const task = vi.fn(async () => {
      throw new RateLimitedError('query', 60_000);
    });
    const error = await b.schedule('query', task, { deadline: clock.now() + 10_000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitedError);
    expect((error as RateLimitedError).message).not.toMatch(/budget/); // Mixpanel's own 429, surfaced as is
    expect(task).toHaveBeenCalledTimes(1);
  });

  it('calls free of the hourly limit take a concurrency slot but no hourly slot', async () => {
    const b = makeBudget();
    await Promise.all(Array.from({ length: 60 }, () => b.schedule('query', async () => 'ok')));
    const followOn = vi.fn(async () => 'page 2');
    await expect(b.schedule('query', followOn, { countsAgainstHourly: false, deadline: clock.now() })).resolves.toBe('page 2');
    expect((await b.snapshot('query')).used).toBe(60);

    const gates = Array.from({ length: 5 }, () => deferred());
    for (const gate of gates) void b.schedule('query', () => gate.promise, { countsAgainstHourly: false });
    await settle();
    const sixth = vi.fn(async () => 'sixth');
    const waiting = track(b.schedule('query', sixth, { countsAgainstHourly: false }));
    await settle();
    expect(sixth).not.toHaveBeenCalled();
    gates[0]?.resolve('done');
    await settle();
    expect(waiting).toMatchObject({ done: true, value: 'sixth' });
    for (const gate of gates) gate.resolve('done');
  });

  it('drops a waiting call whose signal aborts, without sending it', async () => {
    const b = makeBudget({ limits: { ...DOCUMENTED_LIMITS, query: { concurrent: 1 } } });
    const gate = deferred();
    void b.schedule('query', () => gate.promise);
    const controller = new AbortController();
    const never = vi.fn(async () => 'never');
    const waiting = track(b.schedule('query', never, { signal: controller.signal }));
    await settle();
    expect((await b.snapshot('query')).queued).toBe(1);
    controller.abort(new Error('client went away'));
    await settle();
    expect(waiting.error).toMatchObject({ message: 'client went away' });
    gate.resolve('done');
    await settle();
    expect(never).not.toHaveBeenCalled();
    expect((await b.snapshot('query')).queued).toBe(0);
  });

  it('reports a snapshot per family', async () => {
    const b = makeBudget();
    await Promise.all(Array.from({ length: 7 }, () => b.schedule('query', async () => 'ok')));
    const start = clock.now();
    expect(await b.snapshot('query')).toEqual({
      family: 'query',
      used: 7,
      limit: 60,
      window: 'hour',
      windowResetsAt: start + HOUR + DEFAULT_SAFETY_MARGIN_MS.hour,
      inFlight: 0,
      concurrentLimit: 5,
      queued: 0,
      backoffUntil: null,
    });
    expect(await b.snapshot('app')).toMatchObject({ used: 0, limit: null, window: null, concurrentLimit: null });
  });

  it('rejects waiting calls when closed', async () => {
    const b = makeBudget({ limits: { ...DOCUMENTED_LIMITS, query: { concurrent: 1 } } });
    const gate = deferred();
    void b.schedule('query', () => gate.promise).catch(() => undefined);
    const waiting = track(b.schedule('query', async () => 'never'));
    await settle();
    await b.close();
    await settle();
    expect(waiting.error).toMatchObject({ name: 'AbortError' });
    gate.resolve('done');
  });
});
