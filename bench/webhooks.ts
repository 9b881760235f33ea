/**
 * Realtime cohorts: what the cohort-sync webhook path costs and how fast a
 * change reaches live subscribers.
 *
 * 1. Ingestion: a 200,000-member full sync (200 pages of 1,000, Mixpanel's
 *    page size) sent by the emulator's cohort-sync sender over HTTP to the
 *    real gateway, once per membership backend. The gateway runs in a child
 *    process (bench/webhooks-worker.ts) so its memory is sampled alone.
 *    Reported: pages/s and peak RSS / heap growth, each also as a ratio to
 *    the memory backend measured in the same run.
 * 2. Fan-out: 1,000 graphql-ws subscribers of `cohortMembershipChanged`;
 *    diffs of 100 added members are posted one at a time and the delay from
 *    just before each webhook POST to each subscriber receiving the event is
 *    recorded (p50/p99 over every delivery). The subscribers run in this
 *    process, so the delay includes this process reading 1,000 WebSocket
 *    messages: it is the delay a co-located consumer would see.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import type { StoreKind } from '../src/config-types.js';
import { createCohortSyncSender, type FetchLike, type SenderMember } from '../src/emulator/cohort-sync.js';
import { BENCH_WEBHOOK_AUTH } from './lib/gateway.js';
import { printTable, writeResult } from './lib/report.js';
import { ratio, summarizeLatencies, type LatencySummary, type MemoryPeak } from './lib/stats.js';
import type { ParentMessage, WorkerMessage } from './webhooks-worker.js';
import { redisReachable } from '../test/helpers/redis.js';

const MEMBERS = 200_000;
const PAGE_SIZE = 1_000;
const SUBSCRIBERS = 1_000;
const DIFF_ROUNDS = 5;
const MEMBERS_PER_DIFF = 100;
const DELIVERY_TIMEOUT_MS = 30_000;
const REDIS_URL = 'redis://127.0.0.1:6379';
const WORKER = fileURLToPath(new URL('./webhooks-worker.ts', import.meta.url));
const PLANS = ['Free', 'Pro', 'Enterprise'] as const;

function benchMembers(count: number, offset = 0): SenderMember[] {
  return Array.from({ length: count }, (_, k) => {
    const i = offset + k;
    return {
      distinctId: `bench-user-${String(i).padStart(7, '0')}`,
      email: `user${i}@example.com`,
      firstName: 'Ada',
      lastName: `Tester${i % 100}`,
      properties: { plan: PLANS[i % PLANS.length] },
    };
  });
}

// ---------- the child process ----------

type Reply<T extends WorkerMessage['type']> = Extract<WorkerMessage, { type: T }>;

interface Worker {
  readonly ready: Reply<'ready'>;
  request<T extends WorkerMessage['type']>(message: ParentMessage, reply: T): Promise<Reply<T>>;
  /** Asks the worker to close everything (and clean up its Redis keys), then waits for it to exit. */
  close(): Promise<void>;
}

