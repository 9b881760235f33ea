/**
 * Raw events: 100 pages of `events(first: 1000)` and the NDJSON download of
 * the same range through the gateway, side by side with the raw client in
 * the same run, over an emulator whose export comes in a new order on every
 * call (as Mixpanel's does).
 *
 * - raw client, one export: `client.exportEvents` read to the end once (the
 *   floor: what a script without the gateway pays).
 * - raw client, offset paging: each page re-exports with `limit` rounded up to
 *   a block of 1,000, the design `events` had before (run for 20 pages; every
 *   page past the first is a new call, so 100 pages cost 99 by construction).
 *   Its pages are not even correct over an unordered export.
 * - gateway events: 100 pages of 1,000 (each range and filter read once,
 *   spilled to disk, paged from there).
 * - gateway download: GET /projects/default/events.ndjson for the range.
 *
 * Export calls come from the emulator's counter; events/s is events delivered
 * per wall second; peak RSS is the process's rise over the phase (gateway,
 * client and emulator share this process, so it is an upper bound for each).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createEmulator, DEMO_PROJECT } from '../src/emulator/server.js';
import { spillEvents } from '../src/events/spill.js';
import { createMixpanelClient } from '../src/mixpanel/client.js';
import type { ExportedEvent } from '../src/mixpanel/types.js';
import { Secret } from '../src/core/secret.js';
import { postGraphQL, startBenchGateway } from './lib/gateway.js';
import { printTable, writeResult } from './lib/report.js';
import { ratio, startMemorySampler } from './lib/stats.js';

const EVENTS = 120_000;
const PAGES = 100;
const PAGE_SIZE = 1_000;
const OFFSET_PAGES = 20;
const BLOCK = 1_000;
const DAY_MS = 86_400_000;

interface Phase {
  readonly name: string;
  readonly exportCalls: number;
  readonly eventsDelivered: number;
  readonly eventsRead: number;
  readonly seconds: number;
  readonly eventsPerSecond: number;
  readonly rssDeltaMiB: number;
  readonly heapDeltaMiB: number;
  readonly pages?: number;
  readonly exact?: boolean;
}

const PAGE_QUERY = `query($from: Date!, $to: Date!, $first: Int, $after: String) {
  events(from: $from, to: $to, first: $first, after: $after) {
    __typename
    ... on EventConnection { pageInfo { hasNextPage endCursor } edges { node { name time insertId distinctId properties } } }
    ... on Error { message code }
  }
}`;

export async function runEventsBench(): Promise<Record<string, unknown>> {
  const emulator = await createEmulator({
    size: { profiles: 5_000, events: EVENTS, days: 10, groups: 10 },
    limits: { export: { perHour: 100_000, perSecond: 1_000, concurrent: 100 } },
  });
  const gateway = await startBenchGateway({ emulatorUrl: emulator.url });
  const client = createMixpanelClient({
    projectId: DEMO_PROJECT.projectId,
    serviceAccount: { username: DEMO_PROJECT.username, secret: new Secret(DEMO_PROJECT.secret) },
    baseUrls: emulator.baseUrls,
    integrationId: 'bench',
  });
  const now = emulator.clock.now();
  const from = new Date(now - 10 * DAY_MS).toISOString().slice(0, 10);
  const to = new Date(now).toISOString().slice(0, 10);
  const phases: Phase[] = [];

  async function phase(
    name: string,
    run: () => Promise<Omit<Phase, 'name' | 'exportCalls' | 'seconds' | 'eventsPerSecond' | 'rssDeltaMiB' | 'heapDeltaMiB'>>,
  ): Promise<void> {
    emulator.resetCalls();
    const sampler = startMemorySampler();
    const started = performance.now();
    const result = await run();
    const seconds = (performance.now() - started) / 1000;
    const memory = sampler.stop();
    phases.push({
      name,
      exportCalls: emulator.calls('/api/2.0/export'),
      seconds: Math.round(seconds * 10) / 10,
      eventsPerSecond: Math.round(result.eventsDelivered / seconds),
      rssDeltaMiB: memory.rssDeltaMiB,
      heapDeltaMiB: memory.heapDeltaMiB,
      ...result,
    });
  }

  try {
    await phase('raw client, one export', async () => {
      let n = 0;
      for await (const _ of client.exportEvents({ fromDate: from, toDate: to, timeInMs: true })) n += 1;
      return { eventsDelivered: n, eventsRead: n };
    });

    await phase(`raw client, offset paging (${OFFSET_PAGES} pages)`, async () => {
      let read = 0;
      const seen = new Set<string>();
      let delivered = 0;
      for (let page = 0; page < OFFSET_PAGES; page += 1) {
        const offset = page * PAGE_SIZE;
        const limit = Math.ceil((offset + PAGE_SIZE + 1) / BLOCK) * BLOCK;
        const events: string[] = [];
        for await (const event of client.exportEvents({ fromDate: from, toDate: to, timeInMs: true, limit })) {
          events.push(String(event.properties.$insert_id));
          if (events.length >= limit) break;
        }
        read += events.length;
        for (const id of events.slice(offset, offset + PAGE_SIZE)) {
          seen.add(id);
          delivered += 1;
        }
      }
      return { eventsDelivered: delivered, eventsRead: read, pages: OFFSET_PAGES, exact: seen.size === delivered };
    });

    await phase(`gateway events (${PAGES} pages)`, async () => {
      let after: string | null = null;
      let delivered = 0;
      const seen = new Set<string>();
      for (let page = 0; page < PAGES; page += 1) {
        const result = await postGraphQL(gateway.graphqlUrl, PAGE_QUERY, { from, to, first: PAGE_SIZE, after });
        const connection = result.data?.['events'] as
          | { __typename: string; message?: string; pageInfo: { hasNextPage: boolean; endCursor: string | null }; edges: { node: { insertId: string } }[] }
          | undefined;
        if (connection?.__typename !== 'EventConnection') throw new Error(`events page ${page} failed: ${JSON.stringify(result.errors ?? connection)}`);
        for (const edge of connection.edges) seen.add(edge.node.insertId);
        delivered += connection.edges.length;
        after = connection.pageInfo.endCursor;
        if (!connection.pageInfo.hasNextPage) break;
      }
      return { eventsDelivered: delivered, eventsRead: EVENTS, pages: PAGES, exact: seen.size === delivered };
    });

    await phase('gateway NDJSON download', async () => {
      const lines = await new Promise<number>((resolve, reject) => {
        get(`${gateway.url}/projects/default/events.ndjson?from=${from}&to=${to}`, (response) => {
          if (response.statusCode !== 200) reject(new Error(`download answered ${response.statusCode}`));
          let count = 0;
          response.on('data', (chunk: Buffer) => {
            for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) count += 1;
          });
          response.on('end', () => resolve(count));
          response.on('error', reject);
        }).on('error', reject);
      });
      return { eventsDelivered: lines, eventsRead: lines };
    });
  } finally {
    await gateway.close();
    await client.close();
    await emulator.close();
  }

  // The spill alone, at 1x and 3x the range: what it retains must not grow with the range. Peaks include
  // garbage V8 has not collected yet; "retained" is the heap after a forced collection, the read still open.
  setFlagsFromString('--expose-gc');
  const collect = runInNewContext('gc') as () => void;
  const spills: { events: number; seconds: number; rssDeltaMiB: number; heapDeltaMiB: number; retainedMiB: number; diskMiB: number }[] = [];
  for (const count of [EVENTS, 3 * EVENTS]) {
    collect();
    const heapBefore = process.memoryUsage().heapUsed;
    const dir = await mkdtemp(join(tmpdir(), 'bench-spill-'));
    async function* source(): AsyncGenerator<ExportedEvent> {
      for (let i = 0; i < count; i++) {
        yield {
          event: 'View Page',
          properties: {
            time: now - ((i * 7919) % (10 * DAY_MS)),
            $insert_id: `bench-${i}`,
            distinct_id: `user-${i % 5_000}`,
            $browser: 'Chrome',
            $os: 'Linux',
            $city: 'Paris',
            page: '/pricing',
            mp_processing_time_ms: now,
          },
        };
      }
    }
    const sampler = startMemorySampler();
    const started = performance.now();
    const read = await spillEvents(source(), { dir: join(dir, 'read'), maxBytes: 4 * 1024 ** 3 });
    const seconds = (performance.now() - started) / 1000;
    const memory = sampler.stop();
    collect();
    const retainedMiB = Math.round(((process.memoryUsage().heapUsed - heapBefore) / 1024 ** 2) * 10) / 10;
    spills.push({
      events: count,
      seconds: Math.round(seconds * 10) / 10,
      rssDeltaMiB: memory.rssDeltaMiB,
      heapDeltaMiB: memory.heapDeltaMiB,
      retainedMiB,
      diskMiB: Math.round(read.bytes / 1024 ** 2),
    });
    await read.remove();
    await rm(dir, { recursive: true, force: true });
  }
  printTable(
    'Spill of one read (sort on disk): memory against range size',
    ['events read', 'seconds', 'disk MiB', 'peak RSS rise MiB', 'peak heap rise MiB', 'retained heap MiB'],
    spills.map((s) => [s.events, s.seconds, s.diskMiB, s.rssDeltaMiB, s.heapDeltaMiB, s.retainedMiB]),
  );

  const floor = phases[0]!;
  printTable(
    `Raw events over an unordered export (${EVENTS.toLocaleString('en-US')} events in range)`,
    ['phase', 'export calls', 'events read', 'events delivered', 'exact', 'events/s', 'x floor events/s', 'peak RSS rise MiB', 'peak heap rise MiB'],
    phases.map((p) => [
      p.name,
      p.exportCalls,
      p.eventsRead,
      p.eventsDelivered,
      p.exact ?? null,
      p.eventsPerSecond,
      ratio(p.eventsPerSecond, floor.eventsPerSecond),
      p.rssDeltaMiB,
      p.heapDeltaMiB,
    ]),
  );
  const result = { events: EVENTS, pageSize: PAGE_SIZE, phases, spills };
  await writeResult('events', result);
  return result;
}
