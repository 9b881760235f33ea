/**
 * The baseline of bench/dashboard.ts: a GraphQL server answering the same
 * dashboard documents (the same type and field names, as far as the
 * dashboard selects them) the way a first implementation would: every
 * resolver makes its own REST call through the real Mixpanel client, with no
 * cache, no budget, no loaders and no retry.
 *
 * What each field costs:
 * - `profiles(first)`: one engage call.
 * - `Profile.cohorts`: one cohorts/list call, then one engage
 *   `filter_by_cohort` + `distinct_id` call per cohort (in parallel), per profile.
 * - `lexicon.events`: one Lexicon list call; `EventDefinition.description`:
 *   one Lexicon get call per event.
 * - `cohorts`: one cohorts/list call. `segmentation`: one segmentation call.
 * - `profile(distinctId)`: one engage call with `distinct_id`.
 * - `cohort(id)`: one cohorts/list call; `Cohort.members`: one engage
 *   `filter_by_cohort` call. `lexicon.eventDefinition`: one Lexicon get call.
 * A failed call fails its field: the error goes to `errors` with the client
 * error's `code` in `extensions.code` (e.g. MIXPANEL_RATE_LIMITED).
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GraphQLError } from 'graphql';
import { createSchema, createYoga } from 'graphql-yoga';
import { createMixpanelClient } from '../src/mixpanel/client.js';
import { MixpanelError } from '../src/mixpanel/errors.js';
import type { BaseUrls, EngageProfile, MixpanelClient } from '../src/mixpanel/types.js';
import { Secret } from '../src/core/secret.js';

export interface NaiveGatewayOptions {
  readonly baseUrls: BaseUrls;
  readonly projectId: string;
  readonly serviceAccount: { readonly username: string; readonly secret: string };
}

export interface NaiveGateway {
  readonly graphqlUrl: string;
  close(): Promise<void>;
}

const typeDefs = /* GraphQL */ `
  scalar Date
  interface Error { code: String! message: String! }
  type RateLimitedError implements Error { code: String! message: String! }
  type NotFoundError implements Error { code: String! message: String! }
  type Cohort { id: ID! name: String! description: String count: Int members(first: Int): CohortMembersResult }
  union CohortMembersResult = ProfileConnection | RateLimitedError
  union CohortResult = Cohort | NotFoundError | RateLimitedError
  union ProfileResult = Profile | NotFoundError | RateLimitedError
  type CohortConnection { nodes: [Cohort!]! totalCount: Int! }
  union ProfileCohortsResult = CohortConnection | RateLimitedError
  type Profile { distinctId: ID! email: String name: String city: String cohorts: ProfileCohortsResult }
  type ProfileEdge { cursor: String! node: Profile! }
  type ProfileConnection { edges: [ProfileEdge!]! nodes: [Profile!]! totalCount: Int }
  union ProfilesResult = ProfileConnection | RateLimitedError
  type EventDefinition { name: String! description: String }
  type EventDefinitionConnection { nodes: [EventDefinition!]! totalCount: Int! }
  union LexiconEventsResult = EventDefinitionConnection | RateLimitedError
  union LexiconEventDefinitionResult = EventDefinition | NotFoundError | RateLimitedError
  type Lexicon { events: LexiconEventsResult eventDefinition(name: String!): LexiconEventDefinitionResult }
  union CohortsResult = CohortConnection | RateLimitedError
  type Point { date: String! value: Float! }
  type Segment { name: String! total: Float! points: [Point!]! }
  type Series { series: [String!]! segments: [Segment!]! }
  union SegmentationResult = Series | RateLimitedError
  type Query {
    profiles(first: Int): ProfilesResult
    profile(distinctId: ID!): ProfileResult
    cohort(id: ID!): CohortResult
    cohorts: CohortsResult
    lexicon: Lexicon!
    segmentation(event: String!, from: Date!, to: Date!): SegmentationResult
  }
`;

/** Runs one REST call; a client error becomes a GraphQL error carrying its code. */
async function rest<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof MixpanelError) throw new GraphQLError(error.message, { extensions: { code: error.code } });
    throw error;
  }
}

/** A whole list as the gateway answers it: a connection with `nodes` and `totalCount`. */
const nodesOf = <T>(typename: string, nodes: readonly T[]) => ({ __typename: typename, nodes, totalCount: nodes.length });

