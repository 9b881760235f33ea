/**
 * Fan-out part of the webhooks bench: how fast one cohort diff reaches live
 * graphql-ws subscribers, at 100, 1,000 and 10,000 of them, against a plain
 * graphql-ws server sending the same payload (bench/fan-out-baseline-worker.ts),
 * measured in the same run.
 *
 * Each server runs in its own child process (its CPU time is read there);
 * the subscribers are spread over CLIENT_WORKERS child processes
 * (bench/fan-out-client-worker.ts), one socket each. For every diff, a
 * 100-member `add_members` cohort-sync body is POSTed and the bench records:
 * - latency: from just before the POST to each subscriber receiving the event
 *   (epoch ms, compared across processes), p50/p99 over every delivery;
 * - the webhook's own response time (the POST until its answer);
 * - the server's CPU time per diff (user + system, over the measured diffs).
 * Subscription is confirmed first (warm-up diffs until every socket has one).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { SenderMember } from '../src/emulator/cohort-sync.js';
import type { BaselineCommand, BaselineMessage } from './fan-out-baseline-worker.js';
import type { ClientCommand, ClientReport } from './fan-out-client-worker.js';
import { BENCH_WEBHOOK_AUTHORIZATION } from './lib/gateway.js';
import { ratio, summarizeLatencies, type LatencySummary } from './lib/stats.js';
import type { ParentMessage, WorkerMessage } from './webhooks-worker.js';

/** Subscriber counts measured; `FAN_OUT_SUBSCRIBERS=1000,10000` measures only those. */
export const SUBSCRIBER_COUNTS: readonly number[] = process.env['FAN_OUT_SUBSCRIBERS']?.split(',').map(Number) ?? [100, 1_000, 10_000];
const CLIENT_WORKERS = 4;
/** Diffs measured per server and count; fewer at 10,000, where the baseline needs seconds per diff. */
const diffsFor = (subscribers: number) => (subscribers >= 10_000 ? 2 : 5);
/** Delivered diffs sent after the first before measuring (steady state, not the first compilation). */
const warmDiffsFor = (subscribers: number) => (subscribers >= 10_000 ? 1 : 3);
const WARM_UP_ATTEMPTS = 20;
const MEMBERS_PER_DIFF = 100;
const DELIVERY_TIMEOUT_MS = 60_000;
const PAUSE_BETWEEN_DIFFS_MS = 200;
const COHORT_ID = '6001';

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));
const EXEC_ARGV = ['--import', 'tsx'];
const epochNow = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const SUBSCRIPTION = /* GraphQL */ `
  subscription BenchCohortChanges($cohortIds: [ID!]) {
    cohortMembershipChanged(cohortIds: $cohortIds) { cohortId kind sessionId page totalPages members { distinctId email } }
  }
`;

export interface FanOutRow {
  /** `gateway`, or `graphql-ws` (the plain server, the baseline). */
  readonly server: 'gateway' | 'graphql-ws';
  readonly subscribers: number;
  readonly diffs: number;
  readonly deliveries: number;
  readonly expectedDeliveries: number;
  /** Copies that differed from the checked first copy, or failed its check. */
  readonly faulty: number;
  /** Size of one `next` message. */
  readonly messageBytes: number;
  readonly latency: LatencySummary;
  readonly webhookResponse: LatencySummary;
  readonly cpuMsPerDiff: number;
  readonly p99VsBaseline: number | null;
  readonly cpuVsBaseline: number | null;
}

export interface FanOutBenchResult {
  readonly membersPerDiff: number;
  readonly clientWorkers: number;
  readonly rows: FanOutRow[];
  readonly skipped: string[];
  /** The machine's 1-minute load average before and after: other work on the same cores stretches every latency. */
  readonly loadAverage: { readonly before: number; readonly after: number };
}

// ---------- child processes ----------

