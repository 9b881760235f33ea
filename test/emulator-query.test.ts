import { describe, expect, it } from 'vitest';
import { AUTH, NOW, PID, basicAuth, startEmulator } from './helpers/emulator.js';
import { cohortMembers } from '../src/emulator/cohorts.js';
import { createManualClock, DEMO_PROJECT, type Emulator } from '../src/emulator/server.js';

const TODAY = '2025-05-15';
const WEEK_AGO = '2025-05-08';
const basic = basicAuth;

const start = startEmulator;

async function query(emulator: Emulator, path: string, init: RequestInit = {}): Promise<{ status: number; body: any }> {
  const response = await fetch(`${emulator.url}${path}`, { ...init, headers: { authorization: AUTH, ...init.headers } });
  const text = await response.text();
  return { status: response.status, body: text.startsWith('{') || text.startsWith('[') ? JSON.parse(text) : text };
}

function engage(emulator: Emulator, form: Record<string, string>) {
  return query(emulator, `/api/query/engage?project_id=${PID}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });
}

describe('engage', () => {
  it('pages with session_id; total only on page 0; stops when a page is short', async () => {
    const emulator = await start();
    const first = await engage(emulator, { page_size: '200' });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ page: 0, page_size: 200, status: 'ok', total: 500 });
    expect(first.body.session_id).toMatch(/^\d+-[0-9A-F]{6}$/);
    const seen = new Set<string>(first.body.results.map((r: any) => r.$distinct_id));
    let page = first.body;
    while (page.results.length >= page.page_size) {
      const next = await engage(emulator, { page_size: '200', session_id: first.body.session_id, page: String(page.page + 1) });
      expect(next.status).toBe(200);
      expect(next.body).not.toHaveProperty('total');
      for (const r of next.body.results) seen.add(r.$distinct_id);
      page = next.body;
    }
    expect(page.page).toBe(2);
    expect(seen.size).toBe(500);
    expect(emulator.calls('/api/query/engage')).toBe(3);
  });

  it('refuses page > 0 without a session and an unknown or expired session', async () => {
    const clock = createManualClock(NOW);
    const emulator = await start({ clock, engageSessionTtlMs: 60_000 });
    const noSession = await engage(emulator, { page: '1' });
    expect(noSession.status).toBe(400);
    expect(noSession.body).toEqual({ request: `/api/2.0/engage?project_id=${PID}`, error: expect.stringContaining('session_id') });
    const unknown = await engage(emulator, { page: '1', session_id: '123-NOPE' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toBe('request for page in uncached query for params');
    const first = await engage(emulator, { page_size: '10' });
    clock.advance(61_000);
    const expired = await engage(emulator, { page: '1', page_size: '10', session_id: first.body.session_id });
    expect(expired.status).toBe(400);
    expect(expired.body.error).toBe('request for page in uncached query for params');
    const fresh = await engage(emulator, { page_size: '10', behaviors: '1' });
    const behaviors = await engage(emulator, { page: '1', page_size: '10', behaviors: '1', session_id: fresh.body.session_id });
    expect(behaviors.body.error).toBe('request for page in uncached query for params');
  });

  it("does not serve one project's engage session to another project", async () => {
    const shared = [{ username: DEMO_PROJECT.username, secret: DEMO_PROJECT.secret }];
    const emulator = await start({
      projects: [
        { projectId: PID, token: 't1', serviceAccounts: shared },
        { projectId: '2000002', token: 't2', serviceAccounts: shared },
      ],
    });
    const first = await engage(emulator, { page_size: '10' });
    expect(first.status).toBe(200);
    const foreign = await query(emulator, '/api/query/engage?project_id=2000002', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ page: '1', page_size: '10', session_id: first.body.session_id }).toString(),
    });
    expect(foreign.status).toBe(400);
    expect(foreign.body.error).toBe('request for page in uncached query for params');
  });

  it('filters by distinct_ids, where and cohort, and projects output_properties', async () => {
    const emulator = await start();
    const data = emulator.data(PID);
    const ids = [...data.profiles.keys()].slice(0, 3);
    const byIds = await engage(emulator, { distinct_ids: JSON.stringify(ids), output_properties: '["$email","plan"]' });
    expect(byIds.body.results.map((r: any) => r.$distinct_id)).toEqual(ids);
    for (const r of byIds.body.results) expect(Object.keys(r.$properties).sort()).toEqual(['$email', 'plan']);

    const pro = await engage(emulator, { where: 'properties["plan"] == "Pro"', page_size: '1000' });
    const expected = [...data.profiles.values()].filter((p) => p.properties.plan === 'Pro').length;
    expect(pro.body.total).toBe(expected);
    expect(pro.body.results.every((r: any) => r.$properties.plan === 'Pro')).toBe(true);

    const cohorts = (await query(emulator, `/api/query/cohorts/list?project_id=${PID}`, { method: 'POST' })).body;
    expect(cohorts).toHaveLength(20);
    const cohort = cohorts[3];
    expect(cohort).toEqual({
      count: expect.any(Number),
      is_visible: expect.any(Number),
      description: expect.any(String),
      created: expect.stringMatching(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/),
      project_id: Number(PID),
      id: expect.any(Number),
      name: expect.any(String),
    });
    const members = await engage(emulator, { filter_by_cohort: JSON.stringify({ id: cohort.id }) });
    expect(members.body.total).toBe(cohort.count);
    expect(cohortMembers(data, cohort.id)).toHaveLength(cohort.count);

    // The spec does not describe distinct_ids together with filter_by_cohort: the emulator lets distinct_ids
    // win, so a client that trusts an intersection sees every listed profile, members or not.
    const member = members.body.results[0].$distinct_id as string;
    const outsider = [...data.profiles.keys()].find((id) => !cohortMembers(data, cohort.id).some((p) => p.distinctId === id))!;
    const narrowed = await engage(emulator, {
      filter_by_cohort: JSON.stringify({ id: cohort.id }),
      distinct_ids: JSON.stringify([member, outsider]),
    });
    expect(narrowed.body.results.map((r: { $distinct_id: string }) => r.$distinct_id)).toEqual([member, outsider]);

    const groups = await engage(emulator, { data_group_id: 'company' });
    expect(groups.body.total).toBe(20);
    expect(groups.body.results[0].$properties).toHaveProperty('industry');
  });

  it('rejects an invalid where expression with 400 in the Query shape', async () => {
    const emulator = await start();
    const bad = await engage(emulator, { where: 'properties["plan"] ==' });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/^invalid where expression/);
    expect(bad.body.request).toBe(`/api/2.0/engage?project_id=${PID}`);
  });
});

describe('auth', () => {
  const other = { projectId: '2000002', token: 'other-token', serviceAccounts: [{ username: 'other.1.mp-service-account', secret: 'other-secret' }] };

  it('answers 401, 400 and 403 with Mixpanel-shaped bodies', async () => {
    const emulator = await start({
      projects: [{ ...other }, { projectId: PID, token: 't', serviceAccounts: [{ username: DEMO_PROJECT.username, secret: DEMO_PROJECT.secret }] }],
    });
    const path = `/api/query/cohorts/list?project_id=${PID}`;
    const wrong = await query(emulator, path, { headers: { authorization: basic(DEMO_PROJECT.username, 'nope') } });
    expect(wrong).toEqual({ status: 401, body: { request: `/api/2.0/cohorts/list?project_id=${PID}`, error: 'Unable to authenticate request' } });
    const missing = await fetch(`${emulator.url}${path}`);
    expect(missing.status).toBe(401);
    const noProject = await query(emulator, '/api/query/cohorts/list');
    expect(noProject.status).toBe(400);
    expect(noProject.body).toEqual({ request: '/api/2.0/cohorts/list', error: expect.stringContaining('project_id') });
    const foreign = await query(emulator, '/api/query/cohorts/list?project_id=2000002');
    expect(foreign.status).toBe(403);
    expect(foreign.body.request).toBe('/api/2.0/cohorts/list?project_id=2000002');
    // Rejected requests are counted too.
    expect(emulator.calls('/api/query/cohorts/list')).toBe(4);
    expect(emulator.calls('/api/query/cohorts/list', '2000002')).toBe(1);
  });

  it('accepts plain-text Basic credentials and the legacy project secret', async () => {
    const emulator = await start();
    const plain = await query(emulator, `/api/query/funnels/list?project_id=${PID}`, {
      headers: { authorization: `Basic ${DEMO_PROJECT.username}:${DEMO_PROJECT.secret}` },
    });
    expect(plain.status).toBe(200);
    const legacy = await query(emulator, '/api/query/funnels/list', { headers: { authorization: basic(DEMO_PROJECT.legacySecret, '') } });
    expect(legacy.status).toBe(200);
    expect(legacy.body).toEqual([
      { funnel_id: 7509, name: 'Signup funnel' },
      { funnel_id: 9070, name: 'Purchase funnel' },
      { funnel_id: 9071, name: 'Trial conversion' },
    ]);
  });
});

describe('analytics endpoints', () => {
  it('segmentation counts equal the seeded events, on both path spellings', async () => {
    const emulator = await start();
    const data = emulator.data();
    const expected: Record<string, number> = {};
    for (const e of data.events) {
      const day = new Date(e.time * 1000).toISOString().slice(0, 10);
      if (e.event === 'Log In' && day >= WEEK_AGO && day <= TODAY) expected[day] = (expected[day] ?? 0) + 1;
    }
    for (const prefix of ['/api/query', '/api/2.0']) {
      const { status, body } = await query(emulator, `${prefix}/segmentation?project_id=${PID}&event=Log%20In&from_date=${WEEK_AGO}&to_date=${TODAY}`);
      expect(status).toBe(200);
      expect(body.legend_size).toBe(1);
      expect(body.data.series).toHaveLength(8);
      for (const day of body.data.series) expect(body.data.values['Log In'][day]).toBe(expected[day] ?? 0);
    }
    expect(emulator.calls('/api/2.0/segmentation')).toBe(2);
  });

  it('segments with on/type and limit, and buckets numerically', async () => {
    const emulator = await start();
    const base = `project_id=${PID}&from_date=${WEEK_AGO}&to_date=${TODAY}`;
    const on = await query(
      emulator,
      `/api/query/segmentation?${base}&event=View%20Page&on=${encodeURIComponent('properties["$browser"]')}&type=unique&limit=2&unit=month`,
    );
    expect(Object.keys(on.body.data.values)).toHaveLength(2);
    expect(on.body.legend_size).toBe(2);
    const numeric = await query(emulator, `/api/query/segmentation/numeric?${base}&event=Purchase&on=${encodeURIComponent('properties["price"]')}`);
    expect(Object.keys(numeric.body.data.values).every((k) => /^[\d,.]+ - [\d,.]+$/.test(k))).toBe(true);
    const sum = await query(emulator, `/api/query/segmentation/sum?${base}&event=Purchase&on=${encodeURIComponent('properties["price"]')}`);
    expect(sum.body).toMatchObject({ status: 'ok', computed_at: expect.any(String) });
    expect(Object.keys(sum.body.results)).toHaveLength(8);
    const missing = await query(emulator, `/api/query/segmentation/sum?${base}&event=Purchase`);
    expect(missing.status).toBe(400);
  });

  it('validates dates: to_date after today and malformed dates are 400', async () => {
    const emulator = await start();
    const late = await query(emulator, `/api/query/segmentation?project_id=${PID}&event=Log%20In&from_date=${TODAY}&to_date=2025-05-16`);
    expect(late).toEqual({ status: 400, body: { request: expect.any(String), error: 'to_date cannot be later than today' } });
    const bad = await query(emulator, `/api/query/events?project_id=${PID}&event=%5B%22x%22%5D&type=general&unit=day&from_date=2025-5-1&to_date=${TODAY}`);
    expect(bad.status).toBe(400);
  });

  it('serves events, names, properties, insights, funnels and retention in the spec shapes', async () => {
    const emulator = await start();
    const base = `project_id=${PID}&from_date=${WEEK_AGO}&to_date=${TODAY}`;
    const events = await query(emulator, `/api/query/events?${base}&event=${encodeURIComponent('["Log In","Purchase"]')}&type=general&unit=day`);
    expect(Object.keys(events.body.data.values)).toEqual(['Log In', 'Purchase']);
    const names = await query(emulator, `/api/query/events/names?project_id=${PID}&type=general&limit=3`);
    // The three most common names, in no promised order.
    expect([...names.body].sort()).toEqual(['App Open', 'Log In', 'View Page']);
    const top = await query(emulator, `/api/query/events/top?project_id=${PID}&type=unique`);
    expect(top.body.type).toBe('unique');
    expect(top.body.events[0]).toEqual({ amount: expect.any(Number), event: expect.any(String), percent_change: expect.any(Number) });
    const values = await query(emulator, `/api/query/events/properties/values?project_id=${PID}&event=Purchase&name=currency`);
    expect(values.body).toEqual(['USD']);
    const insights = await query(emulator, `/api/query/insights?project_id=${PID}&bookmark_id=12346`);
    expect(insights.body).toMatchObject({ headers: ['$event'], series: { Purchase: expect.any(Object) } });
    const unknown = await query(emulator, `/api/query/insights?project_id=${PID}&bookmark_id=1`);
    expect(unknown.status).toBe(404);
    const funnel = await query(emulator, `/api/query/funnels?${base}&funnel_id=7509`);
    const day = funnel.body.data[funnel.body.meta.dates[0]];
    expect(day.steps.map((s: any) => s.event)).toEqual(['Sign Up', 'Complete Onboarding', 'Create Project']);
    expect(day.analysis.steps).toBe(3);
    const retention = await query(emulator, `/api/query/retention?${base}&born_event=Log%20In&interval_count=2`);
    const cohort = retention.body[WEEK_AGO];
    expect(cohort.counts).toHaveLength(3);
    expect(cohort.first).toBeGreaterThan(0);
    const noBorn = await query(emulator, `/api/query/retention?${base}`);
    expect(noBorn.status).toBe(400);
    const addiction = await query(emulator, `/api/query/retention/addiction?${base}&unit=day&addiction_unit=hour`);
    expect(addiction.body.data[TODAY]).toHaveLength(24);
  });

  it('answers the activity stream for the given users only', async () => {
    const emulator = await start();
    const id = emulator.data().events.at(-1)!.distinctId;
    const stream = await query(
      emulator,
      `/api/query/stream/query?project_id=${PID}&distinct_ids=${encodeURIComponent(JSON.stringify([id]))}&from_date=${WEEK_AGO}&to_date=${TODAY}`,
    );
    expect(stream.body.status).toBe('ok');
    expect(stream.body.results.events.length).toBeGreaterThan(0);
    expect(stream.body.results.events.every((e: any) => e.properties.distinct_id === id)).toBe(true);
  });
});

describe('robustness', () => {
  it('answers unknown paths with a JSON 404 and bad JSON bodies with 400', async () => {
    const emulator = await start();
    const missing = await fetch(`${emulator.url}/api/query/nothing?project_id=${PID}`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toHaveProperty('error');
    const badJson = await query(emulator, `/api/query/engage?project_id=${PID}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"nope":',
    });
    expect(badJson.status).toBe(400);
    const ok = await query(emulator, `/api/query/funnels/list?project_id=${PID}`);
    expect(ok.status).toBe(200);
  });

  it("answers segmentation/numeric over more values than fit in one call's arguments", async () => {
    const emulator = await start();
    const data = emulator.data(PID);
    const time = Math.floor(NOW / 1000) - 3600;
    for (let k = 0; k < 150_000; k++) {
      data.events.push({ event: 'Bulk', time, distinctId: `u${k % 50}`, insertId: `b${k}`, properties: { amount: k } });
    }
    const result = await query(
      emulator,
      `/api/query/segmentation/numeric?project_id=${PID}&event=Bulk&on=properties["amount"]&from_date=${TODAY}&to_date=${TODAY}`,
    );
    expect(result.status).toBe(200);
    const buckets = Object.values(result.body.data.values) as Record<string, number>[];
    expect(buckets.reduce((sum, b) => sum + (b[TODAY] ?? 0), 0)).toBe(150_000);
  });

  it('injects status faults a limited number of times', async () => {
    const emulator = await start();
    emulator.faults.inject({ path: '/api/query/funnels/list', kind: 'status', status: 503, times: 1 });
    expect((await query(emulator, `/api/2.0/funnels/list?project_id=${PID}`)).status).toBe(503);
    expect((await query(emulator, `/api/2.0/funnels/list?project_id=${PID}`)).status).toBe(200);
    expect(emulator.callLog.map((c) => c.status)).toEqual([503, 200]);
  });
});
