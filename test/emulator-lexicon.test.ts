import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createEmulator, DEMO_PROJECT, type Emulator } from '../src/emulator/server.js';

const AUTH = `Basic ${Buffer.from(`${DEMO_PROJECT.username}:${DEMO_PROJECT.secret}`).toString('base64')}`;
const BASE = `/api/app/projects/${DEMO_PROJECT.projectId}/schemas`;

let emulator: Emulator;
beforeEach(async () => {
  // Lexicon allows 5 requests a minute; most tests here need more, so the limit is raised except where tested.
  emulator = await createEmulator({ size: 'small', limits: { lexicon: { perMinute: 1000 } } });
});
afterEach(async () => {
  await emulator.close();
});

async function call(method: string, path: string, body?: unknown, target: Emulator = emulator) {
  const response = await fetch(`${target.url}${path}`, {
    method,
    headers: { authorization: AUTH, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as any };
}

// The docs' example schema (https://developer.mixpanel.com/reference/upload-schemas-for-project).
const addedToCart = {
  $schema: 'http://json-schema.org/draft-07/schema',
  description: 'Tracked when a user adds an item to their cart.',
  required: ['item_name', 'item_id', 'item_price'],
  additionalProperties: true,
  properties: {
    item_name: { type: 'string', description: 'The name of the item', examples: ['Blue Widget'] },
    item_id: { type: 'integer', description: 'The internal id of the item', examples: [12345] },
    item_price: { type: 'number', description: 'The current price of the item', examples: [25.35] },
  },
  metadata: { 'com.mixpanel': { tags: ['Shopping', 'KPIs'], hidden: true, displayName: 'Cart add' } },
};

describe('emulator Lexicon schemas', () => {
  it('uploads a batch, lists all and by entity, and gets one bare schema', async () => {
    await call('DELETE', BASE);
    const upload = await call('POST', BASE, {
      entries: [
        { entityType: 'event', name: 'Added To Cart', schemaJson: addedToCart },
        { entityType: 'profile', name: '$user', schemaJson: { description: 'A user', properties: { plan: { type: 'string' } } } },
      ],
      truncate: false,
    });
    expect(upload).toEqual({ status: 200, body: { results: { added: 2, deleted: 0 }, status: 'ok' } });

    const all = await call('GET', BASE);
    expect(all.status).toBe(200);
    expect(all.body.status).toBe('ok');
    expect(all.body.results).toEqual([
      { entityType: 'event', name: 'Added To Cart', schemaJson: addedToCart },
      { entityType: 'profile', name: '$user', schemaJson: { description: 'A user', properties: { plan: { type: 'string' } } } },
    ]);

    const profiles = await call('GET', `${BASE}/profile`);
    expect(profiles.body.results.map((e: any) => e.name)).toEqual(['$user']);
    const byName = await call('GET', `${BASE}/event?entity_name=${encodeURIComponent('Added To Cart')}`);
    expect(byName.body.results).toHaveLength(1);

    const one = await call('GET', `${BASE}/event/${encodeURIComponent('Added To Cart')}`);
    expect(one).toEqual({ status: 200, body: addedToCart });
  });

  it('merges metadata keys the new schema omits and removes keys sent as null', async () => {
    const path = `${BASE}/event/Checkout`;
    await call('POST', path, {
      description: 'v1',
      properties: { amount: { type: 'number', metadata: { 'com.mixpanel': { hidden: true, displayName: 'Amount' } } } },
      metadata: { 'com.mixpanel': { hidden: true, tags: ['Revenue'], displayName: 'Checkout v1' } },
    });
    const second = await call('POST', path, {
      description: 'v2',
      properties: { amount: { type: 'number', metadata: { 'com.mixpanel': { displayName: null } } }, currency: { type: 'string' } },
      metadata: { 'com.mixpanel': { displayName: null, dropped: false } },
    });
    expect(second).toEqual({ status: 200, body: { status: 'ok' } });

    const { body } = await call('GET', path);
    expect(body).toEqual({
      description: 'v2',
      properties: {
        amount: { type: 'number', metadata: { 'com.mixpanel': { hidden: true } } },
        currency: { type: 'string' },
      },
      metadata: { 'com.mixpanel': { hidden: true, tags: ['Revenue'], dropped: false } },
    });
  });

  it('truncates the dictionary before a batch when truncate is true', async () => {
    const before = await call('GET', BASE);
    const existing = before.body.results.length as number;
    await call('POST', `${BASE}/event/Old`, { description: 'old' });
    const upload = await call('POST', BASE, { entries: [{ entityType: 'event', name: 'New', schemaJson: { description: 'new' } }], truncate: true });
    expect(upload.body).toEqual({ results: { added: 1, deleted: existing + 1 }, status: 'ok' });
    const after = await call('GET', BASE);
    expect(after.body.results.map((e: any) => e.name)).toEqual(['New']);
  });

  it('deletes all, by entity, by entity_name and one, counting deletions', async () => {
    await call('POST', BASE, {
      entries: [
        { entityType: 'event', name: 'A', schemaJson: {} },
        { entityType: 'event', name: 'B', schemaJson: {} },
        { entityType: 'event', name: 'C', schemaJson: {} },
        { entityType: 'profile', name: '$user', schemaJson: {} },
      ],
      truncate: true,
    });
    expect((await call('DELETE', `${BASE}/event/A`)).body).toEqual({ results: { delete_count: 1 }, status: 'ok' });
    expect((await call('DELETE', `${BASE}/event/A`)).body).toEqual({ results: { delete_count: 0 }, status: 'ok' });
    expect((await call('DELETE', `${BASE}/event?entity_name=B`)).body.results).toEqual({ delete_count: 1 });
    expect((await call('DELETE', `${BASE}/event`)).body.results).toEqual({ delete_count: 1 });
    expect((await call('DELETE', BASE)).body.results).toEqual({ delete_count: 1 });
    expect((await call('GET', BASE)).body.results).toEqual([]);
  });

  it('answers 400 (no 404 is documented) for a missing schema and for invalid uploads, changing nothing', async () => {
    expect(await call('GET', `${BASE}/event/Nope`)).toEqual({ status: 400, body: { error: expect.any(String), status: 'error' } });

    const count = (await call('GET', BASE)).body.results.length;
    const invalid = [
      { entries: [{ entityType: 'event', name: 'X', schemaJson: {}, extra: 1 }] },
      { entries: [{ entityType: 'event', schemaJson: {} }] },
      { entries: [{ entityType: 'group', name: 'X', schemaJson: {} }] },
      { entries: [{ entityType: 'event', name: 'X', schemaJson: { properties: { p: { description: 'no type' } } } }] },
      { entries: [{ entityType: 'event', name: 'X', schemaJson: { metadata: { 'com.mixpanel': { colour: 'red' } } } }] },
      { entries: [], truncate: true, dryRun: true },
      { entries: [{ entityType: 'event', name: 'Fine', schemaJson: {} }, 'not an entry'] },
    ];
    for (const body of invalid) {
      const response = await call('POST', BASE, body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body).toEqual({ error: expect.any(String), status: 'error' });
    }
    expect((await call('POST', `${BASE}/widget/X`, {})).status).toBe(400);
    expect((await call('GET', BASE)).body.results).toHaveLength(count);
  });

  it('enforces the documented 4000 updates per minute and 3000 deletions per request', async () => {
    const entries = (from: number, n: number) =>
      Array.from({ length: n }, (_, k) => ({ entityType: 'event', name: `Bulk ${from + k}`, schemaJson: { description: 'x' } }));
    expect((await call('POST', BASE, { entries: entries(0, 2000) })).status).toBe(200);
    const over = await call('POST', BASE, { entries: entries(2000, 2000) });
    expect(over.status).toBe(429);
    expect(over.body).toEqual({ error: expect.stringContaining('4000'), status: 'error' });
    // The refused batch wrote nothing and is not counted: a smaller one still fits in the minute.
    expect((await call('GET', `${BASE}/event?entity_name=Bulk%202000`)).body.results).toEqual([]);
    expect((await call('POST', BASE, { entries: entries(2000, 1500) })).status).toBe(200);
    const count = (await call('GET', BASE)).body.results.length;
    expect(count).toBeGreaterThanOrEqual(3500);
    const truncate = await call('DELETE', BASE);
    expect(truncate.status).toBe(429);
    expect(truncate.body.error).toContain('3000');
    expect((await call('GET', BASE)).body.results).toHaveLength(count);
    expect((await call('DELETE', `${BASE}/profile`)).status).toBe(200);
  });

  it('refuses the 6th Lexicon call within a minute with 429', async () => {
    const limited = await createEmulator({ size: 'small' });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 6; i += 1) statuses.push((await call('GET', BASE, undefined, limited)).status);
      expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    } finally {
      await limited.close();
    }
  });
});
