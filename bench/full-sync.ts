/**
 * Full cohort syncs without a stall on the last page.
 *
 * A 200,000-member full sync (200 pages of 1,000, Mixpanel's page size) is
 * sent over HTTP by the emulator's cohort-sync sender to the real gateway,
 * once per membership backend; the gateway runs in a child process
 * (bench/webhooks-worker.ts) so its memory is sampled alone. Reported per
 * backend: pages/s, peak RSS growth, the mean page's round trip and the
 * last page's (the one that swaps the shadow set in), their ratio (baseline:
 * the mean page of the same sync), the last page's share of the sync time,
 * the slowest `{ __typename }` answered while the sync ran (probed
 * every 25 ms: a stalled event loop shows here), and how long after the last
 * page's answer the completion events (every member ADDED, then REPLACED page
 * by page, streamed from the store) had all been published, as an in-process
 * subscriber of the gateway counts them. The probe runs until then.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { StoreKind } from '../src/config/types.js';
import { createCohortSyncSender, type CohortSyncPayload, type FetchLike, type SenderMember } from '../src/emulator/cohort-sync.js';
import { redisReachable } from '../test/helpers/redis.js';
import { BENCH_WEBHOOK_AUTH, postGraphQL } from './lib/gateway.js';
import { printTable, writeResult } from './lib/report.js';
import { ratio, type MemoryPeak } from './lib/stats.js';
import type { ParentMessage, WorkerMessage } from './webhooks-worker.js';

const MEMBERS = 200_000;
const PAGE_SIZE = 1_000;
const PROBE_INTERVAL_MS = 25;
const WORKER = fileURLToPath(new URL('./webhooks-worker.ts', import.meta.url));

export interface FullSyncRow {
  readonly backend: StoreKind;
  readonly pages: number;
  readonly seconds: number;
  readonly pagesPerSecond: number;
  readonly membersStored: number | undefined;
  readonly memory: MemoryPeak;
  readonly meanPageMs: number;
  readonly lastPageMs: number;
  /** Last page's round trip over the mean page's of the same sync (1 = no stall). */
  readonly lastVsMeanPage: number | null;
  /** Share of the whole sync spent on the last page. */
  readonly lastPageShare: number;
  /** Slowest `{ __typename }` answered while the sync ran and its completion events were published. */
  readonly maxProbeMs: number;
  /** From the last page's answer to `cohortSyncCompleted` (every completion event published before it). */
  readonly completionEventsMs: number | null;
  readonly changesPublished: number;
  readonly membersPublished: number;
  readonly pagesPerSecondVsMemory: number | null;
}

function members(count: number): SenderMember[] {
  return Array.from({ length: count }, (_, i) => ({
    distinctId: `bench-user-${String(i).padStart(7, '0')}`,
    email: `user${i}@example.com`,
    firstName: 'Ada',
    properties: { plan: i % 3 === 0 ? 'pro' : 'free' },
  }));
}

type Reply<T extends WorkerMessage['type']> = Extract<WorkerMessage, { type: T }>;

function waitFor<T extends WorkerMessage['type']>(child: ChildProcess, type: T, timeoutMs = 300_000): Promise<Reply<T>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`full-sync worker sent no '${type}' within ${timeoutMs} ms`)), timeoutMs);
    const onMessage = (message: WorkerMessage) => {
      if (message.type === type) done(undefined, message as Reply<T>);
      else if (message.type === 'failed') done(new Error(`full-sync worker failed: ${message.message}`));
    };
    const onExit = (code: number | null) => done(new Error(`full-sync worker exited (code ${code}) before '${type}'`));
    const done = (error?: Error, message?: Reply<T>) => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (error) reject(error);
      else resolve(message!);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

