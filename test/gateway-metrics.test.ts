/**
 * GET /metrics after real traffic: upstream calls by outcome, 429s, cache
 * lookups and the budget's queue wait, each with its labels.
 */
import { describe, expect, it } from 'vitest';
import { createTestApp } from './helpers/app.js';
import { day } from './helpers/schema.js';

interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** Prometheus text exposition, one sample per line (comments skipped). */
function parseMetrics(text: string): Sample[] {
  return text.split('\n').flatMap((line) => {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) return [];
    const labels = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1]!, m[2]!]));
    return [{ name: match[1]!, labels, value: Number(match[3]) }];
  });
}

/** The value of the one sample named `name` whose labels include `labels`. */
function sampleValue(samples: readonly Sample[], name: string, labels: Record<string, string>): number | undefined {
  const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([key, value]) => s.labels[key] === value));
  expect(found.length, `${name} ${JSON.stringify(labels)}`).toBeLessThanOrEqual(1);
  return found[0]?.value;
}

describe('/metrics', () => {
  it('exposes upstream calls, 429s, cache lookups and queue wait with project, family, endpoint and outcome labels', async () => {
    // A deadline shorter than the first retry delay: the injected 429 is reported, not retried.
    const gw = await createTestApp({ env: { REQUEST_DEADLINE_MS: '1000' } });
    const cohorts = `{ cohorts { __typename } }`;
    expect((await gw.query(cohorts)).data!['cohorts'].__typename).toBe('CohortConnection');
    expect((await gw.query(cohorts)).data!['cohorts'].__typename).toBe('CohortConnection');
    // A plain segmentation is read through /events.
    gw.emulator.faults.inject({ path: '/api/query/events', kind: 'rate-limit', times: 1 });
    const limited = await gw.query(`{ segmentation(event: "A", from: "${day(gw.emulator, -3)}", to: "${day(gw.emulator, -1)}") { __typename } }`);
    expect(limited.data!['segmentation'].__typename).toBe('RateLimitedError');

    const response = await gw.fetch('/metrics');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    const samples = parseMetrics(await response.text());
    const project = { project: 'default' };

    expect(sampleValue(samples, 'mixpanel_upstream_calls_total', { ...project, family: 'query', endpoint: 'cohortsList', outcome: 'ok' })).toBe(1);
    expect(sampleValue(samples, 'mixpanel_upstream_calls_total', { ...project, family: 'query', endpoint: 'events', outcome: 'rate_limited' })).toBe(1);
    expect(sampleValue(samples, 'mixpanel_upstream_rate_limited_total', { ...project, family: 'query' })).toBe(1);

    expect(sampleValue(samples, 'gateway_cache_lookups_total', { ...project, kind: 'cohorts', result: 'miss' })).toBe(1);
    expect(sampleValue(samples, 'gateway_cache_lookups_total', { ...project, kind: 'cohorts', result: 'hit' })).toBe(1);

    // Two Query calls left the queue (the cohorts list and the segmentation), each observed once.
    expect(sampleValue(samples, 'mixpanel_budget_queue_wait_seconds_count', { ...project, family: 'query' })).toBe(2);
    expect(sampleValue(samples, 'mixpanel_budget_queue_wait_seconds_bucket', { ...project, family: 'query', le: '+Inf' })).toBe(2);
    expect(sampleValue(samples, 'mixpanel_budget_in_flight', { ...project, family: 'query' })).toBe(0);
  });

  it('asks for the API key when the gateway has keys', async () => {
    const key = 'metrics-test-key-0123456789';
    const gw = await createTestApp({ env: { GATEWAY_API_KEYS: key } });
    expect((await gw.fetch('/metrics')).status).toBe(401);
    const response = await gw.fetch('/metrics', { headers: { authorization: `Bearer ${key}` } });
    expect(response.status).toBe(200);
    expect(await response.text()).toMatch(/mixpanel_upstream_calls_total/);
  });
});
