import { describe, expect, it } from 'vitest';
import { day, restQuery, createSchemaApp } from './helpers/schema.js';

type Series = { data: { series: string[]; values: Record<string, Record<string, number>> } };

/** The gateway's segments as Mixpanel's `values` map. */
function asValues(segments: { name: string; points: { date: string; value: number }[] }[]): Record<string, Record<string, number>> {
  return Object.fromEntries(segments.map((s) => [s.name, Object.fromEntries(s.points.map((p) => [p.date, p.value]))]));
}

describe('analytics', () => {
  it('returns segmentation, event counts and property counts as typed series equal to the Query API', async () => {
    const gw = await createSchemaApp();
    const from = day(gw.emulator, -6);
    const to = day(gw.emulator);
    const on = 'properties["signup_method"]';
    const result = await gw.query(
      `query($from: Date!, $to: Date!, $on: String!) {
        seg: segmentation(event: "Sign Up", from: $from, to: $to, on: $on, unit: DAY) { __typename ... on Series { series segments { name total points { date value } } } }
        counts: eventCounts(events: ["Sign Up", "Log In"], from: $from, to: $to, type: UNIQUE) { ... on Series { series segments { name points { date value } } } }
        props: eventPropertyCounts(event: "Purchase", name: "product", from: $from, to: $to) { ... on Series { series segments { name points { date value } } } }
      }`,
      { from, to, on },
    );
    expect(result.errors).toBeUndefined();
    const seg = await restQuery<Series>(gw.emulator, 'segmentation', { event: 'Sign Up', from_date: from, to_date: to, on, unit: 'day' });
    expect(result.data!['seg'].series).toEqual(seg.data.series);
    expect(asValues(result.data!['seg'].segments)).toEqual(seg.data.values);
    for (const segment of result.data!['seg'].segments) {
      expect(segment.total).toBe(segment.points.reduce((sum: number, p: { value: number }) => sum + p.value, 0));
    }
    const counts = await restQuery<Series>(gw.emulator, 'events', { event: '["Sign Up","Log In"]', type: 'unique', unit: 'day', from_date: from, to_date: to });
    expect(asValues(result.data!['counts'].segments)).toEqual(counts.data.values);
    const props = await restQuery<Series>(gw.emulator, 'events/properties', {
      event: 'Purchase',
      name: 'product',
      type: 'general',
      unit: 'day',
      from_date: from,
      to_date: to,
    });
    expect(asValues(result.data!['props'].segments)).toEqual(props.data.values);
  });

  it('serves top events, names, property names and values, funnels, retention and insights', async () => {
    const gw = await createSchemaApp();
    const from = day(gw.emulator, -13);
    const to = day(gw.emulator);
    const result = await gw.query(
      `query($from: Date!, $to: Date!) {
        names: eventNames(limit: 5) { ... on EventNameConnection { nodes } }
        top: topEvents(limit: 3) { ... on TopEventConnection { nodes { event amount percentChange } } }
        propNames: topPropertyNames(event: "Purchase") { ... on PropertyCountConnection { nodes { name count } } }
        values: topPropertyValues(event: "Purchase", name: "product") { ... on TopPropertyValueConnection { nodes } }
        funnels { ... on FunnelSummaryConnection { nodes { id name } } }
        funnel(id: "7509", from: $from, to: $to) { __typename ... on FunnelReport { dates days { date steps { event count } startingAmount completion } } }
        retention(from: $from, to: $to, bornEvent: "Sign Up") { ... on RetentionRowConnection { nodes { date first counts } } }
        frequency: retentionFrequency(from: $from, to: $to, unit: WEEK, frequencyUnit: DAY) { ... on FrequencyRowConnection { nodes { date counts } } }
        insights(bookmarkId: "12345") { __typename ... on InsightsReport { fromDate toDate headers segments { name points { date value } } } }
      }`,
      { from, to },
    );
    expect(result.errors).toBeUndefined();
    const data = result.data!;
    // Mixpanel promises no order of names: the gateway sorts them.
    expect(data['names'].nodes).toEqual((await restQuery<string[]>(gw.emulator, 'events/names', { type: 'general', limit: 5 })).sort());
    const top = await restQuery<{ events: { event: string; amount: number; percent_change: number }[] }>(gw.emulator, 'events/top', {
      type: 'general',
      limit: 3,
    });
    expect(data['top'].nodes).toEqual(top.events.map((e) => ({ event: e.event, amount: e.amount, percentChange: e.percent_change })));
    const propNames = await restQuery<Record<string, { count: number }>>(gw.emulator, 'events/properties/top', { event: 'Purchase' });
    expect(Object.fromEntries(data['propNames'].nodes.map((p: { name: string; count: number }) => [p.name, { count: p.count }]))).toEqual(propNames);
    expect(data['values'].nodes).toEqual(await restQuery(gw.emulator, 'events/properties/values', { event: 'Purchase', name: 'product' }));
    const funnels = await restQuery<{ funnel_id: number; name: string }[]>(gw.emulator, 'funnels/list');
    expect(data['funnels'].nodes).toEqual(funnels.map((f) => ({ id: String(f.funnel_id), name: f.name })));
    const funnel = await restQuery<{
      meta: { dates: string[] };
      data: Record<string, { steps: { event: string; count: number }[]; analysis: { starting_amount: number } }>;
    }>(gw.emulator, 'funnels', { funnel_id: 7509, from_date: from, to_date: to });
    expect(data['funnel'].dates).toEqual(funnel.meta.dates);
    for (const d of data['funnel'].days) {
      expect(d.steps).toEqual(funnel.data[d.date]!.steps.map((s) => ({ event: s.event, count: s.count })));
      expect(d.startingAmount).toBe(funnel.data[d.date]!.analysis.starting_amount);
    }
    const retention = await restQuery<Record<string, { first: number; counts: number[] }>>(gw.emulator, 'retention', {
      from_date: from,
      to_date: to,
      retention_type: 'birth',
      born_event: 'Sign Up',
    });
    expect(data['retention'].nodes).toEqual(
      Object.keys(retention)
        .sort()
        .map((date) => ({ date, first: retention[date]!.first, counts: retention[date]!.counts })),
    );
    const frequency = await restQuery<{ data: Record<string, number[]> }>(gw.emulator, 'retention/addiction', {
      from_date: from,
      to_date: to,
      unit: 'week',
      addiction_unit: 'day',
    });
    expect(data['frequency'].nodes).toEqual(
      Object.keys(frequency.data)
        .sort()
        .map((date) => ({ date, counts: frequency.data[date] })),
    );
    const insights = await restQuery<{ date_range: { from_date: string; to_date: string }; headers: string[] }>(gw.emulator, 'insights', {
      bookmark_id: 12345,
    });
    expect(data['insights']).toMatchObject({
      __typename: 'InsightsReport',
      fromDate: insights.date_range.from_date,
      toDate: insights.date_range.to_date,
      headers: insights.headers,
    });
    expect(data['insights'].segments.length).toBeGreaterThan(0);
  });

  it('validates every argument before any Query call', async () => {
    const gw = await createSchemaApp();
    const today = day(gw.emulator);
    const result = await gw.query(
      `query($today: Date!, $yesterday: Date!, $tomorrow: Date!, $old: Date!) {
        reversed: segmentation(event: "Sign Up", from: $today, to: $yesterday) { ... on InvalidArgumentError { argument message } }
        future: segmentation(event: "Sign Up", from: $today, to: $tomorrow) { ... on InvalidArgumentError { argument } }
        tooLong: segmentation(event: "Sign Up", from: $old, to: $today) { ... on InvalidArgumentError { argument } }
        emptyEvent: segmentation(event: " ", from: $today, to: $today) { ... on InvalidArgumentError { argument } }
        limitWithoutOn: segmentation(event: "Sign Up", from: $today, to: $today, limit: 5) { ... on InvalidArgumentError { argument } }
        noEvents: eventCounts(events: [], from: $today, to: $today) { ... on InvalidArgumentError { argument } }
        birthWithoutBorn: retention(from: $yesterday, to: $today) { ... on InvalidArgumentError { argument } }
        badFunnel: funnel(id: "x", from: $yesterday, to: $today) { ... on InvalidArgumentError { argument } }
        numericUnit: segmentationNumeric(event: "Purchase", from: $today, to: $today, on: "properties[\\"price\\"]", unit: MONTH) { ... on InvalidArgumentError { argument } }
        unitAndInterval: segmentation(event: "Sign Up", from: $yesterday, to: $today, unit: DAY, interval: 2) { ... on InvalidArgumentError { argument } }
      }`,
      { today, yesterday: day(gw.emulator, -1), tomorrow: day(gw.emulator, 1), old: day(gw.emulator, -400) },
    );
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({
      reversed: { argument: 'from', message: expect.stringMatching(/must not be after/) },
      future: { argument: 'to' },
      tooLong: { argument: 'from' },
      emptyEvent: { argument: 'event' },
      limitWithoutOn: { argument: 'limit' },
      noEvents: { argument: 'events' },
      birthWithoutBorn: { argument: 'bornEvent' },
      badFunnel: { argument: 'id' },
      numericUnit: { argument: 'unit' },
      unitAndInterval: { argument: 'interval' },
    });
    // /segmentation's documented units have no week.
    const week = await gw.query(`{ segmentation(event: "Sign Up", from: "2024-01-01", to: "2024-01-02", unit: WEEK) { __typename } }`);
    expect(week.errors?.[0]?.message).toMatch(/WEEK/);
    const badUnit = await gw.query(`{ segmentation(event: "Sign Up", from: "2024-01-01", to: "2024-01-02", unit: FORTNIGHT) { __typename } }`);
    expect(badUnit.errors?.[0]?.message).toMatch(/FORTNIGHT/);
    expect(gw.emulator.calls('/api/query')).toBe(0);
  });

  it('answers a spent Query budget with RateLimitedError and retryAfterSeconds, while other fields still resolve', async () => {
    const gw = await createSchemaApp();
    const from = day(gw.emulator, -1);
    const to = day(gw.emulator);
    // Sixty distinct reports spend the hour's Query budget (each a different event, segmented, so none is cached
    // and none merges into another's call); a 61st in a later operation is refused. (One operation of 61 would be
    // refused whole at admission.)
    const report = (i: number) =>
      `e${i}: segmentation(event: "Event ${i}", from: "${from}", to: "${to}", on: "properties[\\"plan\\"]") { __typename ... on RateLimitedError { family retryAfterSeconds code } }`;
    const spent = await gw.query(`{ ${Array.from({ length: 60 }, (_, i) => report(i)).join('\n')} }`);
    expect(spent.errors).toBeUndefined();
    const result = await gw.query(`{ ${report(60)} project { id } }`);
    expect(result.errors).toBeUndefined();
    const limited = Object.values(result.data!).filter((v: any) => v.__typename === 'RateLimitedError') as any[];
    expect(limited).toHaveLength(1);
    expect(limited[0]).toMatchObject({ family: 'QUERY', code: 'MIXPANEL_RATE_LIMITED' });
    expect(limited[0].retryAfterSeconds).toBeGreaterThan(0);
    expect(result.data!['project'].id).toBe('1000001');
    expect(gw.emulator.calls('/api/query/segmentation')).toBeLessThanOrEqual(60);
  });
});
