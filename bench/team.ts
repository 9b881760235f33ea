/**
 * Cross-request economy: a team of 500 users working through a simulated
 * hour (the emulator's time scale; the gateway's budget runs on the same
 * clock), 10,000 page loads in all, each page one GraphQL request:
 *
 * - a profile page (40%): one profile by distinct id;
 * - a cohort member list (25%): one cohort and its first 50 members;
 * - a 30-day chart (25%): a segmentation of one event ending today;
 * - a Lexicon doc (10%): one event's definition.
 *
 * Profiles, cohorts and events are chosen with Zipf-distributed popularity
 * (s = 1, over 10,000 profiles, every cohort and every event), loads are
 * spread evenly over the hour. Three sides run one after the other, each on
 * its own emulator with the same data, Mixpanel's documented limits and
 * 50-150 ms latency: this gateway, the same gateway with cross-request
 * merging off (COALESCE=off), and the naive baseline (naive-gateway.ts).
 *
 * "Answered with data": HTTP 200, no `errors`, no error result anywhere in
 * `data`. "Stale": the gateway said so in `extensions.mixpanel.stale`.
 * Upstream calls and 429s are the emulator's own counts. Latencies are real
 * milliseconds of the compressed hour. The gateway's request deadline is 30
 * emulated seconds (see REQUEST_DEADLINE_MS below).
 */
import { performance } from 'node:perf_hooks';
import { mulberry32 } from '../src/emulator/seed.js';
import { createEmulator, DEMO_PROJECT, type Emulator } from '../src/emulator/server.js';
import { postGraphQL, startBenchGateway, type GraphQLResult } from './lib/gateway.js';
import { printTable, writeResult } from './lib/report.js';
import { summarizeLatencies, type LatencySummary } from './lib/stats.js';
import { startNaiveGateway } from './naive-gateway.js';

const HOUR_MS = 3_600_000;
/** Emulated ms per real ms: one simulated hour takes 3600 / TIME_SCALE real seconds. */
const TIME_SCALE = Number(process.env['TEAM_TIME_SCALE'] ?? 40);
const PAGE_LOADS = Number(process.env['TEAM_PAGE_LOADS'] ?? 10_000);
const USERS = 500;
const LATENCY = { min: 50, max: 150 } as const;
const SEED = 1;
const ZIPF_S = 1;
const DAY_MS = 86_400_000;
/**
 * Each request's budget deadline, in emulated ms: 30 s, 0.75 s real at ×40.
 * The gateway's own processing does not speed up with the clock; the
 * default 5 s would leave it under 100 real ms.
 */
const REQUEST_DEADLINE_MS = 30_000;

type PageKind = 'profile' | 'cohortMembers' | 'chart' | 'lexiconDoc';
const MIX: readonly (readonly [PageKind, number])[] = [
  ['profile', 0.4],
  ['cohortMembers', 0.25],
  ['chart', 0.25],
  ['lexiconDoc', 0.1],
];

const DOCUMENTS: Readonly<Record<PageKind, string>> = {
  profile: /* GraphQL */ `query ProfilePage($id: ID!) {
    profile(distinctId: $id) { __typename ... on Profile { distinctId email name city } ... on Error { code } }
  }`,
  cohortMembers: /* GraphQL */ `query CohortMembers($id: ID!) {
    cohort(id: $id) {
      __typename
      ... on Cohort { name count members(first: 50) { __typename ... on ProfileConnection { edges { node { distinctId email } } } ... on Error { code } } }
      ... on Error { code }
    }
  }`,
  chart: /* GraphQL */ `query Chart($event: String!, $from: Date!, $to: Date!) {
    segmentation(event: $event, from: $from, to: $to) { __typename ... on Series { series } ... on Error { code } }
  }`,
  lexiconDoc: /* GraphQL */ `query LexiconDoc($event: String!) {
    lexicon { eventDefinition(name: $event) { __typename ... on EventDefinition { name description } ... on Error { code } } }
  }`,
};

/** Zipf(s) over `items` in the given order of popularity. */
function zipf<T>(items: readonly T[], random: () => number): () => T {
  const weights = items.map((_, k) => 1 / (k + 1) ** ZIPF_S);
  const total = weights.reduce((a, b) => a + b, 0);
  const cdf: number[] = [];
  let sum = 0;
  for (const weight of weights) {
    sum += weight / total;
    cdf.push(sum);
  }
  return () => {
    const u = random();
    let lo = 0;
    let hi = cdf.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((cdf[mid] ?? 1) < u) lo = mid + 1;
      else hi = mid;
    }
    return items[lo] as T;
  };
}

function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let k = out.length - 1; k > 0; k--) {
    const j = Math.floor(random() * (k + 1));
    [out[k], out[j]] = [out[j] as T, out[k] as T];
  }
  return out;
}

interface PageLoad {
  /** Offset in the simulated hour, emulated ms. */
  readonly at: number;
  readonly user: number;
  readonly kind: PageKind;
  readonly choice: string;
}