function createResolvers(client: MixpanelClient) {
  const property = (profile: EngageProfile, name: string) => {
    const value = profile.$properties[name];
    return typeof value === 'string' ? value : null;
  };
  return {
    Query: {
      profiles: async (_: unknown, args: { first?: number | null }) => {
        const page = await rest(() => client.engage({ pageSize: args.first ?? 50 }));
        return {
          __typename: 'ProfileConnection',
          totalCount: page.total ?? null,
          edges: page.results.map((node) => ({ cursor: node.$distinct_id, node })),
          nodes: page.results,
        };
      },
      profile: async (_: unknown, args: { distinctId: string }) => {
        const page = await rest(() => client.engage({ distinctId: args.distinctId }));
        const found = page.results[0];
        return found
          ? { __typename: 'Profile', ...found }
          : { __typename: 'NotFoundError', code: 'NOT_FOUND', message: `Profile ${args.distinctId} was not found` };
      },
      cohort: async (_: unknown, args: { id: string }) => {
        const found = (await rest(() => client.cohortsList())).find((cohort) => String(cohort.id) === args.id);
        return found ? { __typename: 'Cohort', ...found } : { __typename: 'NotFoundError', code: 'NOT_FOUND', message: `Cohort ${args.id} was not found` };
      },
      cohorts: async () => nodesOf('CohortConnection', await rest(() => client.cohortsList())),
      lexicon: () => ({}),
      segmentation: async (_: unknown, args: { event: string; from: string; to: string }) => {
        const response = await rest(() => client.segmentation({ event: args.event, fromDate: args.from, toDate: args.to, unit: 'day' }));
        const { series, values } = response.data;
        const segments = Object.entries(values).map(([name, byDate]) => {
          const points = series.map((date) => ({ date, value: byDate[date] ?? 0 }));
          return { name, points, total: points.reduce((sum, point) => sum + point.value, 0) };
        });
        return { __typename: 'Series', series, segments };
      },
    },
    Cohort: {
      members: async (cohort: { id: number }, args: { first?: number | null }) => {
        const page = await rest(() => client.engage({ filterByCohort: cohort.id }));
        const edges = page.results.slice(0, args.first ?? 50).map((node) => ({ cursor: node.$distinct_id, node }));
        return { __typename: 'ProfileConnection', totalCount: page.total ?? null, edges, nodes: edges.map((edge) => edge.node) };
      },
    },
    Profile: {
      distinctId: (profile: EngageProfile) => profile.$distinct_id,
      email: (profile: EngageProfile) => property(profile, '$email'),
      name: (profile: EngageProfile) => property(profile, '$name'),
      city: (profile: EngageProfile) => property(profile, '$city'),
      cohorts: async (profile: EngageProfile) => {
        const cohorts = await rest(() => client.cohortsList());
        const pages = await Promise.all(cohorts.map((cohort) => rest(() => client.engage({ filterByCohort: cohort.id, distinctId: profile.$distinct_id }))));
        return nodesOf(
          'CohortConnection',
          cohorts.filter((_, k) => (pages[k]?.results.length ?? 0) > 0),
        );
      },
    },
    Lexicon: {
      events: async () => nodesOf('EventDefinitionConnection', await rest(() => client.lexiconList('event'))),
      eventDefinition: async (_: unknown, args: { name: string }) => {
        const schema = await rest(() => client.lexiconGet('event', args.name));
        return { __typename: 'EventDefinition', name: args.name, description: schema.description ?? null };
      },
    },
    EventDefinition: {
      description: async (entry: { name: string; description?: string | null }) =>
        'description' in entry ? (entry.description ?? null) : ((await rest(() => client.lexiconGet('event', entry.name))).description ?? null),
    },
  };
}

export async function startNaiveGateway(options: NaiveGatewayOptions): Promise<NaiveGateway> {
  const client = createMixpanelClient({
    projectId: options.projectId,
    serviceAccount: { username: options.serviceAccount.username, secret: new Secret(options.serviceAccount.secret) },
    baseUrls: options.baseUrls,
    integrationId: 'naive-baseline',
  });
  const yoga = createYoga({
    schema: createSchema({ typeDefs, resolvers: createResolvers(client) }),
    maskedErrors: false,
    logging: false,
    landingPage: false,
    graphiql: false,
  });
  const server: Server = createServer(yoga);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    graphqlUrl: `http://127.0.0.1:${port}${yoga.graphqlEndpoint}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await client.close();
    },
  };
}
