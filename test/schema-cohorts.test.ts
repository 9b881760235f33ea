import { createClient } from 'graphql-ws';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createSchemaApp, restEngageAll, restQuery, startSchemaGateway } from './helpers/schema.js';
import { WEBHOOK_AUTHORIZATION, type GatewayUnderTest, type GraphQLResponse } from './helpers/gateway.js';

interface CohortRecord {
  id: number;
  name: string;
  description: string;
  count: number;
  is_visible: number;
  created: string;
  project_id: number;
}

let sessions = 0;

/** Sends one cohort-sync webhook page, as Mixpanel does. */
async function webhook(
  gw: GatewayUnderTest,
  action: 'members' | 'add_members' | 'remove_members',
  cohort: CohortRecord,
  members: { id: string; email: string }[],
) {
  sessions += 1;
  const response = await gw.fetch('/webhooks/mixpanel/cohorts', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: WEBHOOK_AUTHORIZATION },
    body: JSON.stringify({
      action,
      parameters: {
        mixpanel_project_id: '1000001',
        mixpanel_cohort_id: String(cohort.id),
        mixpanel_cohort_name: cohort.name,
        mixpanel_cohort_description: cohort.description,
        mixpanel_session_id: `session-${sessions}`,
        page_info: { total_pages: 1, page_count: 1 },
        members: members.map((m) => ({ mixpanel_distinct_id: m.id, email: m.email, first_name: 'Synced' })),
      },
    }),
  });
  expect(response.status).toBe(200);
}

const MEMBERS_PAGE = `
  query Members($id: ID!, $first: Int, $after: String) {
    cohort(id: $id) { __typename ... on Cohort {
      sync { source memberCount sessionId lastSyncAt }
      members(first: $first, after: $after) { __typename
        ... on ProfileConnection { totalCount pageInfo { hasNextPage endCursor } edges { node { distinctId email firstName } } }
        ... on Error { message code } }
    } }
  }`;

