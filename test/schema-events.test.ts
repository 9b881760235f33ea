import { describe, expect, it } from 'vitest';
import type { GraphQLResponse } from './helpers/gateway.js';
import { day, createSchemaApp, restExport } from './helpers/schema.js';

const EVENTS_PAGE = `
  query Events($from: Date!, $to: Date!, $names: [String!], $where: String, $first: Int, $after: String) {
    events(from: $from, to: $to, names: $names, where: $where, first: $first, after: $after) {
      __typename
      ... on EventConnection { pageInfo { hasNextPage endCursor } edges { node { __typename name time distinctId insertId properties } } }
      ... on Error { message code }
      ... on InvalidArgumentError { argument }
    }
  }`;

/** Export records oldest first, ties broken by $insert_id: the order the gateway pages in. */
function byTime<T extends { properties: Record<string, unknown> }>(records: T[]): T[] {
  const key = (r: T): [number, string] => [Number(r.properties['time']), String(r.properties['$insert_id'] ?? '')];
  return [...records].sort((a, b) => {
    const [ta, ia] = key(a);
    const [tb, ib] = key(b);
    return ta - tb || (ia < ib ? -1 : ia > ib ? 1 : 0);
  });
}

type EventNode = { name: string; time: string; distinctId: string | null; insertId: string | null; properties: Record<string, unknown> };

describe('events', () => {
  it('pages through the range oldest first, and the pages join into what export returns', async () => {
    const gw = await createSchemaApp();
    const from = day(gw.emulator, -2);
    const to = day(gw.emulator);
    const expected = byTime(await restExport(gw.emulator, { from_date: from, to_date: to }));
    gw.emulator.resetCalls();
    const seen: EventNode[] = [];
    let after: string | null = null;
    for (let page = 0; page < 3; page += 1) {
      const result: GraphQLResponse = await gw.query(EVENTS_PAGE, { from, to, first: 80, after });
      const connection = result.data!['events'];
      expect(connection.__typename).toBe('EventConnection');
      seen.push(...connection.edges.map((e: { node: EventNode }) => e.node));
      expect(connection.pageInfo.hasNextPage).toBe(true);
      after = connection.pageInfo.endCursor;
    }
    expect(seen.map((e) => [e.name, e.insertId, e.distinctId])).toEqual(
      expected.slice(0, 240).map((e) => [e.event, e.properties['$insert_id'], e.properties['distinct_id']]),
    );
    expect(seen.every((e) => e.properties['$insert_id'] === e.insertId)).toBe(true);
    // The range is read once; every page is cut from that read.
    expect(gw.emulator.calls('/api/2.0/export')).toBe(1);
  });

  it('filters by names and where like export does, with an empty page when nothing matches', async () => {
    const gw = await createSchemaApp();
    const from = day(gw.emulator, -6);
    const to = day(gw.emulator);
    const names = ['Purchase', 'Refund'];
    const result = await gw.query(EVENTS_PAGE, { from, to, names, first: 1000 });
    const expected = byTime(await restExport(gw.emulator, { from_date: from, to_date: to, event: JSON.stringify(names) }));
    expect(result.data!['events'].edges.map((e: { node: EventNode }) => e.node.insertId)).toEqual(
      expected.slice(0, 1000).map((e) => e.properties['$insert_id']),
    );
    expect(expected.length).toBeGreaterThan(0);

    const where = 'properties["price"] > 100';
    const filtered = await gw.query(EVENTS_PAGE, { from, to, names: ['Purchase'], where, first: 1000 });
    const expectedFiltered = byTime(await restExport(gw.emulator, { from_date: from, to_date: to, event: '["Purchase"]', where }));
    expect(filtered.data!['events'].edges.map((e: { node: EventNode }) => e.node.insertId)).toEqual(
      expectedFiltered.slice(0, 1000).map((e) => e.properties['$insert_id']),
    );

    const none = await gw.query(EVENTS_PAGE, { from, to, names: ['No Such Event'] });
    expect(none.data!['events']).toMatchObject({ __typename: 'EventConnection', edges: [], pageInfo: { hasNextPage: false, endCursor: null } });
  });

  it('refuses bad ranges and arguments before any export call', async () => {
    const gw = await createSchemaApp();
    const today = day(gw.emulator);
    const cases: [Record<string, unknown>, string][] = [
      [{ from: today, to: day(gw.emulator, -1) }, 'from'],
      [{ from: day(gw.emulator, -400), to: today }, 'from'],
      [{ from: today, to: day(gw.emulator, 2) }, 'to'],
      [{ from: today, to: today, names: [] }, 'names'],
      [{ from: today, to: today, names: [' '] }, 'names'],
      [{ from: today, to: today, first: 5000 }, 'first'],
      [{ from: today, to: today, after: 'eyJ0IjoicHJvZmlsZXMiLCJwIjowLCJpIjowfQ' }, 'after'],
    ];
    for (const [variables, argument] of cases) {
      const result = await gw.query(EVENTS_PAGE, variables);
      expect(result.data!['events']).toMatchObject({ __typename: 'InvalidArgumentError', argument });
    }
    const badFormat = await gw.query(EVENTS_PAGE, { from: '2024-02-30', to: today });
    expect(badFormat.errors?.[0]?.message).toMatch(/real calendar day/);
    expect(gw.emulator.calls('/api/2.0/export')).toBe(0);
  });

  it('resolves each event’s profile and definition with one engage and one Lexicon call for the page', async () => {
    const gw = await createSchemaApp();
    const result = await gw.query(
      `query($from: Date!, $to: Date!) { events(from: $from, to: $to, first: 100) { ... on EventConnection { edges { node {
        name distinctId profile { distinctId } definition { name } propertyValues { name definition { name } }
      } } } } }`,
      { from: day(gw.emulator, -1), to: day(gw.emulator) },
    );
    expect(result.errors).toBeUndefined();
    const nodes = result.data!['events'].edges.map((e: { node: unknown }) => e.node) as {
      name: string;
      distinctId: string;
      profile: { distinctId: string } | null;
      definition: { name: string } | null;
    }[];
    expect(nodes).toHaveLength(100);
    expect(new Set(nodes.map((n) => n.distinctId)).size).toBeGreaterThan(1);
    for (const node of nodes) {
      expect(node.profile?.distinctId).toBe(node.distinctId);
      if (node.definition) expect(node.definition.name).toBe(node.name);
    }
    expect(nodes.some((n) => n.definition !== null)).toBe(true);
    expect(gw.emulator.calls('/api/query/engage')).toBe(1);
    expect(gw.emulator.calls('/api/app/projects/1000001/schemas')).toBe(1);
  });
});