async function syncOnce(kind: StoreKind, location: string | undefined, all: readonly SenderMember[]) {
  const child = fork(WORKER, location ? [kind, location] : [kind], {
    execArgv: ['--import', 'tsx', '--expose-gc'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const request = <T extends WorkerMessage['type']>(message: ParentMessage, reply: T) => {
    const answer = waitFor(child, reply);
    child.send(message);
    return answer;
  };
  try {
    const ready = await waitFor(child, 'ready', 60_000);
    const cohortId = '7001';
    const pageMs = new Map<number, number>();
    const answeredAt = new Map<number, number>();
    const timed: FetchLike = async (url, init) => {
      const page = (JSON.parse(String(init.body)) as CohortSyncPayload).parameters.page_info.page_count;
      const started = performance.now();
      const response = await fetch(url, init);
      pageMs.set(page, performance.now() - started);
      answeredAt.set(page, performance.timeOrigin + performance.now());
      return response;
    };
    const sender = createCohortSyncSender({ url: ready.webhookUrl, pageSize: PAGE_SIZE, basicAuth: BENCH_WEBHOOK_AUTH, fetch: timed });
    await request({ type: 'start' }, 'started');
    let probing = true;
    let maxProbeMs = 0;
    const probes = (async () => {
      while (probing) {
        const started = performance.now();
        await postGraphQL(ready.graphqlUrl, '{ __typename }');
        maxProbeMs = Math.max(maxProbeMs, performance.now() - started);
        await new Promise((resolve) => setTimeout(resolve, PROBE_INTERVAL_MS));
      }
    })();
    const started = performance.now();
    const sync = await sender.sync({ projectId: ready.projectId, cohortId, cohortName: 'Bench full sync', members: all });
    const seconds = (performance.now() - started) / 1000;
    const stopped = await request({ type: 'stop', cohortId, awaitCompletion: true }, 'stopped');
    probing = false;
    await probes;
    if (sync.status !== 'ok') throw new Error(`the ${kind} full sync ended ${sync.status}: ${sync.error ?? ''}`);
    const last = pageMs.get(sync.pagesSent) ?? 0;
    const others = [...pageMs].filter(([page]) => page !== sync.pagesSent).map(([, ms]) => ms);
    const mean = others.reduce((a, b) => a + b, 0) / Math.max(1, others.length);
    const lastAnswered = answeredAt.get(sync.pagesSent);
    const completionEventsMs =
      stopped.completedAtEpochMs !== undefined && lastAnswered !== undefined ? Math.max(0, stopped.completedAtEpochMs - lastAnswered) : null;
    return {
      pages: sync.pagesSent,
      seconds,
      membersStored: stopped.memberCount,
      memory: stopped.peak,
      meanPageMs: mean,
      lastPageMs: last,
      maxProbeMs,
      completionEventsMs,
      changesPublished: stopped.changesPublished,
      membersPublished: stopped.membersPublished,
    };
  } finally {
    if (child.connected) {
      const closed = waitFor(child, 'closed', 60_000).catch(() => undefined);
      child.send({ type: 'close' } satisfies ParentMessage);
      await closed;
    }
    if (child.exitCode === null) setTimeout(() => child.kill(), 5_000).unref();
    await exited;
  }
}

const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;

export async function runFullSyncBench(): Promise<{ members: number; pageSize: number; rows: FullSyncRow[]; skipped: string[] }> {
  const all = members(MEMBERS);
  const kinds: StoreKind[] = ['memory', 'sqlite'];
  const skipped: string[] = [];
  if (await redisReachable()) kinds.push('redis');
  else skipped.push('redis: nothing answers at redis://127.0.0.1:6379');

  const measured: Omit<FullSyncRow, 'pagesPerSecondVsMemory'>[] = [];
  for (const kind of kinds) {
    process.stdout.write(`full-sync: ${MEMBERS.toLocaleString('en-US')} members into ${kind}...\n`);
    const tempDir = kind === 'sqlite' ? await mkdtemp(join(os.tmpdir(), 'mpgw-bench-full-')) : undefined;
    const location = tempDir ? join(tempDir, 'membership.sqlite') : kind === 'redis' ? `mpgw-bench-full:${process.pid}:${Date.now()}:` : undefined;
    try {
      const run = await syncOnce(kind, location, all);
      measured.push({
        backend: kind,
        pages: run.pages,
        seconds: round(run.seconds, 2),
        pagesPerSecond: round(run.pages / run.seconds),
        membersStored: run.membersStored,
        memory: run.memory,
        meanPageMs: round(run.meanPageMs),
        lastPageMs: round(run.lastPageMs),
        lastVsMeanPage: ratio(run.lastPageMs, run.meanPageMs),
        lastPageShare: round(run.lastPageMs / 1000 / run.seconds, 3),
        maxProbeMs: round(run.maxProbeMs),
        completionEventsMs: run.completionEventsMs === null ? null : round(run.completionEventsMs),
        changesPublished: run.changesPublished,
        membersPublished: run.membersPublished,
      });
    } finally {
      if (tempDir) await rm(tempDir, { recursive: true, force: true });
    }
  }
  const baseline = measured.find((row) => row.backend === 'memory');
  const rows = measured.map((row) => ({ ...row, pagesPerSecondVsMemory: baseline ? ratio(row.pagesPerSecond, baseline.pagesPerSecond) : null }));
  printTable(
    `Full sync: ${MEMBERS.toLocaleString('en-US')} members, ${MEMBERS / PAGE_SIZE} pages of ${PAGE_SIZE} (baselines: the memory backend; the sync's mean page)`,
    [
      'backend',
      'pages/s',
      'x memory',
      'peak RSS Δ MiB',
      'mean page ms',
      'last page ms',
      'last x mean',
      'last page share',
      'max probe ms',
      'completion events ms',
      'events',
      'members in events',
      'members stored',
    ],
    rows.map((row) => [
      row.backend,
      row.pagesPerSecond,
      row.pagesPerSecondVsMemory,
      row.memory.rssDeltaMiB,
      row.meanPageMs,
      row.lastPageMs,
      row.lastVsMeanPage,
      row.lastPageShare,
      row.maxProbeMs,
      row.completionEventsMs,
      row.changesPublished,
      row.membersPublished,
      row.membersStored,
    ]),
  );
  for (const note of skipped) process.stdout.write(`skipped: ${note}\n`);
  const result = { members: MEMBERS, pageSize: PAGE_SIZE, rows, skipped };
  await writeResult('full-sync', { ...result });
  return result;
}
