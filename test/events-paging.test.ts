/**
 * `events(...)` over an export whose order changes on every call: each
 * (range, filter) is read once and every event comes back exactly once,
 * oldest first, whatever order Mixpanel used.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createEmulator, DEMO_PROJECT, type Emulator } from '../src/emulator/server.js';
import { spillEvents, type EventPosition } from '../src/events/spill.js';
import type { ExportedEvent } from '../src/mixpanel/types.js';
import { AUTH } from './helpers/emulator.js';
import { createTestApp } from './helpers/app.js';
import type { GraphQLResponse } from './helpers/gateway.js';
import { restExport } from './helpers/schema.js';

const PAGE = `query($from: Date!, $to: Date!, $first: Int, $after: String) {
  events(from: $from, to: $to, first: $first, after: $after) {
    __typename
    ... on EventConnection { pageInfo { hasNextPage endCursor } edges { node { name time insertId distinctId properties } } }
    ... on Error { message code }
  }
}`;

type Node = { name: string; time: string; insertId: string | null; distinctId: string; properties: Record<string, unknown> };

const dayOf = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
/** 2,500 events over the last 5 days: the whole range fits from `day(-5)` to today. */
const SIZE = { profiles: 200, events: 2_500, days: 5, groups: 5 };
const LIMITS = { export: { perSecond: 1_000, perHour: 10_000 } };

/** One record's identity, duplicates included (identical records count twice). */
const identity = (name: string, properties: Record<string, unknown>): string => {
  const time = Number(properties['time']);
  // The gateway asks for ms; a plain export answers seconds.
  return JSON.stringify([name, time > 1e11 ? time / 1000 : time, properties['$insert_id'] ?? null, properties['distinct_id'], properties['n'] ?? null]);
};

async function pageAll(gw: Awaited<ReturnType<typeof createTestApp>>, from: string, to: string, first: number): Promise<{ nodes: Node[]; pages: number }> {
  const nodes: Node[] = [];
  let after: string | null = null;
  let pages = 0;
  for (;;) {
    const result: GraphQLResponse = await gw.query(PAGE, { from, to, first, after });
    expect(result.errors).toBeUndefined();
    const connection = result.data!['events'];
    expect(connection.__typename).toBe('EventConnection');
    nodes.push(...connection.edges.map((e: { node: Node }) => e.node));
    pages += 1;
    if (!connection.pageInfo.hasNextPage) return { nodes, pages };
    after = connection.pageInfo.endCursor;
  }
}

/** Adds records that tie on time: same second with other ids, and two identical records without $insert_id. */
async function addTies(emulator: Emulator): Promise<number> {
  const time = Math.floor(emulator.clock.now() / 1000) - 3_600;
  const records = [
    { event: 'Tie', properties: { time, distinct_id: 'tie-user', $insert_id: 'tie-b' } },
    { event: 'Tie', properties: { time, distinct_id: 'tie-user', $insert_id: 'tie-a' } },
    { event: 'Twin', properties: { time, distinct_id: 'tie-user', n: 7 } },
    { event: 'Twin', properties: { time, distinct_id: 'tie-user', n: 7 } },
  ];
  // Non-strict, as the official clients send it: records without $insert_id are kept, and not deduplicated.
  const response = await fetch(`${emulator.url}/import?project_id=${DEMO_PROJECT.projectId}`, {
    method: 'POST',
    headers: { authorization: AUTH, 'content-type': 'application/json' },
    body: JSON.stringify(records),
  });
  expect(await response.text()).toBe('1');
  return records.length;
}

