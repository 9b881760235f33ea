/**
 * Rate-limit frugality: a dashboard loaded through the gateway and through a
 * naive GraphQL server (bench/naive-gateway.ts), each against its own
 * emulator with the same data, Mixpanel's documented limits (Query 60/hour
 * and 5 concurrent, Export 60/hour 3/s 100 concurrent, Lexicon 5/minute, per
 * project) and 50-150 ms of latency per admitted request.
 *
 * A dashboard load is three GraphQL requests sent together: a page of 50
 * profiles with their cohorts plus the Lexicon event descriptions, the cohort
 * list, and a 30-day segmentation chart. Phases of 1, 50 and 200 concurrent
 * clients each run three rounds (every client loads the dashboard once per
 * round); each phase runs on the gateway, then on the baseline.
 *
 * Upstream calls and 429s come from the emulators' own counters; a "rate-limit
 * error" is a GraphQL error or `RateLimitedError` result whose code is
 * MIXPANEL_RATE_LIMITED. The floor is the number of distinct upstream
 * requests (method, path, parameters) the gateway needed: one per dataset.
 */
import { performance } from 'node:perf_hooks';
import { createEmulator, DEMO_PROJECT, type CallLogEntry, type Emulator } from '../src/emulator/server.js';
import type { Gateway } from '../src/server/gateway.js';
import { postGraphQL, startBenchGateway, type GraphQLResult } from './lib/gateway.js';
import { printTable, writeResult } from './lib/report.js';
import { ratio, summarizeLatencies, type LatencySummary } from './lib/stats.js';
import { startNaiveGateway, type NaiveGateway } from './naive-gateway.js';

const PHASES = [1, 50, 200] as const;
const ROUNDS = 3;
const LATENCY = { min: 50, max: 150 } as const;
const SEED = 1;
const RATE_LIMITED = 'MIXPANEL_RATE_LIMITED';
const DAY_MS = 86_400_000;

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** The three requests of one dashboard load; both servers answer them as written. */
function dashboardRequests(): readonly { readonly name: string; readonly query: string; readonly variables?: Record<string, unknown> }[] {
  const today = Date.now();
  return [
    {
      name: 'profiles',
      query: /* GraphQL */ `
        query ProfilesPage {
          profiles(first: 50) {
            __typename
            ... on ProfileConnection {
              edges { node { distinctId email name cohorts { __typename ... on CohortConnection { nodes { id name } } ... on Error { code } } } }
            }
            ... on Error { code }
          }
          lexicon {
            events { __typename ... on EventDefinitionConnection { nodes { name description } } ... on Error { code } }
          }
        }
      `,
    },
    {
      name: 'cohorts',
      query: /* GraphQL */ `
        query CohortList { cohorts { __typename ... on CohortConnection { nodes { id name count } } ... on Error { code } } }
      `,
    },
    {
      name: 'segmentation',
      query: /* GraphQL */ `
        query LoginsChart($from: Date!, $to: Date!) {
          segmentation(event: "Log In", from: $from, to: $to) {
            __typename
            ... on Series { series segments { name total points { date value } } }
            ... on Error { code }
          }
        }
      `,
      variables: { from: day(today - 29 * DAY_MS), to: day(today) },
    },
  ];
}

interface RequestOutcome {
  readonly request: string;
  readonly ms: number;
  readonly status: number;
  /** Entries in `errors`. */
  readonly errors: number;
  /** Error results in `data` (union members implementing `Error`). */
  readonly errorResults: number;
  readonly rateLimitErrors: number;
}

/** Counts error results (objects whose __typename ends in "Error") anywhere in `data`. */
function errorResultsIn(value: unknown, found: { all: number; rateLimited: number }): void {
  if (Array.isArray(value)) {
    for (const item of value) errorResultsIn(item, found);
  } else if (typeof value === 'object' && value !== null) {
    const record = value as Record<string, unknown>;
    if (typeof record['__typename'] === 'string' && record['__typename'].endsWith('Error')) {
      found.all++;
      if (record['code'] === RATE_LIMITED) found.rateLimited++;
    }
    for (const child of Object.values(record)) errorResultsIn(child, found);
  }
}

