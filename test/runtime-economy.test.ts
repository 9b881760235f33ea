/**
 * The runtime's economy rules against the emulator on loopback: the per-client
 * fair share of a project's hourly budget, the interactive reserve background
 * refreshes never spend, and stale data standing in for a read the budget refuses.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { CacheConfig, ProjectConfig, ProjectLimits } from '../src/config/types.js';
import { createEmulator, DEMO_PROJECT, type Emulator } from '../src/emulator/server.js';
import { DOCUMENTED_LIMITS } from '../src/limits/defaults.js';
import type { RequestStats } from '../src/limits/types.js';
import { createMemoryMembershipStore } from '../src/membership/memory-store.js';
import { createMixpanelClient } from '../src/mixpanel/client.js';
import { RateLimitedError } from '../src/mixpanel/errors.js';
import { createProjectRuntime } from '../src/runtime.js';
import type { CallContext, ProjectRuntime } from '../src/runtime-types.js';
import { Secret } from '../src/secret.js';

const CACHE: CacheConfig = {
  maxBytes: 10_000_000,
  ttlMs: { lexicon: 60_000, cohorts: 60_000, profiles: 60_000, analyticsClosed: 3_600_000, analyticsToday: 60_000, events: 60_000, annotations: 60_000 },
  staleMs: 0,
};

const opened: { emulator: Emulator; runtime: ProjectRuntime }[] = [];
afterEach(async () => {
  for (const { emulator, runtime } of opened.splice(0)) {
    await runtime.close();
    await emulator.close();
  }
});

async function start(limits: ProjectLimits, clock?: { now: () => number }): Promise<{ emulator: Emulator; runtime: ProjectRuntime }> {
  const emulator = await createEmulator({ size: 'small' });
  const serviceAccount = { username: DEMO_PROJECT.username, secret: new Secret(DEMO_PROJECT.secret) };
  const config: ProjectConfig = {
    key: 'default',
    projectId: DEMO_PROJECT.projectId,
    region: 'US',
    serviceAccount,
    baseUrls: emulator.baseUrls,
    limits,
    countEngageFollowOnPages: true,
  };
  const runtime = createProjectRuntime({
    config,
    client: createMixpanelClient({ projectId: DEMO_PROJECT.projectId, serviceAccount, baseUrls: emulator.baseUrls, integrationId: 'economy-test' }),
    membership: createMemoryMembershipStore(),
    cacheConfig: CACHE,
    ...(clock ? { clock } : {}),
  });
  opened.push({ emulator, runtime });
  return { emulator, runtime };
}

const stats = (): RequestStats => ({ upstreamCalls: 0, cacheHits: 0, cacheMisses: 0, deduplicated: 0 });
const context = (overrides: Partial<CallContext> = {}): CallContext => ({ deadline: Date.now() + 5_000, signal: new AbortController().signal, stats: stats(), ...overrides });
const segmentation = (event: string) => ({ event, fromDate: '2020-01-01', toDate: '2020-01-07' });

describe('runtime economy', () => {
  it("keeps one noisy client to its fair share of the hour, and another client's calls still go through", async () => {
    const { emulator, runtime } = await start({ ...DOCUMENTED_LIMITS, query: { perHour: 8, concurrent: 5 } });
    // A lone keyed client may take 8 × 75 % = 6 calls, leaving 2 for the next client.
    for (let k = 0; k < 6; k++) await runtime.fetch('segmentation', segmentation(`noisy-${k}`), context({ clientId: 'noisy' }));
    const refused = await runtime.fetch('segmentation', segmentation('noisy-6'), context({ clientId: 'noisy' })).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(RateLimitedError);
    expect((refused as Error).message).toMatch(/fair share/);
    expect(emulator.calls('/api/query/segmentation')).toBe(6);

    await runtime.fetch('segmentation', segmentation('quiet-0'), context({ clientId: 'quiet' }));
    expect(emulator.calls('/api/query/segmentation')).toBe(7);
    // What another client already fetched costs nothing, whoever asks.
    await runtime.fetch('segmentation', segmentation('quiet-0'), context({ clientId: 'noisy' }));
    expect(emulator.calls('/api/query/segmentation')).toBe(7);
    expect(runtime.fairShare('query')).toEqual({ activeClients: 2, perClient: 3 });
  });

  it('never lets background work spend the interactive reserve', async () => {
    const { emulator, runtime } = await start({ ...DOCUMENTED_LIMITS, query: { perHour: 10, concurrent: 5 } });
    expect(runtime.budget.pacing('query')).toEqual({ reserve: 2, pacedCalls: null });
    const background = (k: number) => runtime.fetch('segmentation', segmentation(`bg-${k}`), context({ priority: 10, deadline: Date.now() + 300 }));
    const outcomes = await Promise.all(Array.from({ length: 10 }, (_, k) => background(k).then(() => 'sent', (e: unknown) => (e instanceof RateLimitedError ? 'refused' : 'failed'))));
    expect(outcomes.filter((o) => o === 'sent')).toHaveLength(8);
    expect(outcomes.filter((o) => o === 'refused')).toHaveLength(2);
    // The reserve is still there for users asking now.
    await runtime.fetch('segmentation', segmentation('interactive-0'), context());
    await runtime.fetch('segmentation', segmentation('interactive-1'), context());
    expect(emulator.calls('/api/query/segmentation')).toBe(10);
  });

  it('leaves half the pacing burst to first views: background refreshes stop there, interactive calls do not', async () => {
    const { emulator, runtime } = await start(DOCUMENTED_LIMITS);
    expect(runtime.budget.pacing('query')).toEqual({ reserve: 12, pacedCalls: 30 });
    const outcome = (promise: Promise<unknown>) => promise.then(() => 'sent', (e: unknown) => (e instanceof RateLimitedError ? 'refused' : 'failed'));
    const background = await Promise.all(
      Array.from({ length: 30 }, (_, k) => outcome(runtime.fetch('segmentation', segmentation(`bg-${k}`), context({ priority: 10, deadline: Date.now() + 300 })))),
    );
    expect(background.filter((o) => o === 'sent')).toHaveLength(15);
    expect(background.filter((o) => o === 'refused')).toHaveLength(15);
    // The other half of the burst is there for users asking now.
    const interactive = await Promise.all(Array.from({ length: 15 }, (_, k) => outcome(runtime.fetch('segmentation', segmentation(`now-${k}`), context()))));
    expect(interactive).toEqual(Array.from({ length: 15 }, () => 'sent'));
    expect(emulator.calls('/api/query/segmentation')).toBe(30);
  });

  it('serves data past its stale window, marked stale, when the budget refuses a fresh read', async () => {
    let now = Date.now();
    const { emulator, runtime } = await start({ ...DOCUMENTED_LIMITS, query: { perHour: 1, concurrent: 5 } }, { now: () => now });
    const today = new Date(now).toISOString().slice(0, 10);
    const week = { event: 'Sign Up', fromDate: new Date(now - 6 * 86_400_000).toISOString().slice(0, 10), toDate: today };
    const first = await runtime.fetch('segmentation', week, context({ deadline: now + 5_000 }));
    now += 10 * 60_000; // past the 60 s TTL of a range ending today and the (zero) stale window; the hour's one call is spent
    const later = context({ deadline: now + 5_000 });
    const again = await runtime.fetch('segmentation', week, later);
    expect(again).toEqual(first);
    expect(later.stats).toMatchObject({ staleAnswers: 1, upstreamCalls: 0 });
    expect(later.stats.staleSeconds).toBeGreaterThanOrEqual(600);
    expect(emulator.calls('/api/query/segmentation')).toBe(1);
  });
});