describe('cohorts', () => {
  it('lists cohorts as Mixpanel does, finds one by id, and reports unknown and malformed ids', async () => {
    const gw = await createSchemaApp();
    const records = await restQuery<CohortRecord[]>(gw.emulator, 'cohorts/list');
    const result = await gw.query(
      `query($id: ID!) {
      cohorts { ... on CohortConnection { nodes { id name description count isVisible projectId createdAt sync { source } } } }
      one: cohort(id: $id) { __typename ... on Cohort { id name count } }
      missing: cohort(id: "999999") { __typename ... on NotFoundError { entity id } }
      malformed: cohort(id: "abc") { __typename ... on InvalidArgumentError { argument } }
    }`,
      { id: String(records[1]!.id) },
    );
    expect(result.data!['cohorts'].nodes).toEqual(
      records.map((r) => ({
        id: String(r.id),
        name: r.name,
        description: r.description,
        count: r.count,
        isVisible: r.is_visible === 1,
        projectId: String(r.project_id),
        createdAt: new Date(`${r.created.replace(' ', 'T')}Z`).toISOString(),
        sync: { source: 'API' },
      })),
    );
    expect(result.data!['one']).toEqual({ __typename: 'Cohort', id: String(records[1]!.id), name: records[1]!.name, count: records[1]!.count });
    expect(result.data!['missing']).toEqual({ __typename: 'NotFoundError', entity: 'Cohort', id: '999999' });
    expect(result.data!['malformed']).toEqual({ __typename: 'InvalidArgumentError', argument: 'id' });
    expect(gw.emulator.calls('/api/query/cohorts/list')).toBe(2); // the test's own call and the gateway's one
  });

  it('pages members of an unsynced cohort through engage filter_by_cohort', async () => {
    const gw = await createSchemaApp();
    const records = await restQuery<CohortRecord[]>(gw.emulator, 'cohorts/list');
    const cohort = records.find((r) => r.count > 100)!;
    const expected = (await restEngageAll(gw.emulator, { filter_by_cohort: JSON.stringify({ id: cohort.id }) })).map((p) => String(p.$distinct_id));
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const result: GraphQLResponse = await gw.query(MEMBERS_PAGE, { id: String(cohort.id), first: 40, after });
      const members = result.data!['cohort'].members;
      expect(members.totalCount).toBe(expected.length);
      seen.push(...members.edges.map((e: { node: { distinctId: string } }) => e.node.distinctId));
      if (!members.pageInfo.hasNextPage) break;
      after = members.pageInfo.endCursor;
    }
    expect(seen).toEqual(expected);
  });

  it('serves a webhook-synced cohort from the membership store, and profiles resolve the rest on demand', async () => {
    const gw = await createSchemaApp();
    const [cohort] = await restQuery<CohortRecord[]>(gw.emulator, 'cohorts/list');
    const profiles = (await restEngageAll(gw.emulator)).slice(0, 3);
    const members = profiles.slice(0, 2).map((p) => ({ id: String(p.$distinct_id), email: `synced-${String(p.$distinct_id)}@example.com` }));
    await webhook(gw, 'members', cohort!, members);

    gw.emulator.resetCalls();
    const result = await gw.query(MEMBERS_PAGE, { id: String(cohort!.id), first: 10 });
    const synced = result.data!['cohort'];
    expect(synced.sync).toMatchObject({ source: 'WEBHOOK', memberCount: 2, sessionId: `session-${sessions}` });
    expect(Date.parse(synced.sync.lastSyncAt)).toBeGreaterThan(0);
    expect(synced.members.totalCount).toBe(2);
    expect(synced.members.edges.map((e: { node: unknown }) => e.node)).toEqual(
      [...members].sort((a, b) => a.id.localeCompare(b.id)).map((m) => ({ distinctId: m.id, email: m.email, firstName: 'Synced' })),
    );
    expect(gw.emulator.calls('/api/query/engage')).toBe(0);

    // A property the webhook did not carry loads the full profile (one batched engage call for both).
    const withCity = await gw.query(
      `query($id: ID!) { cohort(id: $id) { ... on Cohort { members { ... on ProfileConnection { edges { node { distinctId city } } } } } } }`,
      {
        id: String(cohort!.id),
      },
    );
    const cities = Object.fromEntries(profiles.map((p) => [String(p.$distinct_id), p.$properties['$city'] ?? null]));
    for (const edge of withCity.data!['cohort'].members.edges) expect(edge.node.city).toBe(cities[edge.node.distinctId]);
    expect(gw.emulator.calls('/api/query/engage')).toBe(1);

    // Profile.cohorts reads the synced cohort from the store: member yes, non-member no.
    const memberships = await gw.query(
      `query($a: ID!, $b: ID!, $c: ID!) {
      a: profile(distinctId: $a) { ... on Profile { cohorts(among: [$c]) { ... on CohortConnection { nodes { id } } } } }
      b: profile(distinctId: $b) { ... on Profile { cohorts(among: [$c]) { ... on CohortConnection { nodes { id } } } } }
    }`,
      { a: members[0]!.id, b: String(profiles[2]!.$distinct_id), c: String(cohort!.id) },
    );
    expect(memberships.data!['a'].cohorts.nodes).toEqual([{ id: String(cohort!.id) }]);
    expect(memberships.data!['b'].cohorts.nodes).toEqual([]);
    // An id with leading zeros names the same cohort.
    const padded = await gw.query(
      `query($a: ID!, $c: ID!) {
      a: profile(distinctId: $a) { ... on Profile { cohorts(among: [$c]) { ... on CohortConnection { nodes { id } } } } }
    }`,
      { a: members[0]!.id, c: `00${cohort!.id}` },
    );
    expect(padded.data!['a'].cohorts.nodes).toEqual([{ id: String(cohort!.id) }]);
  });

  it('streams applied membership changes to subscribers of that cohort', async () => {
    const gw = await startSchemaGateway();
    const [cohort, other] = await restQuery<CohortRecord[]>(gw.emulator, 'cohorts/list');
    const profiles = await restEngageAll(gw.emulator);
    const client = createClient({ url: gw.graphqlUrl.replace('http', 'ws'), webSocketImpl: WebSocket, retryAttempts: 0, lazy: false });
    const received: Record<string, any>[] = [];
    const done = new Promise<void>((resolve, reject) => {
      client.subscribe(
        {
          query: `subscription($ids: [ID!]) { cohortMembershipChanged(cohortIds: $ids) {
            cohortId kind page totalPages sessionId members { distinctId email city } cohort { name }
          } }`,
          // Leading zeros name the same cohort.
          variables: { ids: [`0${cohort!.id}`] },
        },
        {
          next: (value) => {
            received.push(value as Record<string, any>);
            resolve();
          },
          error: reject,
          complete: () => resolve(),
        },
      );
    });
    try {
      // The subscription registers asynchronously: keep adding members until the first change arrives.
      for (let i = 0; received.length === 0 && i < 50; i += 1) {
        await webhook(gw, 'add_members', other!, [{ id: String(profiles[i]!.$distinct_id), email: 'ignored@example.com' }]);
        await webhook(gw, 'add_members', cohort!, [{ id: String(profiles[i]!.$distinct_id), email: `added-${i}@example.com` }]);
        await Promise.race([done, new Promise((r) => setTimeout(r, 50))]);
      }
      await done;
      const change = received[0]!['data']['cohortMembershipChanged'];
      const index = Number(/added-(\d+)@/.exec(change.members[0].email)![1]);
      expect(change).toMatchObject({ cohortId: String(cohort!.id), kind: 'ADDED', page: 1, totalPages: 1, cohort: { name: cohort!.name } });
      expect(change.members).toEqual([
        { distinctId: String(profiles[index]!.$distinct_id), email: `added-${index}@example.com`, city: profiles[index]!.$properties['$city'] ?? null },
      ]);
    } finally {
      await client.dispose();
    }
  });
});
