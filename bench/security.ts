/**
 * Time to refuse hostile input, against a trivial `{ __typename }` POST
 * measured in the same run, on the real gateway over loopback with its
 * default limits:
 * - 5,000 aliases of `profile` (234 KB; refused by the document limits);
 * - a 1.2 KB fragment bomb (5^14 selections once expanded);
 * - an unauthenticated 16 MiB WebSocket frame: the time from opening a socket
 *   and sending it to the socket's close (1009), against opening a socket and
 *   getting an answer to `{ __typename }` over graphql-ws; most of it is the
 *   client masking and writing 16 MiB. The header of such a frame alone,
 *   without its payload, is refused just as fast as the baseline: the
 *   gateway closes on the header and never waits for the payload. RSS growth
 *   over the frames is this process's (client and gateway together).
 * Each figure is the median (p50) and p99 of ROUNDS tries, after a warm-up.
 */
import { performance } from 'node:perf_hooks';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { createEmulator } from '../src/emulator/server.js';
import { aliasFlood, fragmentBomb, frameHeader } from '../test/helpers/hostile-documents.js';
import { postGraphQL, startBenchGateway } from './lib/gateway.js';
import { printTable, writeResult } from './lib/report.js';
import { ratio, startMemorySampler, summarizeLatencies, type LatencySummary } from './lib/stats.js';

const ROUNDS = 30;
const FRAME_BYTES = 16 * 1024 * 1024;

async function timed(rounds: number, attempt: () => Promise<void>): Promise<LatencySummary> {
  await attempt(); // warm-up
  const samples: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const started = performance.now();
    await attempt();
    samples.push(performance.now() - started);
  }
  return summarizeLatencies(samples);
}

function expectRefused(result: { status: number; errors?: readonly { extensions?: Record<string, unknown> }[] }, what: string): void {
  if (result.errors?.length !== 1 || result.errors[0]?.extensions?.['code'] !== 'DOCUMENT_LIMIT') {
    throw new Error(`${what} was not refused with one DOCUMENT_LIMIT error (status ${result.status})`);
  }
}

export async function runSecurityBench(): Promise<void> {
  const emulator = await createEmulator({ size: 'small' });
  const gateway = await startBenchGateway({ emulatorUrl: emulator.url });
  const wsUrl = gateway.graphqlUrl.replace(/^http/, 'ws');
  try {
    const aliases = aliasFlood(5_000);
    const bomb = fragmentBomb();
    const baseline = await timed(ROUNDS, async () => {
      const result = await postGraphQL(gateway.graphqlUrl, '{ __typename }');
      if (result.errors) throw new Error('baseline failed');
    });
    const aliasRefusal = await timed(ROUNDS, async () => expectRefused(await postGraphQL(gateway.graphqlUrl, aliases), '5,000 aliases'));
    const bombRefusal = await timed(ROUNDS, async () => expectRefused(await postGraphQL(gateway.graphqlUrl, bomb), 'fragment bomb'));

    const wsBaseline = await timed(ROUNDS, async () => {
      const client = createClient({ url: wsUrl, webSocketImpl: WebSocket, retryAttempts: 0, lazy: true });
      try {
        await new Promise<void>((resolve, reject) =>
          client.subscribe({ query: '{ __typename }' }, { next: () => undefined, error: reject, complete: resolve }),
        );
      } finally {
        await client.dispose();
      }
    });
    const frame = Buffer.alloc(FRAME_BYTES, 0x61);
    const memory = startMemorySampler(5);
    const frameRefusal = await timed(ROUNDS, async () => {
      const socket = new WebSocket(wsUrl, 'graphql-transport-ws');
      await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
      const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
      socket.send(frame);
      const code = await closed;
      if (code !== 1009) throw new Error(`16 MiB frame closed the socket with ${code}, not 1009`);
    });
    const frameMemory = memory.stop();
    const headerRefusal = await timed(ROUNDS, async () => {
      const socket = new WebSocket(wsUrl, 'graphql-transport-ws');
      await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
      const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
      (socket as unknown as { _socket: { write(chunk: Buffer): void } })._socket.write(frameHeader(FRAME_BYTES));
      const code = await closed;
      if (code !== 1009) throw new Error(`16 MiB frame header closed the socket with ${code}, not 1009`);
    });

    const rows = [
      { case: '{ __typename } (baseline)', bytes: Buffer.byteLength('{ __typename }'), latency: baseline, versus: baseline },
      { case: '5,000 aliases of profile', bytes: Buffer.byteLength(aliases), latency: aliasRefusal, versus: baseline },
      { case: 'fragment bomb', bytes: Buffer.byteLength(bomb), latency: bombRefusal, versus: baseline },
      { case: 'graphql-ws { __typename } (baseline)', bytes: Buffer.byteLength('{ __typename }'), latency: wsBaseline, versus: wsBaseline },
      { case: '16 MiB frame, unauthenticated', bytes: FRAME_BYTES, latency: frameRefusal, versus: wsBaseline },
      { case: 'its header alone (payload never sent)', bytes: 14, latency: headerRefusal, versus: wsBaseline },
    ];
    printTable(
      `Time to refuse (${ROUNDS} tries each; ratio = p50 / its baseline's p50)`,
      ['case', 'bytes', 'p50 ms', 'p99 ms', 'ratio'],
      rows.map((row) => [row.case, row.bytes, row.latency.p50Ms, row.latency.p99Ms, ratio(row.latency.p50Ms, row.versus.p50Ms)]),
    );
    printTable(
      'Gateway memory over the 16 MiB frames',
      ['frames', 'RSS growth MiB', 'heap growth MiB'],
      [[ROUNDS + 1, frameMemory.rssDeltaMiB, frameMemory.heapDeltaMiB]],
    );
    const path = await writeResult('security', {
      rounds: ROUNDS,
      rows: rows.map((row) => ({ case: row.case, bytes: row.bytes, ...row.latency, ratioToBaseline: ratio(row.latency.p50Ms, row.versus.p50Ms) })),
      frameMemory,
    });
    process.stdout.write(`\nwrote ${path}\n`);
  } finally {
    await gateway.close();
    await emulator.close();
  }
}
