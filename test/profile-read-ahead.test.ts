/**
 * Read-ahead of the whole user-profile listing, over HTTP against the
 * emulator with Mixpanel's documented limits: the first profile that misses
 * the entity cache lists every profile in engage pages of 1,000 (session
 * paging, all properties), and the profile pages that follow cost nothing;
 * page 0's `total` and the budget decide whether the listing goes on.
 * Upstream calls are counted in the emulator's call log.
 */
import { describe, expect, it } from 'vitest';
import type { CallLogEntry, Emulator } from '../src/emulator/server.js';
import { createTestApp } from './helpers/app.js';

/** 2,500 profiles: three engage pages. */
const SIZE = { profiles: 2_500, events: 2_000, days: 7, groups: 5 } as const;

const engageCalls = (emulator: Emulator): CallLogEntry[] => emulator.callLog.filter((entry) => entry.path === '/api/query/engage');
const listingPages = (emulator: Emulator): string[] =>
  engageCalls(emulator)
    .filter(
      (entry) =>
        entry.params['distinct_ids'] === undefined && entry.params['filter_by_cohort'] === undefined && entry.params['output_properties'] === undefined,
    )
    .map((entry) => entry.params['page'] ?? '0');
const byIdCalls = (emulator: Emulator): CallLogEntry[] => engageCalls(emulator).filter((entry) => entry.params['distinct_ids'] !== undefined);

const profilesQuery = (ids: readonly string[]): string =>
  `{ ${ids.map((id, k) => `p${k}: profile(distinctId: ${JSON.stringify(id)}) { __typename ... on Profile { distinctId email } ... on Error { code } }`).join('\n')} }`;

describe('profile read-ahead', () => {
  it('lists every profile in whole engage pages on the first miss; later profile pages cost no call', async () => {
    const gw = await createTestApp({ emulatorOptions: { size: SIZE } });
    const ids = [...gw.emulator.data().profiles.keys()].map(String);
    expect(ids).toHaveLength(2_500);

    const first = await gw.query(profilesQuery([ids[1_234]!]));
    expect(first.data!['p0']).toEqual({ __typename: 'Profile', distinctId: ids[1_234], email: expect.any(String) });
    // Page 0, then pages 1 and 2 of its session: the whole listing, no read by id.
    expect(listingPages(gw.emulator)).toEqual(['0', '1', '2']);
    expect(
      engageCalls(gw.emulator)
        .filter((entry) => entry.params['page'] !== undefined && entry.params['page'] !== '0')
        .every((entry) => entry.params['session_id'] !== undefined),
    ).toBe(true);
    expect(byIdCalls(gw.emulator)).toEqual([]);

    // 100 requests for 100 other profiles, and one for an id Mixpanel does not know: no call at all.
    const others = ids.filter((_, k) => k % 25 === 0).slice(0, 100);
    const results = await Promise.all([...others.map((id) => gw.query(profilesQuery([id]))), gw.query(profilesQuery(['nobody-has-this-id']))]);
    expect(results.slice(0, 100).map((result) => result.data!['p0'].distinctId)).toEqual(others);
    expect(results[100]!.data!['p0']).toEqual({ __typename: 'NotFoundError', code: 'NOT_FOUND' });
    expect(engageCalls(gw.emulator)).toHaveLength(3);
  });

  it('stops after page 0 when the listing would take more pages than allowed, and reads the rest by id', async () => {
    const gw = await createTestApp({ emulatorOptions: { size: SIZE }, env: { PROFILE_READ_AHEAD_MAX_PAGES: '2' } });
    const ids = [...gw.emulator.data().profiles.keys()].map(String);
    const all = await gw.query(profilesQuery(ids.filter((_, k) => k % 50 === 0)));
    expect(Object.values(all.data!).every((profile) => profile.__typename === 'Profile')).toBe(true);
    expect(listingPages(gw.emulator)).toEqual(['0']);
    // What page 0 did not bring went out in one merged read by id.
    expect(byIdCalls(gw.emulator)).toHaveLength(1);
    expect(engageCalls(gw.emulator)).toHaveLength(2);
  });

  it('does not list ahead when the budget cannot spare the pages', async () => {
    // 3 calls an hour: half of what is left is at most 1 call, fewer than the 2 pages left after page 0.
    const gw = await createTestApp({ emulatorOptions: { size: SIZE }, env: { LIMIT_QUERY_PER_HOUR: '3' } });
    const ids = [...gw.emulator.data().profiles.keys()].map(String);
    await gw.query(profilesQuery([ids[0]!]));
    await gw.query(profilesQuery([ids[0]!, ids[2_000]!]));
    expect(listingPages(gw.emulator)).toEqual(['0']);
  });

  it('is off with cross-request merging, and with PROFILE_READ_AHEAD_MAX_PAGES=0', async () => {
    for (const env of [{ COALESCE: 'off' }, { PROFILE_READ_AHEAD_MAX_PAGES: '0' }] as Record<string, string>[]) {
      const gw = await createTestApp({ emulatorOptions: { size: SIZE }, env });
      const ids = [...gw.emulator.data().profiles.keys()].map(String);
      const result = await gw.query(profilesQuery([ids[7]!]));
      expect(result.data!['p0'].distinctId).toBe(ids[7]);
      expect({ env, listing: listingPages(gw.emulator), byId: byIdCalls(gw.emulator).length }).toEqual({ env, listing: [], byId: 1 });
      await gw.close();
    }
  });
});
