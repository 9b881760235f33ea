/**
 * The emulator answers as Mixpanel documents, and promises nothing more:
 * legacy /import answers, segmentation's enums and `interval`, and/or typing,
 * timezones of Query and export dates.
 */
import { describe, expect, it } from 'vitest';
import { DEMO_PROJECT_OPTIONS } from '../src/emulator/server.js';
import { AUTH, NOW, PID, startEmulator } from './helpers/emulator.js';

const TODAY = new Date(NOW).toISOString().slice(0, 10);

async function get(url: string): Promise<{ status: number; text: string }> {
  const response = await fetch(url, { headers: { authorization: AUTH } });
  return { status: response.status, text: await response.text() };
}

describe('emulator fidelity', () => {
  it('answers non-strict /import with 1/0 (verbose JSON with verbose=1), strict with its JSON body, and takes GET /import', async () => {
    const emulator = await startEmulator();
    const event = (id?: string) => ({
      event: 'Legacy',
      properties: { time: Math.floor(NOW / 1000) - 60, distinct_id: 'u-1', ...(id ? { $insert_id: id } : {}) },
    });
    const post = async (query: string, body: unknown) => {
      const response = await fetch(`${emulator.url}/import?project_id=${PID}${query}`, {
        method: 'POST',
        headers: { authorization: AUTH, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: response.status, text: await response.text() };
    };
    expect(await post('', [event()])).toEqual({ status: 200, text: '1' });
    expect(await post('&verbose=1', [event('v-1')])).toEqual({ status: 200, text: JSON.stringify({ error: null, status: 1 }) });
    expect(await post('', [{ event: 'Legacy', properties: { distinct_id: 'u-1' } }])).toEqual({ status: 200, text: '0' });
    // Strict mode requires $insert_id and keeps its JSON answer.
    const strict = await post('&strict=1', [event()]);
    expect(strict.status).toBe(400);
    expect(JSON.parse(strict.text)).toMatchObject({ num_records_imported: 0, failed_records: [{ field: 'properties.$insert_id' }] });
    expect(JSON.parse((await post('&strict=1', [event('s-1')])).text)).toEqual({ code: 200, num_records_imported: 1, status: 'OK' });

    const data = Buffer.from(JSON.stringify(event('g-1'))).toString('base64');
    expect(await get(`${emulator.url}/import?project_id=${PID}&data=${encodeURIComponent(data)}`)).toEqual({ status: 200, text: '1' });
    const legacy = emulator.data().events.filter((e) => e.event === 'Legacy');
    expect(legacy.map((e) => e.insertId ?? null).sort()).toEqual([null, 'g-1', 's-1', 'v-1'].sort());
  });

  it('refuses unit=week on /segmentation (not in its enum), and buckets `interval` days from from_date', async () => {
    const emulator = await startEmulator();
    const base = `${emulator.url}/api/query/segmentation?project_id=${PID}&event=Log%20In&from_date=2025-05-10&to_date=${TODAY}`;
    expect((await get(`${base}&unit=week`)).status).toBe(400);
    const buckets = JSON.parse((await get(`${base}&interval=2`)).text) as { data: { series: string[]; values: Record<string, Record<string, number>> } };
    expect(buckets.data.series).toEqual(['2025-05-10', '2025-05-12', '2025-05-14']);
    const daily = JSON.parse((await get(base)).text) as { data: { values: Record<string, Record<string, number>> } };
    const perDay = daily.data.values['Log In']!;
    expect(buckets.data.values['Log In']!['2025-05-12']).toBe((perDay['2025-05-12'] ?? 0) + (perDay['2025-05-13'] ?? 0));
  });

  it('fails `and`/`or` over a non-boolean operand, as the expression docs say, and keeps undefined as false', async () => {
    const emulator = await startEmulator();
    const url = (where: string) =>
      `${emulator.url}/api/query/segmentation?project_id=${PID}&event=Purchase&from_date=2025-05-14&to_date=${TODAY}` + `&where=${encodeURIComponent(where)}`;
    const bad = await get(url('properties["price"] and true'));
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.text).error).toMatch(/boolean/);
    expect((await get(url('properties["missing"] or properties["price"] > 0'))).status).toBe(200);
    const exported = await get(
      `${emulator.url}/api/2.0/export?project_id=${PID}&from_date=2025-05-14&to_date=${TODAY}` +
        `&where=${encodeURIComponent('properties["$browser"] or true')}`,
    );
    expect(exported.status).toBe(400);
  });

  it('reads Query dates in the project timezone, and export dates in UTC unless the project predates 2023', async () => {
    // 2025-05-15 12:00 UTC is already the 16th in Auckland (UTC+12).
    const zone = 'Pacific/Auckland';
    for (const createdBefore2023 of [false, true]) {
      const emulator = await startEmulator({ projects: [{ ...DEMO_PROJECT_OPTIONS, timezone: zone, createdBefore2023 }] });
      const query = await get(`${emulator.url}/api/query/segmentation?project_id=${PID}&event=Log%20In&from_date=2025-05-16&to_date=2025-05-16`);
      expect(query.status).toBe(200);
      const exported = await get(`${emulator.url}/api/2.0/export?project_id=${PID}&from_date=2025-05-16&to_date=2025-05-16`);
      expect(exported.status).toBe(createdBefore2023 ? 200 : 400);
      await emulator.close();
    }
  });
});
