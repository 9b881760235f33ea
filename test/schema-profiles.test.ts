import { describe, expect, it } from 'vitest';
import type { GraphQLResponse } from './helpers/gateway.js';
import { day, createSchemaApp, restEngageAll, restQuery } from './helpers/schema.js';

const PROFILES_PAGE = `
  query Page($first: Int, $after: String, $where: String, $cohortId: ID) {
    profiles(first: $first, after: $after, where: $where, cohortId: $cohortId) {
      __typename
      ... on ProfileConnection { totalCount pageInfo { hasNextPage hasPreviousPage endCursor } edges { cursor node { distinctId email } } }
      ... on Error { message code }
      ... on InvalidArgumentError { argument }
    }
  }`;

describe('profiles', () => {
  it('pages through every profile exactly once, as engage lists them', async () => {
    const gw = await createSchemaApp();
    const expected = await restEngageAll(gw.emulator);
    const seen: string[] = [];
    let after: string | null = null;
    let pages = 0;
    for (;;) {
      const result: GraphQLResponse = await gw.query(PROFILES_PAGE, { first: 200, after });
      const connection = result.data!['profiles'];
      expect(connection.__typename).toBe('ProfileConnection');
      expect(connection.totalCount).toBe(expected.length);
      expect(connection.pageInfo.hasPreviousPage).toBe(after !== null);
      seen.push(...connection.edges.map((e: { node: { distinctId: string } }) => e.node.distinctId));
      pages += 1;
      if (!connection.pageInfo.hasNextPage) break;
      after = connection.pageInfo.endCursor;
    }
    expect(pages).toBe(Math.ceil(expected.length / 200));
    expect(seen).toEqual(expected.map((p) => String(p.$distinct_id)));
  });

  it('filters with where and by cohort like engage does, and returns an empty page when nothing matches', async () => {
    const gw = await createSchemaApp();
    const where = 'properties["$country_code"] == "DE"';
    const [cohort] = await restQuery<{ id: number }[]>(gw.emulator, 'cohorts/list');
    const byWhere = await gw.query(PROFILES_PAGE, { first: 1000, where });
    const expectedWhere = await restEngageAll(gw.emulator, { where });
    expect(byWhere.data!['profiles'].edges.map((e: { node: { distinctId: string } }) => e.node.distinctId)).toEqual(
      expectedWhere.map((p) => String(p.$distinct_id)),
    );
    expect(expectedWhere.length).toBeGreaterThan(0);

    const byCohort = await gw.query(PROFILES_PAGE, { first: 1000, cohortId: String(cohort!.id) });
    const expectedCohort = await restEngageAll(gw.emulator, { filter_by_cohort: JSON.stringify({ id: cohort!.id }) });
    expect(new Set(byCohort.data!['profiles'].edges.map((e: { node: { distinctId: string } }) => e.node.distinctId))).toEqual(
      new Set(expectedCohort.map((p) => String(p.$distinct_id))),
    );

    const none = await gw.query(PROFILES_PAGE, { where: 'properties["$country_code"] == "XX"' });
    expect(none.data!['profiles'].edges).toEqual([]);
    expect(none.data!['profiles'].pageInfo.hasNextPage).toBe(false);
  });

  it('refuses bad arguments before any upstream call', async () => {
    const gw = await createSchemaApp();
    for (const [variables, argument] of [
      [{ first: 0 }, 'first'],
      [{ first: 1001 }, 'first'],
      [{ after: 'not-a-cursor' }, 'after'],
      [{ where: '   ' }, 'where'],
      [{ cohortId: 'abc' }, 'cohortId'],
    ] as const) {
      const result = await gw.query(PROFILES_PAGE, variables);
      expect(result.data!['profiles']).toMatchObject({ __typename: 'InvalidArgumentError', code: 'INVALID_ARGUMENT', argument });
    }
    expect(gw.emulator.calls('/api/query')).toBe(0);
  });

  it('refuses a forged cursor and a cursor of another query, before any upstream call', async () => {
    const gw = await createSchemaApp();
    const where = 'properties["$country_code"] == "DE"';
    const page = await gw.query(PROFILES_PAGE, { first: 1, where });
    const endCursor = page.data!['profiles'].pageInfo.endCursor as string;
    const tag = (JSON.parse(Buffer.from(endCursor, 'base64url').toString('utf8')) as { t: string }).t;
    const forged = Buffer.from(JSON.stringify({ t: tag, p: 3, i: 0 }), 'utf8').toString('base64url');
    gw.emulator.resetCalls();
    for (const variables of [
      { first: 1, after: endCursor },
      { first: 1, after: endCursor, where: 'properties["$country_code"] == "FR"' },
      { where, after: forged },
    ]) {
      const result = await gw.query(PROFILES_PAGE, variables);
      expect(result.data!['profiles']).toMatchObject({ __typename: 'InvalidArgumentError', code: 'INVALID_ARGUMENT', argument: 'after' });
    }
    expect(gw.emulator.calls('/api/query')).toBe(0);
  });

  it('reports a where-expression Mixpanel refuses in errors with MIXPANEL_BAD_REQUEST, without sinking the other fields', async () => {
    const gw = await createSchemaApp();
    const result = await gw.query(`{
      bad: profiles(where: "properties[") { __typename }
      project { id }
    }`);
    expect(result.data!['bad']).toBeNull();
    expect(result.errors).toHaveLength(1);
    expect(result.errors![0]).toMatchObject({ path: ['bad'], extensions: { code: 'MIXPANEL_BAD_REQUEST' } });
    expect(result.data!['project'].id).toBe('1000001');
  });

  it('serves profile(distinctId) with typed properties equal to engage, and NotFoundError for an unknown id', async () => {
    const gw = await createSchemaApp();
    const [first] = await restEngageAll(gw.emulator);
    const id = String(first!.$distinct_id);
    const props = first!.$properties;
    gw.emulator.resetCalls();
    const result = await gw.query(
      `query($id: ID!) {
        a: profile(distinctId: $id) { __typename ... on Profile { distinctId email firstName lastName city country properties property(name: "$email") } }
        b: profile(distinctId: "no-such-user") { __typename ... on NotFoundError { entity id message } }
      }`,
      { id },
    );
    expect(result.data!['a']).toMatchObject({
      __typename: 'Profile',
      distinctId: id,
      email: props['$email'],
      firstName: props['$first_name'] ?? null,
      lastName: props['$last_name'] ?? null,
      city: props['$city'] ?? null,
      country: props['$country_code'] ?? null,
      property: props['$email'],
    });
    expect(result.data!['a'].properties).toEqual(props);
    expect(result.data!['b']).toMatchObject({ __typename: 'NotFoundError', entity: 'Profile', id: 'no-such-user' });
    // Both lookups went out as one batched engage call.
    expect(gw.emulator.calls('/api/query/engage')).toBe(1);
  });

  it('loads a group profile by group key', async () => {
    const gw = await createSchemaApp();
    const [company] = await restEngageAll(gw.emulator, { data_group_id: 'company' });
    const result = await gw.query(
      `query($id: ID!) { groupProfile(groupKey: "company", groupId: $id) { __typename ... on Profile { distinctId groupKey properties } } }`,
      {
        id: String(company!.$distinct_id),
      },
    );
    expect(result.data!['groupProfile']).toEqual({
      __typename: 'Profile',
      distinctId: String(company!.$distinct_id),
      groupKey: 'company',
      properties: company!.$properties,
    });
  });

  it('answers 100 profiles with their cohorts and activity without one call per profile', async () => {
    const gw = await createSchemaApp();
    const from = day(gw.emulator, -6);
    const to = day(gw.emulator);
    const cohorts = await restQuery<{ id: number; count: number }[]>(gw.emulator, 'cohorts/list');
    gw.emulator.resetCalls();
    const result = await gw.query(
      `query($from: Date!, $to: Date!) {
        profiles(first: 100) { ... on ProfileConnection { edges { node {
          distinctId
          cohorts { __typename ... on CohortConnection { nodes { id } } ... on Error { message } }
          activity(from: $from, to: $to) { __typename ... on ActivityConnection { nodes { name time definition { name } } } ... on Error { message } }
        } } } }
      }`,
      { from, to },
    );
    expect(result.errors).toBeUndefined();
    const nodes = result.data!['profiles'].edges.map((e: { node: unknown }) => e.node) as {
      distinctId: string;
      cohorts: { __typename: string; nodes: { id: string }[] };
      activity: { __typename: string; nodes: { name: string; time: string }[] };
    }[];
    expect(nodes).toHaveLength(100);
    const nonEmptyCohorts = cohorts.filter((c) => c.count > 0).length;
    // 1 page of profiles + at most one engage call per non-empty cohort, whatever the number of profiles.
    expect(gw.emulator.calls('/api/query/engage')).toBeLessThanOrEqual(1 + nonEmptyCohorts);
    expect(gw.emulator.calls('/api/query/cohorts/list')).toBe(1);
    expect(gw.emulator.calls('/api/query/stream/query')).toBe(1);
    // At most one schemas call (none when the typed-schema start-up read already filled the cache).
    expect(gw.emulator.calls('/api/app/projects/1000001/schemas')).toBeLessThanOrEqual(1);

    // Membership agrees with engage filter_by_cohort for a sample cohort.
    const sample = cohorts.find((c) => c.count > 0)!;
    const members = new Set((await restEngageAll(gw.emulator, { filter_by_cohort: JSON.stringify({ id: sample.id }) })).map((p) => String(p.$distinct_id)));
    for (const node of nodes) {
      expect(node.cohorts.__typename).toBe('CohortConnection');
      expect(node.cohorts.nodes.some((c) => c.id === String(sample.id))).toBe(members.has(node.distinctId));
    }

    // Activity agrees with /stream/query for a profile that has some.
    const active = nodes.find((n) => n.activity.nodes.length > 0)!;
    expect(active).toBeDefined();
    const stream = await restQuery<{ results: { events: { event: string; properties: { time: number } }[] } }>(gw.emulator, 'stream/query', {
      distinct_ids: JSON.stringify([active.distinctId]),
      from_date: from,
      to_date: to,
    });
    expect(active.activity.nodes.map((e) => [e.name, Date.parse(e.time)])).toEqual(
      stream.results.events.map((e) => [e.event, e.properties.time * 1000]).sort((a, b) => (a[1] as number) - (b[1] as number)),
    );
  });

  it('checks activity dates before calling upstream', async () => {
    const gw = await createSchemaApp();
    const reversed = await gw.query(
      `query($from: Date!, $to: Date!) { profiles(first: 2) { ... on ProfileConnection { edges { node {
        activity(from: $from, to: $to) { __typename ... on InvalidArgumentError { argument } }
      } } } } }`,
      { from: day(gw.emulator), to: day(gw.emulator, -3) },
    );
    for (const edge of reversed.data!['profiles'].edges) expect(edge.node.activity).toEqual({ __typename: 'InvalidArgumentError', argument: 'from' });
    const badDay = await gw.query(
      `{ profiles(first: 1) { ... on ProfileConnection { edges { node { activity(from: "2024-13-01", to: "2024-01-02") { __typename } } } } } }`,
    );
    expect(badDay.errors?.[0]?.message).toMatch(/yyyy-mm-dd/);
    expect(gw.emulator.calls('/api/query/stream/query')).toBe(0);
  });
});