function waitForMessage<T extends WorkerMessage['type']>(child: ChildProcess, type: T, timeoutMs = 300_000): Promise<Reply<T>> {
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    const onMessage = (message: WorkerMessage) => {
      if (message.type === type) {
        cleanup();
        resolve(message as Reply<T>);
      } else if (message.type === 'failed') {
        cleanup();
        reject(new Error(`webhooks worker failed: ${message.message}`));
      }
    };
    const onExit = (code: number | null) => {
      cleanup();
      reject(new Error(`webhooks worker exited (code ${code}) before '${type}'`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`webhooks worker sent no '${type}' within ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

async function startWorker(kind: StoreKind, location?: string): Promise<Worker> {
  const child = fork(WORKER, location ? [kind, location] : [kind], {
    execArgv: ['--import', 'tsx', '--expose-gc'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let ready: Reply<'ready'>;
  try {
    ready = await waitForMessage(child, 'ready', 60_000);
  } catch (error) {
    child.kill();
    throw error;
  }
  return {
    ready,
    request(message, reply) {
      const answer = waitForMessage(child, reply);
      child.send(message);
      return answer;
    },
    async close() {
      if (child.connected) {
        const closed = waitForMessage(child, 'closed', 60_000).catch(() => undefined);
        child.send({ type: 'close' } satisfies ParentMessage);
        await closed;
      }
      if (child.exitCode === null) setTimeout(() => child.kill(), 5_000).unref();
      await exited;
    },
  };
}

// ---------- ingestion ----------

export interface IngestionRow {
  readonly backend: StoreKind;
  readonly pages: number;
  readonly attempts: number;
  readonly seconds: number;
  readonly pagesPerSecond: number;
  readonly membersStored: number | undefined;
  readonly memory: MemoryPeak;
  readonly pagesPerSecondVsMemory: number | null;
  readonly rssDeltaVsMemory: number | null;
  readonly heapDeltaVsMemory: number | null;
}

async function ingestOnce(kind: StoreKind, location: string | undefined, members: readonly SenderMember[]) {
  const worker = await startWorker(kind, location);
  try {
    const cohortId = '5001';
    const sender = createCohortSyncSender({ url: worker.ready.webhookUrl, pageSize: PAGE_SIZE, basicAuth: BENCH_WEBHOOK_AUTH });
    await worker.request({ type: 'start' }, 'started');
    const started = performance.now();
    const sync = await sender.sync({ projectId: worker.ready.projectId, cohortId, cohortName: 'Bench full sync', members });
    const seconds = (performance.now() - started) / 1000;
    const stopped = await worker.request({ type: 'stop', cohortId }, 'stopped');
    if (sync.status !== 'ok') throw new Error(`the ${kind} full sync ended ${sync.status}: ${sync.error ?? ''}`);
    return { seconds, pages: sync.pagesSent, attempts: sync.attempts, membersStored: stopped.memberCount, memory: stopped.peak };
  } finally {
    await worker.close();
  }
}

async function runIngestion(): Promise<{ rows: IngestionRow[]; skipped: string[] }> {
  const members = benchMembers(MEMBERS);
  const kinds: StoreKind[] = ['memory', 'sqlite'];
  const skipped: string[] = [];
  if (await redisReachable()) kinds.push('redis');
  else {
    skipped.push(`redis: nothing answers at ${REDIS_URL}`);
    process.stdout.write(`note: Redis is not reachable at ${REDIS_URL}; the redis backend is skipped\n`);
  }

  const measured: (Omit<IngestionRow, 'pagesPerSecondVsMemory' | 'rssDeltaVsMemory' | 'heapDeltaVsMemory'>)[] = [];
  for (const kind of kinds) {
    process.stdout.write(`webhooks: full sync of ${MEMBERS.toLocaleString('en-US')} members into ${kind}...\n`);
    const tempDir = kind === 'sqlite' ? await mkdtemp(join(os.tmpdir(), 'mpgw-bench-')) : undefined;
    const location = tempDir ? join(tempDir, 'membership.sqlite') : kind === 'redis' ? `mpgw-bench:${process.pid}:${Date.now()}:` : undefined;
    try {
      const run = await ingestOnce(kind, location, members);
      measured.push({ backend: kind, ...run, pagesPerSecond: Math.round((run.pages / run.seconds) * 10) / 10, seconds: Math.round(run.seconds * 100) / 100 });
    } finally {
      if (tempDir) await rm(tempDir, { recursive: true, force: true });
    }
  }
  const baseline = measured.find((row) => row.backend === 'memory');
  const rows = measured.map((row) => ({
    ...row,
    pagesPerSecondVsMemory: baseline ? ratio(row.pagesPerSecond, baseline.pagesPerSecond) : null,
    rssDeltaVsMemory: baseline ? ratio(row.memory.rssDeltaMiB, baseline.memory.rssDeltaMiB) : null,
    heapDeltaVsMemory: baseline ? ratio(row.memory.heapDeltaMiB, baseline.memory.heapDeltaMiB) : null,
  }));
  return { rows, skipped };
}

// ---------- fan-out ----------

const SUBSCRIPTION = /* GraphQL */ `
  subscription BenchCohortChanges($cohortIds: [ID!]) {
    cohortMembershipChanged(cohortIds: $cohortIds) { cohortId kind sessionId page totalPages members { distinctId email } }
  }
`;

interface ChangePayload {
  readonly cohortMembershipChanged?: { readonly sessionId: string; readonly page: number; readonly members: readonly unknown[] };
}

export interface FanOutResult {
  readonly subscribers: number;
  readonly diffs: number;
  readonly membersPerDiff: number;
  readonly deliveries: number;
  readonly expectedDeliveries: number;
  /** Events a subscriber received whose member count was wrong, or subscription errors. */
  readonly faulty: number;
  readonly latency: LatencySummary;
  /** Gateway RSS/heap growth while 1,000 subscribers were connected and served. */
  readonly gatewayMemory: MemoryPeak;
  readonly upstreamCalls: number;
}

/** Resolves when `count()` reaches `target`, or after the timeout (the caller reports what is missing). */
async function until(count: () => number, target: number, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (count() < target && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
}

async function runFanOut(): Promise<FanOutResult> {
  const worker = await startWorker('memory');
  const clients: Client[] = [];
  try {
    const { projectId, graphqlUrl } = worker.ready;
    const cohortId = '6001';
    const postedAt = new Map<string, number>();
    const recordingFetch: FetchLike = (url, init) => {
      const body = JSON.parse(String(init.body)) as { parameters: { mixpanel_session_id: string; page_info: { page_count: number } } };
      postedAt.set(`${body.parameters.mixpanel_session_id}:${body.parameters.page_info.page_count}`, performance.now());
      return fetch(url, init);
    };
    const sender = createCohortSyncSender({ url: worker.ready.webhookUrl, fetch: recordingFetch, basicAuth: BENCH_WEBHOOK_AUTH });
    let members = benchMembers(1_000);
    const initial = await sender.sync({ projectId, cohortId, cohortName: 'Bench live cohort', members });
    if (initial.status !== 'ok') throw new Error(`the initial sync ended ${initial.status}: ${initial.error ?? ''}`);

    await worker.request({ type: 'start' }, 'started');
    const received = new Map<string, number[]>();
    let faulty = 0;
    let deliveries = 0;
    const wsUrl = graphqlUrl.replace(/^http/, 'ws');
    for (let k = 0; k < SUBSCRIBERS; k++) {
      const client = createClient({ url: wsUrl, webSocketImpl: WebSocket, retryAttempts: 0, lazy: true });
      clients.push(client);
      client.subscribe<ChangePayload>(
        { query: SUBSCRIPTION, variables: { cohortIds: [cohortId] } },
        {
          next: (result) => {
            const at = performance.now();
            const change = result.data?.cohortMembershipChanged;
            if (!change || result.errors || change.members.length !== MEMBERS_PER_DIFF) faulty++;
            if (!change) return;
            const key = `${change.sessionId}:${change.page}`;
            const list = received.get(key) ?? [];
            list.push(at);
            received.set(key, list);
            deliveries++;
          },
          error: () => faulty++,
          complete: () => undefined,
        },
      );
    }

    const diff = async (): Promise<string> => {
      members = [...members, ...benchMembers(MEMBERS_PER_DIFF, members.length)];
      const result = await sender.sync({ projectId, cohortId, cohortName: 'Bench live cohort', members });
      if (result.status !== 'ok' || !result.sessionId) throw new Error(`a diff sync ended ${result.status}: ${result.error ?? ''}`);
      return `${result.sessionId}:1`;
    };
    // Warm-up: repeat until every subscriber is known to be subscribed (graphql-ws sends no subscribe ack).
    for (let attempt = 0; attempt < 20; attempt++) {
      const key = await diff();
      await until(() => received.get(key)?.length ?? 0, SUBSCRIBERS, 3_000);
      if ((received.get(key)?.length ?? 0) >= SUBSCRIBERS) break;
    }
    deliveries = 0;
    faulty = 0;

    const latencies: number[] = [];
    for (let round = 0; round < DIFF_ROUNDS; round++) {
      const key = await diff();
      await until(() => received.get(key)?.length ?? 0, SUBSCRIBERS, DELIVERY_TIMEOUT_MS);
      const sentAt = postedAt.get(key) ?? Number.NaN;
      for (const at of received.get(key) ?? []) latencies.push(at - sentAt);
    }
    const stopped = await worker.request({ type: 'stop', cohortId }, 'stopped');
    return {
      subscribers: SUBSCRIBERS,
      diffs: DIFF_ROUNDS,
      membersPerDiff: MEMBERS_PER_DIFF,
      deliveries,
      expectedDeliveries: SUBSCRIBERS * DIFF_ROUNDS,
      faulty,
      latency: summarizeLatencies(latencies),
      gatewayMemory: stopped.peak,
      upstreamCalls: stopped.upstreamCalls,
    };
  } finally {
    await Promise.all(clients.map((client) => client.dispose()));
    await worker.close();
  }
}

// ---------- entry ----------

export interface WebhooksBenchResult {
  readonly ingestion: { readonly members: number; readonly pageSize: number; readonly rows: IngestionRow[]; readonly skipped: string[] };
  readonly fanOut: FanOutResult;
}

export async function runWebhooksBench(): Promise<WebhooksBenchResult> {
  const ingestion = await runIngestion();
  printTable(
    `Webhook ingestion: ${MEMBERS.toLocaleString('en-US')}-member full sync, ${MEMBERS / PAGE_SIZE} pages of ${PAGE_SIZE} (baseline: memory backend)`,
    ['backend', 'pages/s', 'x memory', 'seconds', 'HTTP attempts', 'members stored', 'peak RSS Δ MiB', 'x memory', 'peak heap Δ MiB', 'x memory'],
    ingestion.rows.map((row) => [
      row.backend,
      row.pagesPerSecond,
      row.pagesPerSecondVsMemory,
      row.seconds,
      row.attempts,
      row.membersStored,
      row.memory.rssDeltaMiB,
      row.rssDeltaVsMemory,
      row.memory.heapDeltaMiB,
      row.heapDeltaVsMemory,
    ]),
  );
  for (const note of ingestion.skipped) process.stdout.write(`skipped: ${note}\n`);

  process.stdout.write(`\nwebhooks: fanning ${DIFF_ROUNDS} diffs out to ${SUBSCRIBERS.toLocaleString('en-US')} graphql-ws subscribers...\n`);
  const fanOut = await runFanOut();
  printTable(
    `Fan-out: one ${MEMBERS_PER_DIFF}-member add_members diff to ${SUBSCRIBERS.toLocaleString('en-US')} graphql-ws subscribers (${DIFF_ROUNDS} diffs)`,
    ['deliveries', 'expected', 'faulty', 'p50 ms', 'p99 ms', 'max ms', 'gateway RSS Δ MiB', 'upstream calls'],
    [[fanOut.deliveries, fanOut.expectedDeliveries, fanOut.faulty, fanOut.latency.p50Ms, fanOut.latency.p99Ms, fanOut.latency.maxMs, fanOut.gatewayMemory.rssDeltaMiB, fanOut.upstreamCalls]],
  );
  const result: WebhooksBenchResult = { ingestion: { members: MEMBERS, pageSize: PAGE_SIZE, ...ingestion }, fanOut };
  const path = await writeResult('webhooks', { ...result });
  process.stdout.write(`\nwrote ${path}\n`);
  return result;
}
