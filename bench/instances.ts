/**
 * Several instances as one: the same burst on one gateway process and on
 * three behind round-robin (each a child process, all on the Redis at
 * 127.0.0.1:6379 under one fresh key prefix), against an emulator with
 * Mixpanel's documented Query limits (60/hour, 5 concurrent) and 50-150 ms
 * of latency per call.
 *
 * The burst: 300 clients at once, client c asking dashboard c % 100 (20
 * profiles by distinct id, 2,000 distinct profiles in all) on instance
 * c % n. Three instances run twice: sharing what they read (the default)
 * and with REDIS_SHARED_CACHE=false (budget shared, caches not). Baseline:
 * one instance, in the same run. Engage calls and 429s come from the
 * emulator's call log; a "rate-limited answer" is a client whose dashboard
 * had a MIXPANEL_RATE_LIMITED field.
 */
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { createEmulator } from '../src/emulator/server.js';
import { startGatewayProcess, type GatewayProcess } from '../test/helpers/gateway-process.js';
import { redisReachable } from '../test/helpers/redis.js';
import { isolatedProject } from '../test/helpers/subscribers.js';
import { printTable, writeResult } from './lib/report.js';
import { ratio, summarizeLatencies, type LatencySummary } from './lib/stats.js';

const DASHBOARDS = 100;
const PROFILES = 20;
const CLIENTS = 300;
const REDIS_URL = 'redis://127.0.0.1:6379';

interface PhaseResult {
  readonly phase: string;
  readonly instances: number;
  readonly engageCalls: number;
  readonly upstream429: number;
  readonly rateLimitedAnswers: number;
  readonly failedAnswers: number;
  readonly latency: LatencySummary;
}

async function runPhase(phase: string, instances: number, env: Record<string, string>): Promise<PhaseResult> {
  const project = isolatedProject();
  const emulator = await createEmulator({
    size: { profiles: DASHBOARDS * PROFILES, events: 2_000, days: 7, groups: 5 },
    projects: [project.emulatorProject],
    latencyMs: { min: 50, max: 150 },
  });
  const gateways: GatewayProcess[] = [];
  try {
    gateways.push(
      ...(await Promise.all(
        Array.from({ length: instances }, () =>
          startGatewayProcess({
            ...project.env,
            MIXPANEL_BASE_URL: emulator.url,
            REDIS_URL,
            MEMBERSHIP_STORE: 'memory',
            WEBHOOK_USERNAME: 'mixpanel',
            WEBHOOK_PASSWORD: 'bench-webhook-password-0001',
            REQUEST_DEADLINE_MS: '30000',
            ...env,
          }),
        ),
      )),
    );
    const ids = [...emulator.data(project.projectId).profiles.values()].map((p) => p.distinctId);
    const query = (d: number) =>
      `{ ${ids
        .slice(d * PROFILES, (d + 1) * PROFILES)
        .map((id, i) => `p${i}: profile(distinctId: ${JSON.stringify(id)}) { __typename ... on Profile { email } ... on Error { code } }`)
        .join(' ')} }`;
    const outcomes = await Promise.all(
      Array.from({ length: CLIENTS }, async (_, c) => {
        const started = performance.now();
        try {
          const response = await fetch(gateways[c % instances]!.graphqlUrl, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ query: query(c % DASHBOARDS) }),
          });
          const text = await response.text();
          return { ms: performance.now() - started, limited: text.includes('MIXPANEL_RATE_LIMITED'), failed: response.status !== 200 };
        } catch {
          return { ms: performance.now() - started, limited: false, failed: true };
        }
      }),
    );
    const engage = emulator.callLog.filter((e) => e.path.endsWith('/engage'));
    return {
      phase,
      instances,
      engageCalls: engage.length,
      upstream429: emulator.callLog.filter((e) => e.status === 429).length,
      rateLimitedAnswers: outcomes.filter((o) => o.limited).length,
      failedAnswers: outcomes.filter((o) => o.failed).length,
      latency: summarizeLatencies(outcomes.map((o) => o.ms)),
    };
  } finally {
    await Promise.all(gateways.map((g) => g.kill()));
    await emulator.close();
    const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    const keys = await redis.keys(`${project.redisKeyPrefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  }
}

export async function runInstancesBench(): Promise<Record<string, unknown>> {
  if (!(await redisReachable())) {
    process.stdout.write('Redis is unreachable at 127.0.0.1:6379: the instances bench needs it, skipped.\n');
    return { skipped: 'Redis unreachable at 127.0.0.1:6379' };
  }
  const phases = [
    await runPhase('one instance (baseline)', 1, {}),
    await runPhase('three instances, shared reads', 3, {}),
    await runPhase('three instances, REDIS_SHARED_CACHE=false', 3, { REDIS_SHARED_CACHE: 'false' }),
  ];
  const [baseline] = phases;
  printTable(
    `${CLIENTS} clients, ${DASHBOARDS} dashboards of ${PROFILES} profiles (Query 60/hour, 5 concurrent, 50-150 ms)`,
    ['phase', 'engage calls', 'x baseline', '429s', 'rate-limited answers', 'failed', 'p50 ms', 'p99 ms', 'p99 x baseline'],
    phases.map((p) => [
      p.phase,
      p.engageCalls,
      ratio(p.engageCalls, baseline!.engageCalls),
      p.upstream429,
      p.rateLimitedAnswers,
      p.failedAnswers,
      p.latency.p50Ms,
      p.latency.p99Ms,
      ratio(p.latency.p99Ms, baseline!.latency.p99Ms),
    ]),
  );
  const result = { clients: CLIENTS, dashboards: DASHBOARDS, profilesPerDashboard: PROFILES, phases };
  await writeResult('instances', result);
  return result;
}
