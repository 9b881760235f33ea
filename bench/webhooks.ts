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
 * 2. Fan-out (bench/webhooks-fan-out.ts): one 100-member diff to 100, 1,000
 *    and 10,000 graphql-ws subscribers held by client processes, against a
 *    plain graphql-ws server sending the same payload: delivery latency
 *    p50/p99, the webhook's own response time and server CPU per diff.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { StoreKind } from '../src/config/types.js';
import { createCohortSyncSender, type SenderMember } from '../src/emulator/cohort-sync.js';
import { BENCH_WEBHOOK_AUTH } from './lib/gateway.js';
import { printTable, writeResult } from './lib/report.js';
import { ratio, type MemoryPeak } from './lib/stats.js';
import type { ParentMessage, WorkerMessage } from './webhooks-worker.js';
import { runFanOutBench, type FanOutBenchResult } from './webhooks-fan-out.js';
import { redisReachable } from '../test/helpers/redis.js';

const MEMBERS = 200_000;
const PAGE_SIZE = 1_000;
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

  const measured: Omit<IngestionRow, 'pagesPerSecondVsMemory' | 'rssDeltaVsMemory' | 'heapDeltaVsMemory'>[] = [];
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

// ---------- entry ----------

export interface WebhooksBenchResult {
  readonly ingestion: { readonly members: number; readonly pageSize: number; readonly rows: IngestionRow[]; readonly skipped: string[] };
  readonly fanOut: FanOutBenchResult;
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

  process.stdout.write('\n');
  const fanOut = await runFanOutBench((line) => process.stdout.write(`${line}\n`));
  printFanOut(fanOut);
  const result: WebhooksBenchResult = { ingestion: { members: MEMBERS, pageSize: PAGE_SIZE, ...ingestion }, fanOut };
  const path = await writeResult('webhooks', { ...result });
  process.stdout.write(`\nwrote ${path}\n`);
  return result;
}

function printFanOut(fanOut: FanOutBenchResult): void {
  printTable(
    `Fan-out: one ${fanOut.membersPerDiff}-member add_members diff to N graphql-ws subscribers (baseline: plain graphql-ws server, same payload)`,
    [
      'server',
      'subscribers',
      'diffs',
      'deliveries',
      'expected',
      'faulty',
      'msg bytes',
      'p50 ms',
      'p99 ms',
      'max ms',
      'x baseline p99',
      'webhook p50 ms',
      'webhook max ms',
      'CPU ms/diff',
      'x baseline CPU',
    ],
    fanOut.rows.map((row) => [
      row.server,
      row.subscribers,
      row.diffs,
      row.deliveries,
      row.expectedDeliveries,
      row.faulty,
      row.messageBytes,
      row.latency.p50Ms,
      row.latency.p99Ms,
      row.latency.maxMs,
      row.p99VsBaseline,
      row.webhookResponse.p50Ms,
      row.webhookResponse.maxMs,
      row.cpuMsPerDiff,
      row.cpuVsBaseline,
    ]),
  );
  for (const note of fanOut.skipped) process.stdout.write(`skipped: ${note}\n`);
  process.stdout.write(`load average (1 min): ${fanOut.loadAverage.before} before, ${fanOut.loadAverage.after} after\n`);
}

/** `tsx bench/webhooks.ts fan-out`: the fan-out part alone (the result file is left as it is). */
if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2] === 'fan-out') {
  process.env.NODE_ENV ??= 'production';
  printFanOut(await runFanOutBench((line) => process.stdout.write(`${line}\n`)));
}
