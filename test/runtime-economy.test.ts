/**
 * The runtime's economy rules against the emulator on loopback: the per-client
 * fair share of a project's hourly budget, the interactive reserve background
 * refreshes never spend, and stale data standing in for a read the budget refuses.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { CacheConfig, ProjectConfig, ProjectLimits } from '../src/config/types.js';
import { createEmulator, DEMO_PROJECT, type CallLogEntry, type Emulator } from '../src/emulator/server.js';
import { DOCUMENTED_LIMITS } from '../src/limits/defaults.js';
import type { RequestStats } from '../src/limits/types.js';
import { createMemoryMembershipStore } from '../src/membership/memory-store.js';
import { createMixpanelClient } from '../src/mixpanel/client.js';
import { RateLimitedError } from '../src/mixpanel/errors.js';
import { createProjectRuntime } from '../src/runtime/project-runtime.js';
import type { CallContext, ProjectRuntime } from '../src/runtime/types.js';
import { Secret } from '../src/core/secret.js';

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

async function start(
  limits: ProjectLimits,
  clock?: { now: () => number },
  latencyMs?: number,
  cacheConfig: CacheConfig = CACHE,
): Promise<{ emulator: Emulator; runtime: ProjectRuntime }> {
  const emulator = await createEmulator({ size: 'small', ...(latencyMs === undefined ? {} : { latencyMs }) });
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
    cacheConfig,
    ...(clock ? { clock } : {}),
  });
  opened.push({ emulator, runtime });
  return { emulator, runtime };
}

const stats = (): RequestStats => ({ upstreamCalls: 0, cacheHits: 0, cacheMisses: 0, deduplicated: 0 });
const context = (overrides: Partial<CallContext> = {}): CallContext => ({
  deadline: Date.now() + 5_000,
  signal: new AbortController().signal,
  stats: stats(),
  ...overrides,
});
/** A segmented report: one /segmentation call each (a plain one would merge into /events calls). */
const segmentation = (event: string) => ({ event, fromDate: '2020-01-01', toDate: '2020-01-07', on: 'properties["plan"]' });

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
    // Deadlines no wait for a concurrency slot can reach, and short of the hour the reserve would take to clear:
    // the two refused are refused by the reserve alone, at once.
    const background = (k: number) => runtime.fetch('segmentation', segmentation(`bg-${k}`), context({ priority: 10, deadline: Date.now() + 30 * 60_000 }));
    const outcomes = await Promise.all(
      Array.from({ length: 10 }, (_, k) =>
        background(k).then(
          () => 'sent',
          (e: unknown) => (e instanceof RateLimitedError ? 'refused' : 'failed'),
        ),
      ),
    );
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
    const outcome = (promise: Promise<unknown>) =>
      promise.then(
        () => 'sent',
        (e: unknown) => (e instanceof RateLimitedError ? 'refused' : 'failed'),
      );
    const background = await Promise.all(
      // A deadline short of the 2 min the bucket takes to refill one call, and one no wait for a concurrency slot can reach.
      Array.from({ length: 30 }, (_, k) =>
        outcome(runtime.fetch('segmentation', segmentation(`bg-${k}`), context({ priority: 10, deadline: Date.now() + 60_000 }))),
      ),
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
    // A plain segmentation is read through /events.
    expect(emulator.calls('/api/query/events')).toBe(1);
  });

  it('serves stale cohort members and profiles instead of spending the paced calls kept for first views, which still go out', async () => {
    let now = Date.now();
    const { emulator, runtime } = await start(DOCUMENTED_LIMITS, { now: () => now });
    const engage = (): CallLogEntry[] => emulator.callLog.filter((entry) => entry.path.endsWith('/engage'));
    const [read, unread] = emulator.data().cohorts.map((cohort) => String(cohort.id));
    const [profile] = [...emulator.data().profiles.keys()].map(String);
    const first = await runtime.cohortMembers(read!, context({ deadline: now + 5_000 }));
    await runtime.profiles([profile!], undefined, context({ deadline: now + 5_000 }));
    const readCalls = engage().length;
    expect(readCalls).toBeGreaterThanOrEqual(2);
    // Spend the burst down to the half kept for first views (30 → 15).
    for (let k = 0; runtime.budget.pacing('query').pacedCalls! > 15; k++)
      await runtime.fetch('segmentation', segmentation(`spend-${k}`), context({ deadline: now + 5_000 }));
    expect(runtime.budget.pacing('query').pacedCalls).toBe(15);
    now += 61_000; // past the 60 s TTLs; the pacing refills half a call meanwhile
    const later = context({ deadline: now + 5_000 });
    const again = await runtime.cohortMembers(read!, later);
    expect(again).toMatchObject({ stale: true, fetchedAt: first.fetchedAt });
    expect([...again.members].sort()).toEqual([...first.members].sort());
    const profiles = await runtime.profiles([profile!], undefined, later);
    expect(profiles.get(profile!)).toMatchObject({ stale: true });
    expect(later.stats).toMatchObject({ staleAnswers: 2, upstreamCalls: 0 });
    expect(engage()).toHaveLength(readCalls);
    // A cohort nobody has read has nothing to stand in: it spends the reserve.
    const fresh = await runtime.cohortMembers(unread!, context({ deadline: now + 5_000 }));
    expect(fresh.stale).toBe(false);
    expect(engage()).toHaveLength(readCalls + 1);
  });

  it("queues a stale chart's background refresh while the pacing is down to the first views' half, and sends it once the bucket holds more", async () => {
    let now = Date.now();
    const { emulator, runtime } = await start(DOCUMENTED_LIMITS, { now: () => now }, undefined, { ...CACHE, staleMs: 10 * 60_000 });
    const today = new Date(now).toISOString().slice(0, 10);
    const week = { event: 'Sign Up', fromDate: new Date(now - 6 * 86_400_000).toISOString().slice(0, 10), toDate: today };
    const first = await runtime.fetch('segmentation', week, context({ deadline: now + 5_000 }));
    expect(emulator.calls('/api/query/events')).toBe(1);
    for (let k = 0; runtime.budget.pacing('query').pacedCalls! > 15; k++)
      await runtime.fetch('segmentation', segmentation(`spend-${k}`), context({ deadline: now + 5_000 }));
    now += 61_000; // past the 60 s TTL of a range ending today, within its stale window
    const stale = context({ deadline: now + 5_000 });
    expect(await runtime.fetch('segmentation', week, stale)).toEqual(first);
    expect(stale.stats).toMatchObject({ staleAnswers: 1, upstreamCalls: 0 });
    // The refresh waits in the budget as background work rather than giving up.
    for (let k = 0; k < 100 && (await runtime.budget.snapshot('query')).queued === 0; k++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect((await runtime.budget.snapshot('query')).queued).toBe(1);
    expect(emulator.calls('/api/query/events')).toBe(1);
    now += 5 * 60_000; // the bucket refills 2.5 calls: a live call takes one, the refresh the next
    await runtime.fetch('segmentation', segmentation('live'), context({ deadline: now + 5_000 }));
    for (let k = 0; k < 100 && emulator.calls('/api/query/events') === 1; k++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(emulator.calls('/api/query/events')).toBe(2);
    // Once its answer is stored, the chart is fresh again, at no further call.
    let fresh = context({ deadline: now + 5_000 });
    for (let k = 0; k < 100; k++) {
      fresh = context({ deadline: now + 5_000 });
      await runtime.fetch('segmentation', week, fresh);
      if (!fresh.stats.staleAnswers) break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(fresh.stats).toMatchObject({ upstreamCalls: 0 });
    expect(fresh.stats.staleAnswers ?? 0).toBe(0);
    expect(emulator.calls('/api/query/events')).toBe(2);
  });

  it("keeps a cohort's first member read queued past its request's deadline: the next request finds it read", async () => {
    const { emulator, runtime } = await start({ ...DOCUMENTED_LIMITS, query: { perHour: 60, concurrent: 1 } }, undefined, 400);
    const engage = (): CallLogEntry[] => emulator.callLog.filter((entry) => entry.path.endsWith('/engage'));
    const [cohort] = emulator.data().cohorts.map((c) => String(c.id));
    // One slow call holds the only concurrency slot.
    const holding = runtime.fetch('segmentation', segmentation('slow'), context());
    await new Promise((resolve) => setTimeout(resolve, 50));
    const refused = await runtime.cohortMembers(cohort!, context({ deadline: Date.now() + 100 })).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(RateLimitedError);
    expect(engage()).toHaveLength(0);
    await holding;
    // Nobody asks meanwhile: the queued read goes out on the slot the slow call frees.
    for (let k = 0; k < 250 && !runtime.isCohortCached(cohort!); k++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(runtime.isCohortCached(cohort!)).toBe(true);
    const next = context();
    const read = await runtime.cohortMembers(cohort!, next);
    expect(read.stale).toBe(false);
    expect(next.stats).toMatchObject({ upstreamCalls: 0, cacheHits: 1 });
    expect(engage()).toHaveLength(1);
  });

  it("lets no queued first member read delay a live request: once its request has gone it waits behind live calls, off the first views' pacing", async () => {
    let now = Date.now();
    const { emulator, runtime } = await start(DOCUMENTED_LIMITS, { now: () => now });
    const engage = (): CallLogEntry[] => emulator.callLog.filter((entry) => entry.path.endsWith('/engage'));
    const [cohort] = emulator.data().cohorts.map((c) => String(c.id));
    // Spend the whole burst: the next paced call is 2 min away.
    for (let k = 0; runtime.budget.pacing('query').pacedCalls! > 0; k++)
      await runtime.fetch('segmentation', segmentation(`spend-${k}`), context({ deadline: now + 5_000 }));
    const spent = emulator.calls('/api/query/segmentation');
    expect(spent).toBe(30);
    // A cohort's first read cannot start before its request's deadline: the request gives up, the read stays queued.
    const refused = await runtime.cohortMembers(cohort!, context({ deadline: now + 50 })).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(RateLimitedError);
    expect(runtime.budget.pacing('query').pacedCalls).toBe(0);
    expect((await runtime.budget.snapshot('query')).queued).toBe(1);
    now += 121_000; // the bucket refills one call
    expect(runtime.budget.pacing('query').pacedCalls).toBe(1);
    // A live request asking now gets that call, though the cohort read was queued first.
    await runtime.fetch('segmentation', segmentation('live'), context({ deadline: now + 5_000 }));
    expect(emulator.calls('/api/query/segmentation')).toBe(spent + 1);
    expect(engage()).toHaveLength(0);
    // As background work the cohort read would wait for the bucket to hold more than the first views' half
    // (30 min away, past its 10 min): it is dropped unsent, and the next viewer's request reads it anew.
    expect((await runtime.budget.snapshot('query')).queued).toBe(0);
    expect(runtime.isCohortCached(cohort!)).toBe(false);
  });
});