/** The hour's page loads, the same for every side (the data are the same: same seed). */
function plan(emulator: Emulator): PageLoad[] {
  const random = mulberry32(SEED);
  const data = emulator.data();
  const profiles = zipf(shuffled([...data.profiles.keys()].map(String), random), random);
  const cohorts = zipf(
    shuffled(
      data.cohorts.map((c) => String(c.id)),
      random,
    ),
    random,
  );
  const eventNames = [...new Set(data.events.map((e) => e.event))].sort();
  const events = zipf(shuffled(eventNames, random), random);
  const documented = [...data.lexicon.keys()]
    .filter((key) => key.startsWith('event:'))
    .map((key) => key.slice('event:'.length))
    .sort();
  const docs = zipf(shuffled(documented, random), random);
  const loads: PageLoad[] = [];
  for (let k = 0; k < PAGE_LOADS; k++) {
    const u = random();
    let acc = 0;
    const kind =
      MIX.find(([, share]) => {
        acc += share;
        return acc >= u;
      })?.[0] ?? 'profile';
    const choice = kind === 'profile' ? profiles() : kind === 'cohortMembers' ? cohorts() : kind === 'chart' ? events() : docs();
    loads.push({ at: Math.floor((k * HOUR_MS) / PAGE_LOADS), user: Math.floor(random() * USERS), kind, choice });
  }
  return loads;
}

const day = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

function variablesOf(load: PageLoad, now: number): Record<string, unknown> {
  switch (load.kind) {
    case 'profile':
    case 'cohortMembers':
      return { id: load.choice };
    case 'chart':
      return { event: load.choice, from: day(now - 29 * DAY_MS), to: day(now) };
    case 'lexiconDoc':
      return { event: load.choice };
  }
}