describe('events paging over an unordered export', () => {
  it('returns every one of 2,500+ events exactly once, 100 a page, from one export call', async () => {
    const emulator = await createEmulator({ size: SIZE, limits: LIMITS });
    const gw = await createTestApp({ emulator });
    try {
      const added = await addTies(emulator);
      const from = dayOf(emulator.clock.now() - 5 * 86_400_000);
      const to = dayOf(emulator.clock.now());
      // Mixpanel's order differs between calls: the premise of the test.
      const first = await restExport(emulator, { from_date: from, to_date: to });
      const second = await restExport(emulator, { from_date: from, to_date: to });
      expect(first).toHaveLength(2_500 + added);
      expect(second.map((r) => identity(r.event, r.properties))).not.toEqual(first.map((r) => identity(r.event, r.properties)));
      emulator.resetCalls();

      const { nodes, pages } = await pageAll(gw, from, to, 100);
      expect(pages).toBe(26);
      expect(nodes.map((n) => identity(n.name, n.properties)).sort()).toEqual(first.map((r) => identity(r.event, r.properties)).sort());
      // Oldest first, ties by $insert_id.
      const times = nodes.map((n) => Date.parse(n.time));
      expect([...times].sort((a, b) => a - b)).toEqual(times);
      const ties = nodes.filter((n) => n.name === 'Tie').map((n) => n.insertId);
      expect(ties).toEqual(['tie-a', 'tie-b']);
      expect(nodes.filter((n) => n.name === 'Twin')).toHaveLength(2);
      expect(emulator.calls('/api/2.0/export')).toBe(1);
    } finally {
      await gw.close();
      await emulator.close();
    }
  });

  it('keeps cursors exact when every page is a new read in a new order', async () => {
    const emulator = await createEmulator({ size: SIZE, limits: LIMITS });
    // A zero TTL: no read is kept, so each page reads the range again (and Mixpanel reorders it).
    const gw = await createTestApp({ emulator, env: { CACHE_TTL_EVENTS_MS: '0' } });
    try {
      await addTies(emulator);
      const from = dayOf(emulator.clock.now() - 86_400_000);
      const to = dayOf(emulator.clock.now());
      const expected = await restExport(emulator, { from_date: from, to_date: to });
      emulator.resetCalls();
      const { nodes, pages } = await pageAll(gw, from, to, 75);
      expect(nodes.map((n) => identity(n.name, n.properties)).sort()).toEqual(expected.map((r) => identity(r.event, r.properties)).sort());
      expect(emulator.calls('/api/2.0/export')).toBe(pages);
    } finally {
      await gw.close();
      await emulator.close();
    }
  });

  it('shares one read between concurrent first pages, and refuses a cursor of another range', async () => {
    const emulator = await createEmulator({ size: SIZE, limits: LIMITS });
    const gw = await createTestApp({ emulator });
    try {
      const from = dayOf(emulator.clock.now() - 2 * 86_400_000);
      const to = dayOf(emulator.clock.now());
      const results = await Promise.all([1, 2, 3, 4].map(() => gw.query(PAGE, { from, to, first: 10 })));
      const firstIds = results.map((r) => r.data!['events'].edges.map((e: { node: Node }) => e.node.insertId));
      expect(new Set(firstIds.map((ids) => JSON.stringify(ids))).size).toBe(1);
      expect(emulator.calls('/api/2.0/export')).toBe(1);
      const cursor = results[0]!.data!['events'].pageInfo.endCursor as string;
      const other = await gw.query(PAGE, { from: to, to, first: 10, after: cursor });
      expect(other.data!['events']).toMatchObject({ __typename: 'InvalidArgumentError' });
      expect(emulator.calls('/api/2.0/export')).toBe(1);
    } finally {
      await gw.close();
      await emulator.close();
    }
  });
});

describe('spilled reads', () => {
  it('sorts many runs on disk and pages them exactly, duplicates included, then removes its files', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'spill-test-'));
    try {
      const records: ExportedEvent[] = [];
      for (let i = 0; i < 3_000; i++)
        records.push({ event: 'E', properties: { time: 1_700_000_000_000 + (i % 97) * 1000, $insert_id: `id-${i % 1_500}`, distinct_id: 'u' } });
      // Shuffled, as Mixpanel sends them; every record appears twice (ids repeat with the same time: i and i+1500 share i % 97 only sometimes).
      const shuffled = [...records].sort(() => Math.random() - 0.5);
      async function* source(): AsyncGenerator<ExportedEvent> {
        yield* shuffled;
      }
      // Tiny runs: the merge of ~100 runs is exercised.
      const read = await spillEvents(source(), { dir: join(dir, 'read'), maxBytes: 64 * 1024 * 1024, runBytes: 4 * 1024 });
      expect(read.count).toBe(3_000);
      const seen: ExportedEvent[] = [];
      let after: EventPosition | undefined;
      for (;;) {
        const page = await read.page(after, 7);
        seen.push(...page.map((e) => e.record));
        if (page.length < 7) break;
        after = page.at(-1)!.position;
      }
      const key = (r: ExportedEvent): string => `${String(r.properties.time).padStart(16, '0')} ${r.properties.$insert_id}`;
      expect(seen.map(key)).toEqual(records.map(key).sort());
      expect(await readdir(join(dir, 'read'))).toEqual(['events.tsv']);
      await read.remove();
      expect(await readdir(dir)).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('fails a read past its byte bound and leaves no file behind', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'spill-test-'));
    try {
      async function* source(): AsyncGenerator<ExportedEvent> {
        for (let i = 0; i < 1_000; i++) yield { event: 'E', properties: { time: i, $insert_id: `id-${i}` } };
      }
      await expect(spillEvents(source(), { dir: join(dir, 'read'), maxBytes: 10_000 })).rejects.toThrow(/exceeds 10000 bytes/);
      expect(await readdir(dir)).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
