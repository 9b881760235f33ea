/**
 * The runtime end to end: real client, real emulator on loopback, enforcing
 * Mixpanel's documented limits.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { CacheConfig, ProjectConfig, ProjectLimits } from '../src/config/types.js';
import { DOCUMENTED_LIMITS } from '../src/limits/defaults.js';
import type { RequestStats } from '../src/limits/types.js';
import { createMemoryMembershipStore } from '../src/membership/memory-store.js';
import { createMetrics, type Metrics } from '../src/observability/metrics.js';
import { createMixpanelClient } from '../src/mixpanel/client.js';
import { RateLimitedError } from '../src/mixpanel/errors.js';
import type { MixpanelClient } from '../src/mixpanel/types.js';
import { createProjectRuntime } from '../src/runtime/project-runtime.js';
import type { CallContext, ProjectRuntime, UpstreamRequest } from '../src/runtime/types.js';
import { Secret } from '../src/core/secret.js';
import { createEmulator, DEMO_PROJECT, type Emulator, type EmulatorOptions } from '../src/emulator/server.js';

const CACHE: CacheConfig = {
  maxBytes: 10_000_000,
  ttlMs: {
    lexicon: 60_000,
    cohorts: 60_000,
    profiles: 60_000,
    analyticsClosed: 3_600_000,
    analyticsToday: 60_000,
    events: 60_000,
    annotations: 60_000,
  },
  staleMs: 300_000,
};

interface Harness {
  readonly emulator: Emulator;
  readonly client: MixpanelClient;
  readonly runtime: ProjectRuntime;
  readonly metrics: Metrics;
}

const opened: Harness[] = [];

afterEach(async () => {
  for (const harness of opened.splice(0)) {
    await harness.runtime.close(); // closes the client too
    await harness.emulator.close();
  }
});

async function start(options: { emulator?: EmulatorOptions; limits?: ProjectLimits } = {}): Promise<Harness> {
  const emulator = await createEmulator({ size: 'small', ...options.emulator });
  const serviceAccount = { username: DEMO_PROJECT.username, secret: new Secret(DEMO_PROJECT.secret) };
  const client = createMixpanelClient({
    projectId: DEMO_PROJECT.projectId,
    serviceAccount,
    baseUrls: emulator.baseUrls,
    integrationId: 'runtime-test',
    timeoutMs: 10_000,
  });
  const config: ProjectConfig = {
    key: 'default',
    projectId: DEMO_PROJECT.projectId,
    region: 'US',
    serviceAccount,
    baseUrls: emulator.baseUrls,
    limits: options.limits ?? DOCUMENTED_LIMITS,
    countEngageFollowOnPages: true,
  };
  const metrics = createMetrics({ defaultMetrics: false });
  const runtime = createProjectRuntime({
    config,
    client,
    membership: createMemoryMembershipStore(),
    cacheConfig: CACHE,
    metrics,
  });
  const harness = { emulator, client, runtime, metrics };
  opened.push(harness);
  return harness;
}

const newStats = (): RequestStats => ({ upstreamCalls: 0, cacheHits: 0, cacheMisses: 0, deduplicated: 0 });

function context(overrides: Partial<CallContext> = {}): CallContext {
  return {
    deadline: Date.now() + 10_000,
    signal: new AbortController().signal,
    stats: newStats(),
    ...overrides,
  };
}

const cohortsList = (client: MixpanelClient): UpstreamRequest<Awaited<ReturnType<MixpanelClient['cohortsList']>>> => ({
  family: 'query',
  kind: 'cohorts',
  endpoint: 'cohorts/list',
  params: {},
  send: (signal) => client.cohortsList({ signal }),
});

const profile = (client: MixpanelClient, distinctId: string): UpstreamRequest<Awaited<ReturnType<MixpanelClient['engage']>>> => ({
  family: 'query',
  kind: 'profiles',
  endpoint: 'engage',
  params: { distinctId },
  send: (signal) => client.engage({ distinctId }, { signal }),
});

async function counter(metrics: Metrics, name: 'upstreamRateLimited' | 'budgetRejected'): Promise<number> {
  const metric = await metrics[name].get();
  return metric.values.reduce((sum, value) => sum + value.value, 0);
}

describe('project runtime', () => {
  it('sends identical concurrent calls once, then serves them from the cache until invalidated', async () => {
    const { emulator, client, runtime } = await start({ emulator: { latencyMs: 50 } });
    const contexts = Array.from({ length: 10 }, () => context());
    const results = await Promise.all(contexts.map((ctx) => runtime.call(cohortsList(client), ctx)));
    expect(results[0]?.length).toBeGreaterThan(0);
    for (const result of results) expect(result).toBe(results[0]);
    expect(emulator.calls('/api/query/cohorts/list')).toBe(1);
    expect(contexts.reduce((sum, ctx) => sum + ctx.stats.deduplicated, 0)).toBe(9);
    expect(contexts.reduce((sum, ctx) => sum + ctx.stats.upstreamCalls, 0)).toBe(1);

    const cached = context();
    await runtime.call(cohortsList(client), cached);
    expect(cached.stats).toMatchObject({ cacheHits: 1, upstreamCalls: 0 });
    expect(cached.stats.maxAgeSeconds).toBeGreaterThan(0);
    expect(emulator.calls('/api/query/cohorts/list')).toBe(1);

    runtime.invalidate('cohorts');
    await runtime.call(cohortsList(client), context());
    expect(emulator.calls('/api/query/cohorts/list')).toBe(2);
  });

  it("keeps within the emulator's 5 concurrent queries: 12 distinct calls at once, no 429", async () => {
    const { emulator, client, runtime, metrics } = await start({ emulator: { latencyMs: 30 } });
    const ids = [...emulator.data().profiles.keys()].slice(0, 12);
    expect(ids).toHaveLength(12);
    const pages = await Promise.all(ids.map((id) => runtime.call(profile(client, id), context())));
    expect(pages.map((page) => page.results[0]?.$distinct_id)).toEqual(ids);
    expect(emulator.calls('/api/query/engage')).toBe(12);
    expect(emulator.callLog.filter((entry) => entry.status === 429)).toHaveLength(0);
    expect(await counter(metrics, 'upstreamRateLimited')).toBe(0);
  });

  it('refuses a call the hourly budget cannot fit before its deadline, without sending it', async () => {
    const limits = { ...DOCUMENTED_LIMITS, query: { perHour: 3, concurrent: 5 } };
    const { emulator, client, runtime, metrics } = await start({ emulator: { limits: { query: { perHour: 3 } } }, limits });
    const ids = [...emulator.data().profiles.keys()].slice(0, 4);
    for (const id of ids.slice(0, 3)) await runtime.call(profile(client, id), context());
    const error = await runtime.call(profile(client, ids[3] ?? ''), context()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitedError);
    expect((error as RateLimitedError).retryAfterMs).toBeGreaterThan(3_500_000);
    expect(emulator.calls('/api/query/engage')).toBe(3);
    expect(await counter(metrics, 'budgetRejected')).toBe(1);
    expect(await runtime.budget.snapshot('query')).toMatchObject({ used: 3, limit: 3, window: 'hour' });
  });

  it('honours a 429 from a project shared with another client: holds the family instead of hammering', async () => {
    const { emulator, client, runtime, metrics } = await start({ emulator: { limits: { query: { perHour: 2 } } } });
    const ids = [...emulator.data().profiles.keys()].slice(0, 4);
    for (const id of ids.slice(0, 2)) await runtime.call(profile(client, id), context());
    const error = await runtime.call(profile(client, ids[2] ?? ''), context({ deadline: Date.now() + 1_000 })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitedError);
    expect(emulator.calls('/api/query/engage')).toBe(3); // no retry: the backoff would end after the deadline
    expect(await counter(metrics, 'upstreamRateLimited')).toBe(1);
    expect((await runtime.budget.snapshot('query')).backoffUntil).toBeGreaterThan(Date.now());

    const held = await runtime.call(profile(client, ids[3] ?? ''), context({ deadline: Date.now() + 1_000 })).catch((e: unknown) => e);
    expect(held).toBeInstanceOf(RateLimitedError);
    expect(emulator.calls('/api/query/engage')).toBe(3);
  });

  it('a waiter that aborts leaves a shared call running for the others', async () => {
    const { emulator, client, runtime } = await start({ emulator: { latencyMs: 100 } });
    const leaving = new AbortController();
    const first = runtime.call(cohortsList(client), context({ signal: leaving.signal }));
    const second = runtime.call(cohortsList(client), context());
    setTimeout(() => leaving.abort(new Error('client went away')), 20);
    await expect(first).rejects.toThrow('client went away');
    expect((await second).length).toBeGreaterThan(0);
    expect(emulator.calls('/api/query/cohorts/list')).toBe(1);
  });

  it('sends uncached writes directly, each one through the budget', async () => {
    const { emulator, client, runtime } = await start();
    const ctx = context();
    const write = (description: string): UpstreamRequest<unknown> => ({
      family: 'app',
      kind: 'none',
      endpoint: 'annotations/create',
      params: undefined,
      send: (signal) => client.annotationCreate({ date: '2024-01-01 00:00:00', description }, { signal }),
    });
    await Promise.all([runtime.call(write('deploy'), ctx), runtime.call(write('deploy'), ctx)]);
    expect(emulator.calls(`/api/app/projects/${DEMO_PROJECT.projectId}/annotations`)).toBe(2);
    expect(ctx.stats.upstreamCalls).toBe(2);
  });
});
