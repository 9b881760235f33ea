/**
 * Emulators for one test, closed after it, on a fixed emulated "now" so
 * date ranges in assertions are stable.
 */
import { afterEach } from 'vitest';
import { createEmulator, DEMO_PROJECT, type Emulator, type EmulatorOptions } from '../../src/emulator/server.js';

export const NOW = Date.UTC(2025, 4, 15, 12, 0, 0);
export const PID = DEMO_PROJECT.projectId;
export const basicAuth = (user: string, secret: string): string => `Basic ${Buffer.from(`${user}:${secret}`).toString('base64')}`;
/** The demo service account's Authorization header. */
export const AUTH = basicAuth(DEMO_PROJECT.username, DEMO_PROJECT.secret);

const running: Emulator[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((e) => e.close()));
});

/** A small emulator at NOW (options override), closed after the test. */
export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const emulator = await createEmulator({ size: 'small', now: NOW, ...options });
  running.push(emulator);
  return emulator;
}