/** The code of the first error result anywhere in `data`, or undefined. */
function errorResultCode(value: unknown): string | undefined {
  if (Array.isArray(value)) {
    for (const item of value) {
      const code = errorResultCode(item);
      if (code !== undefined) return code;
    }
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const record = value as Record<string, unknown>;
  if (typeof record['__typename'] === 'string' && record['__typename'].endsWith('Error')) return String(record['code'] ?? record['__typename']);
  for (const child of Object.values(record)) {
    const code = errorResultCode(child);
    if (code !== undefined) return code;
  }
  return undefined;
}

/** What an engage call asked for: by ids, a cohort, a follow-on page, or a whole listing. */
function engageRead(params: Readonly<Record<string, string>>): string {
  if (params['distinct_ids'] !== undefined) return ' by distinct_ids';
  if (params['distinct_id'] !== undefined) return ' by distinct_id';
  const page = params['page'] !== undefined && params['page'] !== '0' ? ', next page' : '';
  if (params['filter_by_cohort'] !== undefined) return ` by cohort${page}`;
  if (params['session_id'] === undefined && params['page'] === undefined && params['where'] === undefined) return ' listing';
  return ` listing${page}`;
}

type SideName = 'gateway' | 'gateway, merging off' | 'naive';

export interface SideRow {
  readonly side: SideName;
  readonly pageLoads: number;
  readonly answeredWithData: number;
  readonly answeredPercent: number;
  readonly staleAnswers: number;
  readonly upstreamCalls: number;
  readonly queryCalls: number;
  readonly upstream429s: number;
  readonly latency: LatencySummary;
  /** The Query calls by kind of read (endpoint, and for engage what it asked): where the hour's 60 went. */
  readonly queryCallsByRead: Record<string, number>;
  /** Why page loads were not answered with data: error code -> count. */
  readonly failures: Record<string, number>;
  readonly byKind: Record<PageKind, { readonly loads: number; readonly answered: number; readonly latency: LatencySummary }>;
  readonly realSeconds: number;
}

async function runSide(side: SideName): Promise<SideRow> {
  const emulator = await createEmulator({ size: 'demo', seed: SEED, latencyMs: LATENCY, timeScale: TIME_SCALE, callLogLimit: 1_000_000 });
  const clock = emulator.clock;
  let target: { graphqlUrl: string; close(): Promise<void> };
  if (side === 'naive') {
    target = await startNaiveGateway({
      baseUrls: emulator.baseUrls,
      projectId: DEMO_PROJECT.projectId,
      serviceAccount: { username: DEMO_PROJECT.username, secret: DEMO_PROJECT.secret },
    });
  } else {
    target = await startBenchGateway({
      emulatorUrl: emulator.url,
      env: { REQUEST_DEADLINE_MS: String(REQUEST_DEADLINE_MS), ...(side === 'gateway' ? {} : { COALESCE: 'off' }) },
      // The gateway lives on the emulator's clock: its hour is the emulator's hour.
      clock: {
        now: () => clock.now(),
        timers: {
          setTimeout: (callback, ms) => setTimeout(callback, Math.max(0, ms / TIME_SCALE)),
          clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
        },
      },
    });
  }
  try {
    const loads = plan(emulator);
    // The hour starts now (the gateway's start-up Lexicon read is not a page load, but its calls count).
    const start = clock.now();
    const startReal = performance.now();
    const outcomes: { kind: PageKind; ok: boolean; code: string | undefined; stale: boolean; ms: number }[] = [];
    const pending: Promise<void>[] = [];
    for (const load of loads) {
      const wait = (start + load.at - clock.now()) / TIME_SCALE;
      if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
      pending.push(
        (async () => {
          const sent = performance.now();
          const result: GraphQLResult & { extensions?: { mixpanel?: { stale?: unknown } } } = await postGraphQL(
            target.graphqlUrl,
            DOCUMENTS[load.kind],
            variablesOf(load, clock.now()),
          );
          const code =
            result.status === 0
              ? `transport: ${String(result.errors?.[0]?.message ?? '').slice(0, 60)}`
              : result.status !== 200
                ? `HTTP ${result.status}`
                : result.errors?.length
                  ? String(result.errors[0]?.extensions?.['code'] ?? 'GRAPHQL_ERROR')
                  : result.data == null
                    ? 'NO_DATA'
                    : errorResultCode(result.data);
          outcomes.push({
            kind: load.kind,
            ok: code === undefined,
            code,
            stale: result.extensions?.mixpanel?.stale !== undefined,
            ms: performance.now() - sent,
          });
        })(),
      );
    }
    await Promise.all(pending);
    const realSeconds = Math.round((performance.now() - startReal) / 100) / 10;
    const answered = outcomes.filter((o) => o.ok).length;
    const byKind = Object.fromEntries(
      MIX.map(([kind]) => {
        const own = outcomes.filter((o) => o.kind === kind);
        return [kind, { loads: own.length, answered: own.filter((o) => o.ok).length, latency: summarizeLatencies(own.map((o) => o.ms)) }];
      }),
    ) as SideRow['byKind'];
    const failures: Record<string, number> = {};
    for (const outcome of outcomes) if (outcome.code !== undefined) failures[outcome.code] = (failures[outcome.code] ?? 0) + 1;
    const queryCallsByRead: Record<string, number> = {};
    for (const entry of emulator.callLog) {
      if (!entry.path.startsWith('/api/query')) continue;
      const endpoint = entry.path.slice('/api/query/'.length);
      const read = endpoint === 'engage' ? `engage${engageRead(entry.params)}` : endpoint;
      queryCallsByRead[read] = (queryCallsByRead[read] ?? 0) + 1;
    }
    return {
      side,
      queryCallsByRead,
      failures,
      pageLoads: outcomes.length,
      answeredWithData: answered,
      answeredPercent: Math.round((answered / Math.max(1, outcomes.length)) * 10_000) / 100,
      staleAnswers: outcomes.filter((o) => o.stale).length,
      upstreamCalls: emulator.calls('/'),
      queryCalls: emulator.calls('/api/query'),
      upstream429s: emulator.callLog.filter((entry) => entry.status === 429).length,
      latency: summarizeLatencies(outcomes.map((o) => o.ms)),
      byKind,
      realSeconds,
    };
  } finally {
    await target.close();
    await emulator.close();
  }
}

export async function runTeamBench(): Promise<SideRow[]> {
  const rows: SideRow[] = [];
  const sides = (process.env['TEAM_SIDES']?.split(',') ?? ['gateway', 'gateway, merging off', 'naive']) as SideName[];
  for (const side of sides) {
    process.stdout.write(`team: ${PAGE_LOADS} page loads over a simulated hour (x${TIME_SCALE}) on ${side}...\n`);
    rows.push(await runSide(side));
  }
  printTable(
    `Team: ${USERS} users, ${PAGE_LOADS} page loads in a simulated hour, documented limits (Query 60/hour), ${LATENCY.min}-${LATENCY.max} ms latency`,
    ['side', 'answered with data', '%', 'stale answers', 'upstream calls', 'Query calls', '429s', 'p50 ms', 'p99 ms'],
    rows.map((row) => [
      row.side,
      row.answeredWithData,
      row.answeredPercent,
      row.staleAnswers,
      row.upstreamCalls,
      row.queryCalls,
      row.upstream429s,
      row.latency.p50Ms,
      row.latency.p99Ms,
    ]),
  );
  printTable(
    'Answered with data per page kind',
    ['side', ...MIX.map(([kind]) => kind)],
    rows.map((row) => [row.side, ...MIX.map(([kind]) => `${row.byKind[kind].answered}/${row.byKind[kind].loads} (p50 ${row.byKind[kind].latency.p50Ms} ms)`)]),
  );
  for (const row of rows) process.stdout.write(`${row.side}: not answered with data by cause ${JSON.stringify(row.failures)}\n`);
  for (const row of rows) process.stdout.write(`${row.side}: Query calls by read ${JSON.stringify(row.queryCallsByRead)}\n`);
  const path = await writeResult('team', {
    workload: {
      requestDeadlineMs: REQUEST_DEADLINE_MS,
      users: USERS,
      pageLoads: PAGE_LOADS,
      mix: Object.fromEntries(MIX),
      zipfS: ZIPF_S,
      timeScale: TIME_SCALE,
      latencyMs: LATENCY,
      data: 'demo',
      seed: SEED,
      limits: 'documented',
    },
    sides: rows,
  });
  process.stdout.write(`\nwrote ${path}\n`);
  return rows;
}
