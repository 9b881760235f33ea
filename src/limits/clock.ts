/**
 * Time and timers as the budget and the runtime see them: one small interface so tests run an hour of
 * budget in milliseconds. Its own room because every part of the budget, and the runtime above, takes it.
 */

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