function outcomeOf(request: string, result: GraphQLResult, ms: number): RequestOutcome {
  const found = { all: 0, rateLimited: 0 };
  errorResultsIn(result.data, found);
  const errors = result.errors ?? [];
  const rateLimitedErrors = errors.filter((error) => error.extensions?.['code'] === RATE_LIMITED).length;
  return { request, ms, status: result.status, errors: errors.length, errorResults: found.all, rateLimitErrors: rateLimitedErrors + found.rateLimited };
}

interface Side {
  readonly name: 'gateway' | 'naive';
  readonly graphqlUrl: string;
  readonly emulator: Emulator;
  close(): Promise<void>;
}

export interface PhaseRow {
  readonly clients: number;
  readonly side: 'gateway' | 'naive';
  readonly requests: number;
  readonly upstreamCalls: number;
  readonly upstream429s: number;
  /** Requests whose response had any error (in `errors` or as an error result). */
  readonly failedRequests: number;
  readonly graphqlErrors: number;
  readonly errorResults: number;
  readonly rateLimitErrors: number;
  readonly latency: LatencySummary;
  /** The same, per request of the dashboard (profiles, cohorts, segmentation). */
  readonly latencyByRequest: Record<string, LatencySummary>;
  readonly seconds: number;
}

const countStatus = (log: readonly CallLogEntry[], from: number, status: number) => log.slice(from).filter((entry) => entry.status === status).length;

async function runPhase(side: Side, clients: number): Promise<PhaseRow> {
  const callsBefore = side.emulator.calls('/');
  const logBefore = side.emulator.callLog.length;
  const outcomes: RequestOutcome[] = [];
  const started = performance.now();
  for (let round = 0; round < ROUNDS; round++) {
    const requests = dashboardRequests();
    await Promise.all(
      Array.from({ length: clients }, () =>
        Promise.all(
          requests.map(async (request) => {
            const sent = performance.now();
            const result = await postGraphQL(side.graphqlUrl, request.query, request.variables);
            outcomes.push(outcomeOf(request.name, result, performance.now() - sent));
          }),
        ),
      ),
    );
  }
  const seconds = (performance.now() - started) / 1000;
  return {
    clients,
    side: side.name,
    requests: outcomes.length,
    upstreamCalls: side.emulator.calls('/') - callsBefore,
    upstream429s: countStatus(side.emulator.callLog, logBefore, 429),
    failedRequests: outcomes.filter((o) => o.status !== 200 || o.errors > 0 || o.errorResults > 0).length,
    graphqlErrors: outcomes.reduce((sum, o) => sum + o.errors, 0),
    errorResults: outcomes.reduce((sum, o) => sum + o.errorResults, 0),
    rateLimitErrors: outcomes.reduce((sum, o) => sum + o.rateLimitErrors, 0),
    latency: summarizeLatencies(outcomes.map((o) => o.ms)),
    latencyByRequest: Object.fromEntries(
      [...new Set(outcomes.map((o) => o.request))].map((name) => [name, summarizeLatencies(outcomes.filter((o) => o.request === name).map((o) => o.ms))]),
    ),
    seconds: Math.round(seconds * 100) / 100,
  };
}

/** Distinct upstream requests by method, path and parameters (engage session ids and pages included). */
function distinctRequests(log: readonly CallLogEntry[]): number {
  const keys = new Set(log.map((entry) => `${entry.method} ${entry.path} ${JSON.stringify(Object.entries(entry.params).sort())}`));
  return keys.size;
}

function emulatorFor(): Promise<Emulator> {
  // Each side counts against its own emulator; the data are identical (same seed), the limits the documented ones.
  return createEmulator({ size: 'demo', seed: SEED, latencyMs: LATENCY, callLogLimit: 1_000_000 });
}

export interface DashboardBenchResult {
  readonly phases: PhaseRow[];
  readonly totals: {
    readonly gatewayUpstreamCalls: number;
    readonly naiveUpstreamCalls: number;
    /** naive / gateway upstream calls over the whole run. */
    readonly callRatio: number | null;
    readonly gatewayDistinctRequests: number;
    readonly gateway429s: number;
    readonly naive429s: number;
    readonly gatewayUpstreamByPath: Record<string, number>;
  };
}

