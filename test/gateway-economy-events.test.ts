/**
 * Charts of one range over HTTP against the emulator: plain segmentations
 * and eventCounts of every request merge into one /events call over the list
 * of events (counted in the emulator's call log), split back per event into
 * the answer /segmentation gives, cached per event; segmented or filtered
 * charts keep their own /segmentation call; a waiter's cancellation stays its
 * own; a merged call keeps within its per-call cap of events.
 */
import { describe, expect, it } from 'vitest';
import type { CallLogEntry, Emulator } from '../src/emulator/server.js';
import { EVENTS_MAX_PER_CALL } from '../src/upstream/endpoints.js';
import { createTestApp } from './helpers/app.js';
import { startGateway, type GatewayUnderTest } from './helpers/gateway.js';
import { day, restQuery } from './helpers/schema.js';

/**
 * A merge window wide enough for a loaded test machine to deliver every request of a burst inside it, a
 * deadline long enough to hold it that long; the emulator's own limits lifted so the tests' direct REST calls
 * do not eat what the gateway accounts for (the gateway keeps Mixpanel's documented limits itself).
 */
const BURST = {
  env: { COALESCE_WINDOW_MS: '2000', COALESCE_MAX_WAIT_MS: '20000', REQUEST_DEADLINE_MS: '60000' },
  emulatorOptions: { size: 'small', limits: { query: { perHour: 100_000, concurrent: 100 } } },
} as const;

type Series = { data: { series: string[]; values: Record<string, Record<string, number>> } };
type Segment = { name: string; points: { date: string; value: number }[] };

const CHART = /* GraphQL */ `query Chart($event: String!, $from: Date!, $to: Date!, $type: CountType, $unit: SegmentationUnit, $on: String, $where: String) {
  segmentation(event: $event, from: $from, to: $to, type: $type, unit: $unit, on: $on, where: $where) {
    __typename
    ... on Series { series segments { name points { date value } } }
    ... on Error { code message }
  }
}`;

const eventsCalls = (emulator: Emulator): CallLogEntry[] => emulator.callLog.filter((entry) => entry.path.endsWith('/events'));
const segmentationCalls = (emulator: Emulator): CallLogEntry[] => emulator.callLog.filter((entry) => entry.path.endsWith('/segmentation'));
const namesOf = (entry: CallLogEntry): string[] => JSON.parse(entry.params['event'] ?? '[]') as string[];

function eventNames(gw: GatewayUnderTest): string[] {
  return [...new Set(gw.emulator.data().events.map((event) => event.event))].sort();
}

/** The gateway's segments as Mixpanel's `values` map. */
const asValues = (segments: readonly Segment[]): Record<string, Record<string, number>> =>
  Object.fromEntries(segments.map((s) => [s.name, Object.fromEntries(s.points.map((p) => [p.date, p.value]))]));

