/**
 * A project behind UTC (America/Los_Angeles in January: UTC−8): Mixpanel
 * reads Query API dates and cuts buckets in the project's timezone, and the
 * gateway's "today" follows it.
 */
import { describe, expect, it } from 'vitest';
import { createEmulator, createManualClock, DEMO_PROJECT, DEMO_PROJECT_OPTIONS } from '../src/emulator/server.js';
import { createTestApp } from './helpers/app.js';
import { AUTH } from './helpers/emulator.js';

const ZONE = 'America/Los_Angeles';
/** 2025-01-15 23:30 UTC = 15:30 in Los Angeles, same day. */
const AT = Date.UTC(2025, 0, 15, 23, 30);

async function importEvents(url: string, events: { event: string; time: number; id: string }[]): Promise<void> {
  const body = events.map((e) => ({ event: e.event, properties: { time: e.time, distinct_id: 'tz-user', $insert_id: e.id } }));
  const response = await fetch(`${url}/import?strict=1&project_id=${DEMO_PROJECT.projectId}`, {
    method: 'POST',
    headers: { authorization: AUTH, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(response.status).toBe(200);
}

const SEGMENTATION = `query($from: Date!, $to: Date!, $unit: SegmentationUnit) {
  segmentation(event: "Probe", from: $from, to: $to, unit: $unit) {
    __typename
    ... on Series { series segments { name points { date value } } }
    ... on InvalidArgumentError { argument message }
  }
}`;

describe('project timezone', () => {
  it('asked at 23:30 UTC for today in a UTC−8 project: local buckets, local today', async () => {
    const clock = createManualClock(AT);
    const emulator = await createEmulator({ size: 'small', clock, projects: [{ ...DEMO_PROJECT_OPTIONS, timezone: ZONE }] });
    const gw = await createTestApp({ emulator, env: { MIXPANEL_TIMEZONE: ZONE }, gatewayOptions: { now: () => clock.now() } });
    try {
      await importEvents(emulator.url, [
        { event: 'Probe', time: Date.UTC(2025, 0, 15, 7, 30) / 1000, id: 'probe-local-14th' }, // 2025-01-14 23:30 local
        { event: 'Probe', time: Date.UTC(2025, 0, 15, 8, 30) / 1000, id: 'probe-local-00h' }, // 2025-01-15 00:30 local
        { event: 'Probe', time: Date.UTC(2025, 0, 15, 23, 0) / 1000, id: 'probe-local-15h' }, // 2025-01-15 15:00 local
      ]);
      const hours = await gw.query(SEGMENTATION, { from: '2025-01-15', to: '2025-01-15', unit: 'HOUR' });
      expect(hours.errors).toBeUndefined();
      const hourly = hours.data!['segmentation'];
      expect(hourly.series).toHaveLength(24);
      expect(hourly.series[0]).toBe('2025-01-15 00:00:00');
      const counted = Object.fromEntries(
        hourly.segments[0].points.filter((p: { value: number }) => p.value > 0).map((p: { date: string; value: number }) => [p.date, p.value]),
      );
      expect(counted).toEqual({ '2025-01-15 00:00:00': 1, '2025-01-15 15:00:00': 1 });

      const days = await gw.query(SEGMENTATION, { from: '2025-01-14', to: '2025-01-15', unit: 'DAY' });
      const daily = days.data!['segmentation'];
      expect(daily.series).toEqual(['2025-01-14', '2025-01-15']);
      expect(daily.segments[0].points).toEqual([
        { date: '2025-01-14', value: 1 },
        { date: '2025-01-15', value: 2 },
      ]);

      // Three hours later it is 02:30 UTC on the 16th, still the 15th in the project: the 16th is not "today" yet.
      clock.set(AT + 3 * 3_600_000);
      const calls = emulator.calls('/api/query');
      const early = await gw.query(SEGMENTATION, { from: '2025-01-15', to: '2025-01-16' });
      expect(early.data!['segmentation']).toMatchObject({ __typename: 'InvalidArgumentError', argument: 'to', message: expect.stringContaining(ZONE) });
      expect(emulator.calls('/api/query')).toBe(calls);
      // And Mixpanel agrees: the emulator refuses it too.
      const direct = await fetch(
        `${emulator.url}/api/query/segmentation?project_id=${DEMO_PROJECT.projectId}&event=Probe&from_date=2025-01-15&to_date=2025-01-16`,
        {
          headers: { authorization: AUTH },
        },
      );
      expect(await direct.json()).toMatchObject({ error: 'to_date cannot be later than today' });
      const today = await gw.query(SEGMENTATION, { from: '2025-01-15', to: '2025-01-15' });
      expect(today.data!['segmentation'].segments[0].points).toEqual([{ date: '2025-01-15', value: 2 }]);
    } finally {
      await gw.close();
      await emulator.close();
    }
  });

  it('splits days into buckets of `interval` days counted from `from`', async () => {
    const clock = createManualClock(AT);
    const emulator = await createEmulator({ size: 'small', clock, projects: [{ ...DEMO_PROJECT_OPTIONS, timezone: ZONE }] });
    const gw = await createTestApp({ emulator, env: { MIXPANEL_TIMEZONE: ZONE }, gatewayOptions: { now: () => clock.now() } });
    try {
      await importEvents(emulator.url, [
        { event: 'Probe', time: Date.UTC(2025, 0, 10, 12) / 1000, id: 'probe-10' },
        { event: 'Probe', time: Date.UTC(2025, 0, 12, 12) / 1000, id: 'probe-12' },
        { event: 'Probe', time: Date.UTC(2025, 0, 14, 12) / 1000, id: 'probe-14' },
      ]);
      const result = await gw.query(
        `{ segmentation(event: "Probe", from: "2025-01-10", to: "2025-01-15", interval: 3) { ... on Series { series segments { points { date value } } } } }`,
      );
      expect(result.errors).toBeUndefined();
      expect(result.data!['segmentation'].series).toEqual(['2025-01-10', '2025-01-13']);
      expect(result.data!['segmentation'].segments[0].points).toEqual([
        { date: '2025-01-10', value: 2 },
        { date: '2025-01-13', value: 1 },
      ]);
    } finally {
      await gw.close();
      await emulator.close();
    }
  });
});