function once<T>(child: ChildProcess, accept: (message: T) => boolean, what: string, timeoutMs = 120_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    const onMessage = (message: T) => {
      if ((message as { type?: string }).type === 'failed') {
        cleanup();
        reject(new Error(`${what}: ${(message as unknown as { message: string }).message}`));
      } else if (accept(message)) {
        cleanup();
        resolve(message);
      }
    };
    const onExit = (code: number | null) => {
      cleanup();
      reject(new Error(`${what}: the process exited (code ${code})`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`${what}: no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

interface Server {
  readonly name: FanOutRow['server'];
  readonly webhookUrl: string;
  readonly wsUrl: string;
  readonly projectId: string;
  /** CPU time (µs) the server process has used so far. */
  usage(): Promise<number>;
  close(): Promise<void>;
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => resolve()));
}

async function startGatewayServer(): Promise<Server> {
  const child = fork(here('./webhooks-worker.ts'), ['memory'], {
    execArgv: [...EXEC_ARGV, ...(process.env['FAN_OUT_PROFILE'] ? ['--cpu-prof', `--cpu-prof-dir=${process.env['FAN_OUT_PROFILE']}`] : [])],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ready = await once<WorkerMessage>(child, (m) => m.type === 'ready', 'gateway worker');
  if (ready.type !== 'ready') throw new Error('unreachable');
  return {
    name: 'gateway',
    webhookUrl: ready.webhookUrl,
    wsUrl: ready.graphqlUrl.replace(/^http/, 'ws'),
    projectId: ready.projectId,
    async usage() {
      const answer = once<WorkerMessage>(child, (m) => m.type === 'usage', 'gateway usage');
      child.send({ type: 'usage' } satisfies ParentMessage);
      const message = await answer;
      return message.type === 'usage' ? message.cpuMicros : 0;
    },
    async close() {
      const done = exited(child);
      if (child.connected) {
        const closed = once<WorkerMessage>(child, (m) => m.type === 'closed', 'gateway close', 60_000).catch(() => undefined);
        child.send({ type: 'close' } satisfies ParentMessage);
        await closed;
      }
      setTimeout(() => child.kill(), 5_000).unref();
      await done;
    },
  };
}

async function startBaselineServer(): Promise<Server> {
  const child = fork(here('./fan-out-baseline-worker.ts'), [], { execArgv: EXEC_ARGV, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ready = await once<BaselineMessage>(child, (m) => m.type === 'ready', 'baseline worker');
  if (ready.type !== 'ready') throw new Error('unreachable');
  return {
    name: 'graphql-ws',
    webhookUrl: ready.webhookUrl,
    wsUrl: ready.graphqlUrl.replace(/^http/, 'ws'),
    projectId: '0',
    async usage() {
      const answer = once<BaselineMessage>(child, (m) => m.type === 'usage', 'baseline usage');
      child.send({ type: 'usage' } satisfies BaselineCommand);
      const message = await answer;
      return message.type === 'usage' ? message.cpuMicros : 0;
    },
    async close() {
      const done = exited(child);
      if (child.connected) {
        const closed = once<BaselineMessage>(child, (m) => m.type === 'closed', 'baseline close', 30_000).catch(() => undefined);
        child.send({ type: 'close' } satisfies BaselineCommand);
        await closed;
      }
      setTimeout(() => child.kill(), 5_000).unref();
      await done;
    },
  };
}

interface ClientWorker {
  readonly child: ChildProcess;
  command(command: ClientCommand, reply: ClientReport['type']): Promise<ClientReport>;
  close(): Promise<void>;
}

function startClientWorker(): ClientWorker {
  const child = fork(here('./fan-out-client-worker.ts'), [], { execArgv: EXEC_ARGV, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return {
    child,
    command(command, reply) {
      const answer = once<ClientReport>(child, (m) => m.type === reply, `client worker ${command.type}`);
      child.send(command);
      return answer;
    },
    async close() {
      const done = exited(child);
      if (child.connected) child.send({ type: 'exit' } satisfies ClientCommand);
      setTimeout(() => child.kill(), 5_000).unref();
      await done;
    },
  };
}

// ---------- one measurement ----------

function diffBody(projectId: string, sessionId: string, offset: number): string {
  const members: SenderMember[] = Array.from({ length: MEMBERS_PER_DIFF }, (_, k) => ({
    distinctId: `fan-out-user-${String(offset + k).padStart(7, '0')}`,
    email: `fan${String(offset + k).padStart(7, '0')}@example.com`,
  }));
  return JSON.stringify({
    action: 'add_members',
    parameters: {
      mixpanel_project_id: projectId,
      mixpanel_cohort_id: COHORT_ID,
      mixpanel_cohort_name: 'Bench live cohort',
      mixpanel_cohort_description: '',
      mixpanel_session_id: sessionId,
      page_info: { total_pages: 1, page_count: 1 },
      members: members.map((m) => ({ mixpanel_distinct_id: m.distinctId, email: m.email })),
    },
  });
}

/** Same length for both servers, so their messages are the same size. */
const sessionTag = (server: Server) => (server.name === 'gateway' ? 'gw' : 'ws');

interface Arrivals {
  readonly workers: Set<ClientWorker>;
  readonly times: number[];
  faulty: number;
  bytes: number;
}

let memberOffset = 0;

async function measure(server: Server, clients: readonly ClientWorker[], subscribers: number): Promise<Omit<FanOutRow, 'p99VsBaseline' | 'cpuVsBaseline'>> {
  const active = clients.slice(0, Math.min(clients.length, Math.ceil(subscribers / 25)));
  const shares = active.map((_, i) => Math.floor(subscribers / active.length) + (i < subscribers % active.length ? 1 : 0));
  const arrivals = new Map<string, Arrivals>();
  const listeners = active.map((client) => {
    const listener = (report: ClientReport) => {
      if (report.type !== 'event') return;
      const entry = arrivals.get(report.sessionId) ?? { workers: new Set<ClientWorker>(), times: [], faulty: 0, bytes: report.bytes };
      entry.workers.add(client);
      entry.times.push(...report.arrivals);
      entry.faulty += report.faulty;
      arrivals.set(report.sessionId, entry);
    };
    client.child.on('message', listener);
    return () => client.child.off('message', listener);
  });
  const everyone = (sessionId: string) => arrivals.get(sessionId)?.workers.size === active.length;
  const waitFor = async (sessionId: string, timeoutMs: number) => {
    const deadline = performance.now() + timeoutMs;
    while (!everyone(sessionId) && performance.now() < deadline) await sleep(2);
    return everyone(sessionId);
  };
  const post = async (sessionId: string) => {
    memberOffset += MEMBERS_PER_DIFF;
    const body = diffBody(server.projectId, sessionId, memberOffset);
    const sentAt = epochNow();
    const started = performance.now();
    const response = await fetch(server.webhookUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: BENCH_WEBHOOK_AUTHORIZATION },
      body,
    });
    await response.arrayBuffer();
    if (response.status !== 200) throw new Error(`${server.name} answered the webhook with ${response.status}`);
    return { sentAt, responseMs: performance.now() - started };
  };

  try {
    const connected = await Promise.all(
      active.map((client, i) =>
        client.command(
          {
            type: 'connect',
            url: server.wsUrl,
            count: shares[i]!,
            query: SUBSCRIPTION,
            variables: { cohortIds: [COHORT_ID] },
            membersPerEvent: MEMBERS_PER_DIFF,
          },
          'connected',
        ),
      ),
    );
    const open = connected.reduce((sum, report) => sum + (report.type === 'connected' ? report.open : 0), 0);
    if (open !== subscribers) throw new Error(`${server.name}: only ${open} of ${subscribers} sockets opened`);

    // graphql-ws acknowledges no subscription: send diffs until one reaches every socket. Each attempt
    // waits for its delivery to start (a server may execute for everyone before writing to anyone),
    // then to stop progressing (a socket subscribed too late never gets it).
    let live = false;
    for (let attempt = 0; attempt < WARM_UP_ATTEMPTS && !live; attempt++) {
      const sessionId = `warm-${sessionTag(server)}-${subscribers}-${attempt}`;
      await post(sessionId);
      const started = performance.now();
      let received = 0;
      let quietSince = performance.now();
      for (live = everyone(sessionId); !live; live = everyone(sessionId)) {
        await sleep(100);
        const counts = await Promise.all(active.map((client) => client.command({ type: 'count', sessionId }, 'count')));
        const total = counts.reduce((sum, report) => sum + (report.type === 'count' ? report.received : 0), 0);
        if (total !== received) {
          received = total;
          quietSince = performance.now();
        }
        const waiting = received === 0 ? performance.now() - started > DELIVERY_TIMEOUT_MS : performance.now() - quietSince > 1_000;
        if (waiting) break;
      }
    }
    if (!live) throw new Error(`${server.name}: not every one of ${subscribers} subscribers received a warm-up diff`);
    // A few more before measuring, so the measured diffs find the code compiled and the heap settled.
    for (let extra = 0; extra < warmDiffsFor(subscribers); extra++) {
      const sessionId = `warm-${sessionTag(server)}-${subscribers}-extra-${extra}`;
      await post(sessionId);
      await waitFor(sessionId, DELIVERY_TIMEOUT_MS);
      await sleep(PAUSE_BETWEEN_DIFFS_MS);
    }

    const latencies: number[] = [];
    const responses: number[] = [];
    let deliveries = 0;
    let faulty = 0;
    let messageBytes = 0;
    const diffs = diffsFor(subscribers);
    const cpuBefore = await server.usage();
    for (let round = 0; round < diffs; round++) {
      const sessionId = `diff-${sessionTag(server)}-${subscribers}-${round}`;
      const { sentAt, responseMs } = await post(sessionId);
      responses.push(responseMs);
      await waitFor(sessionId, DELIVERY_TIMEOUT_MS);
      const entry = arrivals.get(sessionId);
      for (const at of entry?.times ?? []) latencies.push(at - sentAt);
      deliveries += entry?.times.length ?? 0;
      faulty += entry?.faulty ?? 0;
      messageBytes = entry?.bytes ?? messageBytes;
      await sleep(PAUSE_BETWEEN_DIFFS_MS);
    }
    const cpuAfter = await server.usage();
    return {
      server: server.name,
      subscribers,
      diffs,
      deliveries,
      expectedDeliveries: subscribers * diffs,
      faulty,
      messageBytes,
      latency: summarizeLatencies(latencies),
      webhookResponse: summarizeLatencies(responses),
      cpuMsPerDiff: Math.round(((cpuAfter - cpuBefore) / 1000 / diffs) * 10) / 10,
    };
  } finally {
    for (const stop of listeners) stop();
    await Promise.all(active.map((client) => client.command({ type: 'disconnect' }, 'disconnected')));
    // Let the server finish closing the sockets before the next measurement.
    await sleep(500);
  }
}

/** The soft limit on open files of a process started from here (each subscriber is one socket in the server). */
function openFileLimit(): number {
  try {
    return Number(execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim());
  } catch {
    return Number.NaN;
  }
}

export async function runFanOutBench(log: (line: string) => void): Promise<FanOutBenchResult> {
  const loadBefore = os.loadavg()[0] ?? 0;
  const limit = openFileLimit();
  const skipped: string[] = [];
  // The server holds one socket per subscriber, plus its own files.
  const counts = SUBSCRIBER_COUNTS.filter((count) => {
    if (Number.isNaN(limit) || limit === Infinity || count + 500 <= limit) return true;
    skipped.push(`${count} subscribers: the open-file limit is ${limit} (raise it with \`ulimit -n ${count + 1000}\`)`);
    return false;
  });
  const clients = Array.from({ length: CLIENT_WORKERS }, () => startClientWorker());
  const servers: Server[] = [];
  const rows: FanOutRow[] = [];
  try {
    servers.push(await startBaselineServer(), await startGatewayServer());
    for (const count of counts) {
      const measured: Omit<FanOutRow, 'p99VsBaseline' | 'cpuVsBaseline'>[] = [];
      for (const server of servers) {
        log(`webhooks: fan-out of ${diffsFor(count)} diffs to ${count.toLocaleString('en-US')} subscribers of ${server.name}...`);
        try {
          measured.push(await measure(server, clients, count));
        } catch (error) {
          // One failed measurement is reported, and the others still run.
          skipped.push(`${server.name} at ${count} subscribers: ${error instanceof Error ? error.message : String(error)}`);
          log(`webhooks: ${skipped.at(-1)}`);
        }
      }
      const baseline = measured.find((row) => row.server === 'graphql-ws');
      for (const row of measured) {
        rows.push({
          ...row,
          p99VsBaseline: baseline ? ratio(row.latency.p99Ms, baseline.latency.p99Ms) : null,
          cpuVsBaseline: baseline ? ratio(row.cpuMsPerDiff, baseline.cpuMsPerDiff) : null,
        });
      }
    }
  } finally {
    await Promise.all([...servers.map((server) => server.close()), ...clients.map((client) => client.close())]);
  }
  const round = (load: number) => Math.round(load * 100) / 100;
  return {
    membersPerDiff: MEMBERS_PER_DIFF,
    clientWorkers: CLIENT_WORKERS,
    rows,
    skipped,
    loadAverage: { before: round(loadBefore), after: round(os.loadavg()[0] ?? 0) },
  };
}