function byPath(log: readonly CallLogEntry[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const entry of log) counts[entry.path] = (counts[entry.path] ?? 0) + 1;
  return counts;
}

export async function runDashboardBench(): Promise<DashboardBenchResult> {
  const sides: Side[] = [];
  try {
    const [gatewayEmulator, naiveEmulator] = await Promise.all([emulatorFor(), emulatorFor()]);
    const gateway: Gateway = await startBenchGateway({ emulatorUrl: gatewayEmulator.url });
    sides.push({
      name: 'gateway',
      graphqlUrl: gateway.graphqlUrl,
      emulator: gatewayEmulator,
      close: async () => {
        await gateway.close();
        await gatewayEmulator.close();
      },
    });
    const naive: NaiveGateway = await startNaiveGateway({
      baseUrls: naiveEmulator.baseUrls,
      projectId: DEMO_PROJECT.projectId,
      serviceAccount: { username: DEMO_PROJECT.username, secret: DEMO_PROJECT.secret },
    });
    sides.push({
      name: 'naive',
      graphqlUrl: naive.graphqlUrl,
      emulator: naiveEmulator,
      close: async () => {
        await naive.close();
        await naiveEmulator.close();
      },
    });

    const phases: PhaseRow[] = [];
    for (const clients of PHASES) {
      for (const side of sides) {
        process.stdout.write(`dashboard: ${clients} client(s) x ${ROUNDS} rounds on ${side.name}...\n`);
        phases.push(await runPhase(side, clients));
      }
    }

    const gatewayCalls = gatewayEmulator.calls('/');
    const naiveCalls = naiveEmulator.calls('/');
    const result: DashboardBenchResult = {
      phases,
      totals: {
        gatewayUpstreamCalls: gatewayCalls,
        naiveUpstreamCalls: naiveCalls,
        callRatio: ratio(naiveCalls, gatewayCalls),
        gatewayDistinctRequests: distinctRequests(gatewayEmulator.callLog),
        gateway429s: countStatus(gatewayEmulator.callLog, 0, 429),
        naive429s: countStatus(naiveEmulator.callLog, 0, 429),
        gatewayUpstreamByPath: byPath(gatewayEmulator.callLog),
      },
    };
    report(result);
    const path = await writeResult('dashboard', {
      workload: {
        phases: PHASES,
        rounds: ROUNDS,
        requestsPerLoad: dashboardRequests().length,
        latencyMs: LATENCY,
        data: 'demo',
        seed: SEED,
        limits: 'documented',
      },
      ...result,
    });
    process.stdout.write(`\nwrote ${path}\n`);
    return result;
  } finally {
    for (const side of sides) await side.close();
  }
}

function report(result: DashboardBenchResult): void {
  printTable(
    `Dashboard: gateway vs naive baseline, documented limits, ${LATENCY.min}-${LATENCY.max} ms upstream latency (${ROUNDS} rounds per phase)`,
    [
      'clients',
      'side',
      'requests',
      'upstream calls',
      'upstream 429s',
      'failed requests',
      'GraphQL errors',
      'error results',
      'rate-limit errors',
      'p50 ms',
      'p99 ms',
    ],
    result.phases.map((row) => [
      row.clients,
      row.side,
      row.requests,
      row.upstreamCalls,
      row.upstream429s,
      row.failedRequests,
      row.graphqlErrors,
      row.errorResults,
      row.rateLimitErrors,
      row.latency.p50Ms,
      row.latency.p99Ms,
    ]),
  );
  const { totals } = result;
  printTable(
    'Dashboard totals (floor = distinct upstream requests the gateway needed)',
    ['side', 'upstream calls', 'upstream 429s', 'floor', 'x fewer calls than naive'],
    [
      ['gateway', totals.gatewayUpstreamCalls, totals.gateway429s, totals.gatewayDistinctRequests, totals.callRatio],
      ['naive', totals.naiveUpstreamCalls, totals.naive429s, null, null],
    ],
  );
  process.stdout.write(`\ngateway upstream calls by path: ${JSON.stringify(totals.gatewayUpstreamByPath)}\n`);
}
