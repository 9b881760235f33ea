/**
 * Writes through the gateway against the emulator over HTTP: batching across
 * clients (counted in the emulator's call log), idempotency, partial
 * failures mapped to each caller's indexes, read-after-write, and the
 * Lexicon limits.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { createEmulator } from '../src/emulator/server.js';
import { createTestApp, type TestApp } from './helpers/app.js';
import type { GraphQLResponse } from './helpers/gateway.js';
import { REDIS, redisSkip } from './helpers/redis.js';

const IMPORT = `mutation Import($events: [EventInput!]!, $key: String) {
  importEvents(events: $events, idempotencyKey: $key) {
    __typename
    ... on ImportEventsPayload { imported failures { index insertId field message } }
    ... on InvalidArgumentError { argument }
    ... on Error { message code }
  }
}`;

const today = () => new Date().toISOString().slice(0, 10);

function events(count: number, name: string, prefix: string, at = Date.now() - 60_000) {
  return Array.from({ length: count }, (_, i) => ({
    event: name,
    distinctId: `${prefix}-${i % 7}`,
    time: new Date(at - i * 1000).toISOString(),
    properties: { n: i, client: prefix },
  }));
}

const importCalls = (gw: TestApp) => gw.emulator.callLog.filter((entry) => entry.path === '/import');

async function countEvents(gw: TestApp, name: string): Promise<number> {
  const result = await gw.query(`{ events(from: "${today()}", to: "${today()}", names: ["${name}"], first: 1000) {
    __typename ... on EventConnection { edges { node { name } } } ... on Error { message } } }`);
  expect(result.errors).toBeUndefined();
  expect(result.data!['events'].__typename).toBe('EventConnection');
  return result.data!['events'].edges.length;
}

describe('importEvents', () => {
  it('sends 5,000 events from 50 concurrent clients in at most 3 requests, all of them landing', async () => {
    const gw = await createTestApp({ env: { WRITE_BATCH_WINDOW_MS: '1000' } });
    gw.emulator.resetCalls();
    const results = await Promise.all(Array.from({ length: 50 }, (_, c) => gw.query(IMPORT, { events: events(100, 'Batched', `c${c}`) })));
    for (const result of results) {
      expect(result.errors).toBeUndefined();
      expect(result.data!['importEvents']).toEqual({ __typename: 'ImportEventsPayload', imported: 100, failures: [] });
    }
    const calls = importCalls(gw);
    expect(calls.length).toBeGreaterThanOrEqual(3); // 2,000 events a request at most
    expect(calls.length).toBeLessThanOrEqual(3);
    expect(calls.every((call) => call.status === 200 && call.params['strict'] === '1')).toBe(true);
    expect(await countEvents(gw, 'Batched')).toBe(1000); // one page of the export: the events are there
  });

  it('replays a write with the same key without sending it again, and refuses the key with another input', async () => {
    const gw = await createTestApp();
    const batch = events(10, 'Replayed', 'r');
    const first = await gw.query(IMPORT, { events: batch, key: 'import-key-1' });
    expect(first.data!['importEvents']).toMatchObject({ imported: 10, failures: [] });
    const sent = importCalls(gw).length;
    expect(sent).toBe(1);

    const replay = await gw.query(IMPORT, { events: batch, key: 'import-key-1' });
    expect(replay.data!['importEvents']).toEqual(first.data!['importEvents']);
    expect(replay.extensions?.['mixpanel']?.upstreamCalls).toBe(0);

    const other = await gw.query(IMPORT, { events: events(3, 'Replayed', 'other'), key: 'import-key-1' });
    expect(other.data!['importEvents']).toMatchObject({ __typename: 'IdempotencyConflictError', code: 'IDEMPOTENCY_CONFLICT' });
    expect(importCalls(gw).length).toBe(sent);
    expect(await countEvents(gw, 'Replayed')).toBe(10);
  });

  it('reports one invalid event among ten at its index while the nine land', async () => {
    const gw = await createTestApp();
    const batch = events(10, 'Nine Land', 'v');
    batch[3] = { ...batch[3]!, distinctId: 'anonymous' };
    const result = await gw.query(IMPORT, { events: batch });
    expect(result.data!['importEvents']).toEqual({
      __typename: 'ImportEventsPayload',
      imported: 9,
      failures: [{ index: 3, insertId: null, field: 'distinctId', message: expect.stringContaining('placeholder') }],
    });
    expect(await countEvents(gw, 'Nine Land')).toBe(9);
  });

  it("maps Mixpanel's failed_records back to each caller's own indexes, in one shared request", async () => {
    // Mixpanel's clock two hours behind the gateway's: an event 30 minutes old is, to Mixpanel, 90 minutes in the future.
    const gw = await createTestApp({ emulatorOptions: { size: 'small', now: Date.now() - 2 * 3_600_000 }, env: { WRITE_BATCH_WINDOW_MS: '500' } });
    gw.emulator.resetCalls();
    const old = Date.now() - 3 * 3_600_000;
    const callers = [1, 4, 0].map((bad, c) => {
      const batch = events(5, 'Mapped', `m${c}`, old);
      batch[bad] = { ...batch[bad]!, time: new Date(Date.now() - 30 * 60_000).toISOString(), insertId: `bad-${c}` } as never;
      return { bad, batch };
    });
    const results = await Promise.all(callers.map(({ batch }) => gw.query(IMPORT, { events: batch })));
    results.forEach((result, c) => {
      expect(result.data!['importEvents']).toEqual({
        __typename: 'ImportEventsPayload',
        imported: 4,
        failures: [{ index: callers[c]!.bad, insertId: `bad-${c}`, field: 'properties.time', message: expect.stringContaining('future') }],
      });
    });
    expect(importCalls(gw).length).toBe(1);
  });

  it('sends the halves of a batch Mixpanel refused as too large (413: nothing was ingested)', async () => {
    const gw = await createTestApp();
    gw.emulator.faults.inject({ path: '/import', kind: 'status', status: 413, times: 1 });
    const result = await gw.query(IMPORT, { events: events(10, 'Halved', 'h') });
    expect(result.data!['importEvents']).toEqual({ __typename: 'ImportEventsPayload', imported: 10, failures: [] });
    expect(importCalls(gw).map((call) => call.status)).toEqual([413, 200, 200]);
    expect(await countEvents(gw, 'Halved')).toBe(10);
  });

  it('validates every event before sending and generates the same $insert_id for the same event', async () => {
    const gw = await createTestApp();
    const bad = [
      { event: '', time: new Date().toISOString() },
      { event: 'Old', time: '1970-06-01T00:00:00Z' },
      { event: 'Future', time: new Date(Date.now() + 2 * 3_600_000).toISOString() },
      { event: 'Reserved', time: new Date().toISOString(), properties: { time: 1 } },
      { event: 'Deep', time: new Date().toISOString(), properties: { a: { b: { c: { d: { e: 1 } } } } } },
      { event: 'Bad Id', time: new Date().toISOString(), insertId: 'no spaces allowed' },
    ];
    const result = await gw.query(IMPORT, { events: bad });
    expect(result.data!['importEvents'].imported).toBe(0);
    expect(result.data!['importEvents'].failures.map((f: { index: number; field: string }) => [f.index, f.field])).toEqual([
      [0, 'event'],
      [1, 'time'],
      [2, 'time'],
      [3, 'properties.time'],
      [4, 'properties.a.b.c.d'],
      [5, 'insertId'],
    ]);
    expect(importCalls(gw).length).toBe(0);

    const empty = await gw.query(IMPORT, { events: [] });
    expect(empty.data!['importEvents']).toMatchObject({ __typename: 'InvalidArgumentError', argument: 'events' });

    // The same event twice (a client retrying without a key) lands once: its $insert_id is derived from it.
    const once = events(1, 'Deduplicated', 'd');
    await gw.query(IMPORT, { events: once });
    await gw.query(IMPORT, { events: once });
    expect(await countEvents(gw, 'Deduplicated')).toBe(1);
  });
});

describe('profiles, groups and identity', () => {
  it('reads a profile set through the gateway back at once, merging concurrent updates into one request', async () => {
    const gw = await createTestApp({ env: { WRITE_BATCH_WINDOW_MS: '300' } });
    const read = (id: string) => gw.query(`{ profile(distinctId: "${id}") { __typename ... on Profile { property(name: "plan") } } }`);
    await read('writer-1'); // now cached as missing
    gw.emulator.resetCalls();
    const updates = await Promise.all(
      ['writer-1', 'writer-2', 'writer-3'].map((id, i) =>
        gw.query(`mutation { updateProfiles(updates: [{ distinctId: "${id}", set: { plan: "Pro ${i}" }, union: { tags: ["a"] } }]) {
          __typename ... on UpdateProfilesPayload { updated failures { index } } } }`),
      ),
    );
    for (const update of updates) expect(update.data!['updateProfiles']).toEqual({ __typename: 'UpdateProfilesPayload', updated: 1, failures: [] });
    expect(gw.emulator.callLog.filter((entry) => entry.path === '/engage').length).toBe(1);
    const after = await read('writer-1');
    expect(after.data!['profile']).toEqual({ __typename: 'Profile', property: 'Pro 0' });
  });

  it('sends an $add once when Mixpanel fails, and refuses to replay its key rather than add twice', async () => {
    const gw = await createTestApp();
    gw.emulator.faults.inject({ path: '/engage', kind: 'status', status: 503, times: 1 });
    const add = `mutation { updateProfiles(updates: [{ distinctId: "counter", add: { visits: 1 } }], idempotencyKey: "add-1") {
      __typename ... on Error { code } } }`;
    const codeOf = (result: GraphQLResponse) => result.data?.['updateProfiles']?.code ?? result.errors?.[0]?.extensions?.['code'];
    expect(codeOf(await gw.query(add))).toBe('MIXPANEL_UNAVAILABLE');
    expect(gw.emulator.calls('/engage')).toBe(1);
    expect(codeOf(await gw.query(add))).toBe('WRITE_OUTCOME_UNKNOWN');
    expect(gw.emulator.calls('/engage')).toBe(1);
  });

  it('lets the budget retry a $set batch after a 503 (setting twice is setting once)', async () => {
    // The budget's first retry waits 3-7 s (Mixpanel's recommended backoff): the deadline leaves room for it.
    const gw = await createTestApp({ env: { REQUEST_DEADLINE_MS: '30000' } });
    gw.emulator.faults.inject({ path: '/engage', kind: 'status', status: 503, times: 1 });
    const set = await gw.query(
      `mutation { updateProfiles(updates: [{ distinctId: "retried", set: { plan: "Team" } }]) { __typename ... on UpdateProfilesPayload { updated } } }`,
    );
    expect(set.data!['updateProfiles']).toEqual({ __typename: 'UpdateProfilesPayload', updated: 1 });
    expect(gw.emulator.calls('/engage')).toBe(2);
  }, 20_000);

  it('refuses an invalid update before sending anything, naming its path', async () => {
    const gw = await createTestApp();
    const result = await gw.query(`mutation { updateProfiles(updates: [{ distinctId: "ok", set: { a: 1 } }, { distinctId: "ok", add: { visits: "one" } }]) {
      __typename ... on InvalidArgumentError { argument } } }`);
    expect(result.data!['updateProfiles']).toEqual({ __typename: 'InvalidArgumentError', argument: 'updates[1].add.visits' });
    const banned = await gw.query(
      `mutation { updateProfiles(updates: [{ distinctId: "null", set: { a: 1 } }]) { __typename ... on InvalidArgumentError { argument } } }`,
    );
    expect(banned.data!['updateProfiles']).toEqual({ __typename: 'InvalidArgumentError', argument: 'updates[0].distinctId' });
    expect(gw.emulator.calls('/engage')).toBe(0);
  });

  it('updates a group profile and reads it back', async () => {
    const gw = await createTestApp();
    const update = await gw.query(`mutation { updateGroupProfiles(updates: [{ groupKey: "company_id", groupId: "acme", set: { name: "Acme" } }]) {
      __typename ... on UpdateGroupProfilesPayload { updated } } }`);
    expect(update.data!['updateGroupProfiles']).toEqual({ __typename: 'UpdateGroupProfilesPayload', updated: 1 });
    const read = await gw.query(`{ groupProfile(groupKey: "company_id", groupId: "acme") { __typename ... on Profile { property(name: "name") } } }`);
    expect(read.data!['groupProfile']).toEqual({ __typename: 'Profile', property: 'Acme' });
  });

  it('merges profiles with $merge when the project uses the Original ID Merge API, and refuses otherwise', async () => {
    const merge = `mutation { mergeProfiles(distinctIds: ["a", "b", "c"]) { __typename ... on MergeProfilesPayload { merged } } }`;
    const simplified = await createTestApp();
    const refused = await simplified.query(merge);
    expect(refused.errors?.[0]?.extensions?.['code'] ?? refused.data!['mergeProfiles'].__typename).toMatch(/WRITE_UNSUPPORTED|GatewayError/);
    expect(simplified.emulator.calls('/import')).toBe(0);

    const original = await createTestApp({ env: { MIXPANEL_ID_MERGE_API: 'original' } });
    const merged = await original.query(merge);
    expect(merged.data!['mergeProfiles']).toEqual({ __typename: 'MergeProfilesPayload', merged: 2 });
    expect(original.emulator.calls('/import')).toBe(1);
  });
});

describe('Lexicon edits', () => {
  const lexiconCalls = (gw: TestApp) => gw.emulator.callLog.filter((entry) => entry.path.includes('/schemas'));

  it('merges the edits of 20 concurrent clients into one upload, within 5 Lexicon calls a minute and without a 429', async () => {
    const gw = await createTestApp({ env: { LEXICON_EDIT_WINDOW_MS: '500' } });
    const before = lexiconCalls(gw).length;
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        gw.query(
          `mutation { updateEventDefinition(input: { name: "Sign Up", tags: ["t${i}"] }) { __typename ... on EventDefinition { name } ... on Error { message } } }`,
        ),
      ),
    );
    for (const result of results) expect(result.data!['updateEventDefinition']).toEqual({ __typename: 'EventDefinition', name: 'Sign Up' });
    const calls = lexiconCalls(gw).slice(before);
    expect(calls.filter((call) => call.method === 'POST')).toHaveLength(1);
    expect(calls.length).toBeLessThanOrEqual(5);
    expect(calls.filter((call) => call.status === 429)).toHaveLength(0);
    // The last edit in the batch wins, as if they had been sent one after the other.
    const read = await gw.query(`{ lexicon { eventDefinition(name: "Sign Up") { ... on EventDefinition { tags } } } }`);
    expect(read.data!['lexicon'].eventDefinition.tags).toHaveLength(1);
  });

  it('creates, updates and deletes event and property definitions, reporting what does not exist', async () => {
    // Eight edits one after the other: more Lexicon calls than a minute allows, so both sides allow more here.
    const gw = await createTestApp({
      emulatorOptions: { size: 'small', limits: { lexicon: { perMinute: 60 } } },
      env: { LEXICON_EDIT_WINDOW_MS: '0', LIMIT_LEXICON_PER_MINUTE: '60' },
    });
    const run = (document: string) =>
      gw.query(document).then((result) => {
        expect(result.errors).toBeUndefined();
        return Object.values(result.data!)[0] as Record<string, unknown>;
      });
    expect(
      await run(
        `mutation { createEventDefinition(input: { name: "Checkout", description: "Paid", displayName: "Check-out" }) { __typename ... on EventDefinition { description displayName } } }`,
      ),
    ).toEqual({
      __typename: 'EventDefinition',
      description: 'Paid',
      displayName: 'Check-out',
    });
    expect(await run(`mutation { createEventDefinition(input: { name: "Checkout" }) { __typename ... on InvalidArgumentError { argument } } }`)).toEqual({
      __typename: 'InvalidArgumentError',
      argument: 'name',
    });
    expect(
      await run(
        `mutation { createPropertyDefinition(input: { event: "Checkout", name: "amount", type: NUMBER, description: "EUR" }) { __typename ... on PropertyDefinition { name type description } } }`,
      ),
    ).toEqual({
      __typename: 'PropertyDefinition',
      name: 'amount',
      type: 'NUMBER',
      description: 'EUR',
    });
    expect(
      await run(
        `mutation { updateEventDefinition(input: { name: "Checkout", displayName: null, hidden: true }) { __typename ... on EventDefinition { displayName hidden description properties { name } } } }`,
      ),
    ).toEqual({
      __typename: 'EventDefinition',
      displayName: null,
      hidden: true,
      description: 'Paid',
      properties: [{ name: 'amount' }],
    });
    expect(
      await run(`mutation { updatePropertyDefinition(input: { name: "nope", description: "x" }) { __typename ... on NotFoundError { entity } } }`),
    ).toEqual({ __typename: 'NotFoundError', entity: 'PropertyDefinition' });
    expect(
      await run(`mutation { deletePropertyDefinition(event: "Checkout", name: "amount") { __typename ... on DeletedDefinition { name event } } }`),
    ).toEqual({
      __typename: 'DeletedDefinition',
      name: 'amount',
      event: 'Checkout',
    });
    expect(await run(`mutation { deleteEventDefinition(name: "Checkout") { __typename ... on DeletedDefinition { name } } }`)).toEqual({
      __typename: 'DeletedDefinition',
      name: 'Checkout',
    });
    expect(await run(`mutation { deleteEventDefinition(name: "Checkout") { __typename ... on NotFoundError { entity } } }`)).toEqual({
      __typename: 'NotFoundError',
      entity: 'EventDefinition',
    });
    expect(lexiconCalls(gw).filter((call) => call.status === 429)).toHaveLength(0);
  });

  it('refuses an edit that cannot fit the 4,000 updates a minute before its deadline, with retryAfterSeconds, instead of collecting a 429', async () => {
    const emulator = await createEmulator({ size: 'small' });
    const properties = Object.fromEntries(Array.from({ length: 2_600 }, (_, i) => [`p${i}`, { type: 'string' as const }]));
    emulator.data().lexicon.set('event:Wide', { entityType: 'event', name: 'Wide', schemaJson: { properties } });
    const gw = await createTestApp({ emulator, env: { LEXICON_EDIT_WINDOW_MS: '0' } });
    try {
      const edit = (description: string) =>
        gw.query(`mutation { updateEventDefinition(input: { name: "Wide", description: "${description}" }) {
          __typename ... on EventDefinition { description } ... on RateLimitedError { family retryAfterSeconds } } }`);
      expect((await edit('first')).data!['updateEventDefinition']).toEqual({ __typename: 'EventDefinition', description: 'first' });
      // 2,601 more updates would make 5,202 in the minute.
      const second = (await edit('second')).data!['updateEventDefinition'];
      expect(second).toMatchObject({ __typename: 'RateLimitedError', family: 'LEXICON' });
      expect(second.retryAfterSeconds).toBeGreaterThan(50);
      expect(second.retryAfterSeconds).toBeLessThanOrEqual(61);
      expect(lexiconCalls(gw).filter((call) => call.method === 'POST')).toHaveLength(1);
      expect(lexiconCalls(gw).filter((call) => call.status === 429)).toHaveLength(0);
    } finally {
      await gw.close();
      await emulator.close();
    }
  });
});

describe('annotations', () => {
  it('creates an annotation with tags by name, updates, lists and deletes it', async () => {
    const gw = await createTestApp();
    const created =
      await gw.query(`mutation { createAnnotation(input: { date: "2024-03-01T10:00:00Z", description: "Release 2.0", tags: ["release", "web"] }, idempotencyKey: "ann-1") {
      __typename ... on Annotation { id tags { name } } } }`);
    const annotation = created.data!['createAnnotation'];
    expect(annotation.tags.map((tag: { name: string }) => tag.name).sort()).toEqual(['release', 'web']);
    // A replay creates nothing more.
    const replay = await gw.query(
      `mutation { createAnnotation(input: { date: "2024-03-01T10:00:00Z", description: "Release 2.0", tags: ["release", "web"] }, idempotencyKey: "ann-1") { ... on Annotation { id } } }`,
    );
    expect(replay.data!['createAnnotation'].id).toBe(annotation.id);
    expect(gw.emulator.callLog.filter((entry) => entry.method === 'POST' && entry.path.endsWith('/annotations'))).toHaveLength(1);

    const updated = await gw.query(`mutation { updateAnnotation(id: "${annotation.id}", input: { description: "Release 2.0.1", tags: ["release"] }) {
      __typename ... on Annotation { description tags { name } } } }`);
    expect(updated.data!['updateAnnotation']).toEqual({ __typename: 'Annotation', description: 'Release 2.0.1', tags: [{ name: 'release' }] });
    const tags = await gw.query(`{ annotationTags { ... on AnnotationTagConnection { nodes { name hasAnnotations } } } }`);
    expect(tags.data!['annotationTags'].nodes).toEqual(
      expect.arrayContaining([
        { name: 'release', hasAnnotations: true },
        { name: 'web', hasAnnotations: false },
      ]),
    );

    const deleted = await gw.query(`mutation { deleteAnnotation(id: "${annotation.id}") { __typename ... on DeletedAnnotation { id } } }`);
    expect(deleted.data!['deleteAnnotation']).toEqual({ __typename: 'DeletedAnnotation', id: annotation.id });
    const again = await gw.query(`mutation { deleteAnnotation(id: "${annotation.id}") { __typename ... on NotFoundError { entity } } }`);
    expect(again.data!['deleteAnnotation']).toEqual({ __typename: 'NotFoundError', entity: 'Annotation' });
    const list = await gw.query(`{ annotations { ... on AnnotationConnection { nodes { id } } } }`);
    expect(list.data!['annotations'].nodes.map((a: { id: string }) => a.id)).not.toContain(annotation.id);
  });
});

describe('idempotency across instances', () => {
  it('replays on a second gateway sharing Redis what the first one sent, without sending it again', async () => {
    if (await redisSkip('the two-instance idempotency test')) return;
    const prefix = `test:writes:${randomUUID()}:`;
    const emulator = await createEmulator({ size: 'small' });
    const env = { REDIS_URL: `redis://${REDIS.host}:${REDIS.port}`, MEMBERSHIP_STORE: 'redis', REDIS_KEY_PREFIX: prefix };
    const [a, b] = await Promise.all([createTestApp({ emulator, env }), createTestApp({ emulator, env })]);
    try {
      const batch = events(5, 'Two Instances', 'i');
      const first = await a.query(IMPORT, { events: batch, key: 'shared-key' });
      expect(first.data!['importEvents']).toMatchObject({ imported: 5 });
      const replay = await b.query(IMPORT, { events: batch, key: 'shared-key' });
      expect(replay.data!['importEvents']).toEqual(first.data!['importEvents']);
      expect(emulator.calls('/import')).toBe(1);
      const conflict = await b.query(IMPORT, { events: batch.slice(1), key: 'shared-key' });
      expect(conflict.data!['importEvents'].__typename).toBe('IdempotencyConflictError');
    } finally {
      await a.close();
      await b.close();
      await emulator.close();
      const redis = new Redis({ ...REDIS, maxRetriesPerRequest: 1 });
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    }
  });
});
