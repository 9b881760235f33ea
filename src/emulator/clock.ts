/**
 * Emulated time. Rate-limit windows, engage sessions and the seeded data's
 * "today" all read this clock, so tests can run an hour in seconds.
 */
import type { Clock } from './types.js';

export interface ScaledClockOptions {
  /** Emulated time at creation (epoch ms). Default: the real current time. */
  readonly start?: number | undefined;
  /** Emulated ms per real ms: 60 makes one emulated hour pass per real minute. Default 1. */
  readonly timeScale?: number | undefined;
}

/** A clock that runs `timeScale` times faster than real time. */
export function createScaledClock(options: ScaledClockOptions = {}): Clock {
  const scale = options.timeScale ?? 1;
  if (!(scale > 0) || !Number.isFinite(scale)) throw new RangeError('timeScale must be a positive finite number');
  const realStart = Date.now();
  const start = options.start ?? realStart;
  return {
    now: () => Math.floor(start + (Date.now() - realStart) * scale),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms / scale))),
  };
}

/** A clock that only moves when told to; `sleep` resolves once `advance` passes its deadline. */
export interface ManualClock extends Clock {
  advance(ms: number): void;
  set(epochMs: number): void;
}

export function createManualClock(start: number = Date.now()): ManualClock {
  let current = start;
  let sleepers: { at: number; resolve: () => void }[] = [];
  const wake = (): void => {
    const due = sleepers.filter((s) => s.at <= current);
    sleepers = sleepers.filter((s) => s.at > current);
    for (const sleeper of due) sleeper.resolve();
  };
  return {
    now: () => current,
    sleep: (ms) =>
      new Promise<void>((resolve) => {
        sleepers.push({ at: current + Math.max(0, ms), resolve });
        wake();
      }),
    advance(ms) {
      current += ms;
      wake();
    },
    set(epochMs) {
      current = epochMs;
      wake();
    },
  };
}