describe('charts merged into /events calls', () => {
  it('answers 40 concurrent charts of 40 events over one range with one /events call, each equal to its /segmentation answer; a later chart of one costs nothing', async () => {
    const gw = await createTestApp(BURST);
    const names = eventNames(gw);
    expect(names.length).toBeGreaterThanOrEqual(40);
    const charted = names.slice(0, 40);
    const range = { from: day(gw.emulator, -13), to: day(gw.emulator, -1) };
    const answers = await Promise.all(charted.map((event) => gw.query(CHART, { event, ...range })));
    expect(eventsCalls(gw.emulator)).toHaveLength(1);
    expect(segmentationCalls(gw.emulator)).toHaveLength(0);
    expect(namesOf(eventsCalls(gw.emulator)[0]!)).toEqual(expect.arrayContaining(charted));
    // One request opened the call; every other one joined it.
    expect(answers.filter((answer) => answer.extensions!['mixpanel'].upstreamCalls === 1)).toHaveLength(1);

    for (const [k, answer] of answers.entries()) {
      expect(answer.errors).toBeUndefined();
      const chart = answer.data!['segmentation'];
      expect(chart.__typename).toBe('Series');
      const direct = await restQuery<Series>(gw.emulator, 'segmentation', { event: charted[k]!, from_date: range.from, to_date: range.to });
      expect(chart.series).toEqual(direct.data.series);
      expect(asValues(chart.segments)).toEqual(direct.data.values);
    }

    const later = await gw.query(CHART, { event: charted[7]!, ...range });
    expect(later.data!['segmentation']).toEqual(answers[7]!.data!['segmentation']);
    const counts = await gw.query(
      `query($events: [String!]!, $from: Date!, $to: Date!) { eventCounts(events: $events, from: $from, to: $to) { __typename ... on Series { segments { name } } } }`,
      { events: charted.slice(10, 13), ...range },
    );
    expect(counts.data!['eventCounts'].segments.map((s: Segment) => s.name)).toEqual(charted.slice(10, 13));
    expect(eventsCalls(gw.emulator)).toHaveLength(1);
    expect(later.extensions!['mixpanel'].upstreamCalls).toBe(0);
    expect(counts.extensions!['mixpanel'].upstreamCalls).toBe(0);

    // The merged batch is in the metrics, under its endpoint.
    const metrics = await (await gw.fetch('/metrics')).text();
    expect(metrics).toMatch(/gateway_merged_batch_ids_count\{[^}]*endpoint="events"[^}]*\} 1\n/);
    expect(metrics).toMatch(/gateway_merged_batch_ids_sum\{[^}]*endpoint="events"[^}]*\} 40\n/);
    expect(metrics).toMatch(/gateway_merged_batch_requests_sum\{[^}]*endpoint="events"[^}]*\} 40\n/);
  });

  it('reads the documented events along: a chart of one nobody asked for yet costs nothing', async () => {
    const gw = await createTestApp(BURST);
    // The gateway reads Lexicon at start, on its own budget.
    const documented = [...gw.emulator.data().lexicon.keys()].filter((key) => key.startsWith('event:')).map((key) => key.slice('event:'.length));
    expect(documented.length).toBeGreaterThan(1);
    const range = { from: day(gw.emulator, -6), to: day(gw.emulator, -1) };
    const first = await gw.query(CHART, { event: documented[0]!, ...range });
    expect(first.data!['segmentation'].__typename).toBe('Series');
    expect(eventsCalls(gw.emulator)).toHaveLength(1);
    expect(namesOf(eventsCalls(gw.emulator)[0]!).sort()).toEqual([...documented].sort().slice(0, EVENTS_MAX_PER_CALL));
    const other = await gw.query(CHART, { event: documented.at(-1)!, ...range });
    const direct = await restQuery<Series>(gw.emulator, 'segmentation', { event: documented.at(-1)!, from_date: range.from, to_date: range.to });
    expect(asValues(other.data!['segmentation'].segments)).toEqual(direct.data.values);
    expect(other.extensions!['mixpanel'].upstreamCalls).toBe(0);
    expect(eventsCalls(gw.emulator)).toHaveLength(1);
  });

  it('answers unique and average counts, by month and by hour, equal to /segmentation', async () => {
    const gw = await createTestApp(BURST);
    const range = { from: day(gw.emulator, -40), to: day(gw.emulator, -1) };
    const hours = { from: day(gw.emulator, -2), to: day(gw.emulator, -1) };
    const cases = [
      { event: 'Log In', type: 'UNIQUE', unit: 'MONTH', ...range },
      { event: 'Purchase', type: 'AVERAGE', unit: 'DAY', ...range },
      { event: 'Sign Up', type: 'AVERAGE', unit: 'HOUR', ...hours },
      { event: 'View Page', type: 'GENERAL', unit: 'HOUR', ...hours },
    ];
    const answers = await Promise.all(cases.map((variables) => gw.query(CHART, variables)));
    expect(segmentationCalls(gw.emulator)).toHaveLength(0);
    // One call per (type, unit, range).
    expect(eventsCalls(gw.emulator)).toHaveLength(4);
    for (const [k, answer] of answers.entries()) {
      const c = cases[k]!;
      const direct = await restQuery<Series>(gw.emulator, 'segmentation', {
        event: c.event,
        from_date: c.from,
        to_date: c.to,
        type: c.type.toLowerCase(),
        unit: c.unit.toLowerCase(),
      });
      expect(answer.data!['segmentation'].series).toEqual(direct.data.series);
      expect(asValues(answer.data!['segmentation'].segments)).toEqual(direct.data.values);
    }
  });

  it('keeps segmented, filtered and hourly-unique charts on /segmentation', async () => {
    const gw = await createTestApp(BURST);
    const range = { from: day(gw.emulator, -6), to: day(gw.emulator, -1) };
    const answers = await Promise.all([
      gw.query(CHART, { event: 'Purchase', on: 'properties["product"]', ...range }),
      gw.query(CHART, { event: 'Purchase', where: 'properties["product"] == "Pro"', ...range }),
      // /events cannot count hourly uniques (https://developer.mixpanel.com/reference/events).
      gw.query(CHART, { event: 'Purchase', type: 'UNIQUE', unit: 'HOUR', ...range }),
      gw.query(CHART, { event: 'Purchase', ...range }),
    ]);
    for (const answer of answers) expect(answer.data!['segmentation'].__typename).toBe('Series');
    expect(segmentationCalls(gw.emulator)).toHaveLength(3);
    expect(segmentationCalls(gw.emulator).map((entry) => entry.params['on'] ?? entry.params['where'] ?? entry.params['unit'])).toEqual(
      expect.arrayContaining(['properties["product"]', 'properties["product"] == "Pro"', 'hour']),
    );
    expect(eventsCalls(gw.emulator)).toHaveLength(1);
    expect(namesOf(eventsCalls(gw.emulator)[0]!)).toContain('Purchase');
  });

  it('keeps a shared /events call running when the client that opened it goes away', async () => {
    const gw = await startGateway({ ...BURST, emulatorOptions: { ...BURST.emulatorOptions, latencyMs: 400 } });
    const range = { from: day(gw.emulator, -6), to: day(gw.emulator, -1) };
    const controller = new AbortController();
    const leaving = fetch(gw.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: CHART, variables: { event: 'Log In', ...range } }),
      signal: controller.signal,
    }).catch((error: unknown) => error);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const staying = gw.query(CHART, { event: 'Sign Up', ...range });
    // Leave once the merged call has been sent.
    while (eventsCalls(gw.emulator).length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    controller.abort();
    expect(await leaving).toBeInstanceOf(Error);
    const answer = await staying;
    expect(answer.errors).toBeUndefined();
    expect(answer.data!['segmentation'].segments.map((s: Segment) => s.name)).toEqual(['Sign Up']);
    const calls = eventsCalls(gw.emulator);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.status).toBe(200);
    expect(namesOf(calls[0]!)).toEqual(expect.arrayContaining(['Log In', 'Sign Up']));
    // What the call brought for the client that left is cached: its chart now costs nothing.
    const after = await gw.query(CHART, { event: 'Log In', ...range });
    expect(after.data!['segmentation'].__typename).toBe('Series');
    expect(eventsCalls(gw.emulator)).toHaveLength(1);
  });

  it(`sends at most ${EVENTS_MAX_PER_CALL} events per /events call, and an event without data comes back as zeros`, async () => {
    const gw = await createTestApp(BURST);
    const range = { from: day(gw.emulator, -6), to: day(gw.emulator, -1) };
    const names = [...eventNames(gw).slice(0, 40), ...Array.from({ length: 90 }, (_, k) => `Never Sent ${k}`)];
    const answers = await Promise.all(names.map((event) => gw.query(CHART, { event, ...range })));
    const calls = eventsCalls(gw.emulator);
    expect(calls).toHaveLength(2);
    for (const call of calls) expect(namesOf(call).length).toBeLessThanOrEqual(EVENTS_MAX_PER_CALL);
    // Every event once: none is read along twice.
    expect(calls.flatMap(namesOf).sort()).toEqual([...names].sort());
    for (const [k, answer] of answers.entries()) {
      const chart = answer.data!['segmentation'];
      expect(chart.__typename).toBe('Series');
      expect(chart.segments.map((s: Segment) => s.name)).toEqual([names[k]]);
      expect(chart.segments[0].points).toHaveLength(chart.series.length);
    }
    const never = answers[names.indexOf('Never Sent 3')]!.data!['segmentation'];
    expect(never.series).toHaveLength(6);
    expect(never.segments[0].points.every((p: { value: number }) => p.value === 0)).toBe(true);
  });
});
