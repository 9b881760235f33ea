/**
 * Child process of the fan-out bench: the baseline, a plain graphql-ws
 * server (graphql-js schema, graphql-ws `useServer` with its defaults, an
 * in-process pubsub) offering the same `cohortMembershipChanged`
 * subscription, so its subscribers receive the same payload, byte for byte,
 * as the gateway's. It takes the same cohort-sync webhook body on
 * `POST /webhook`, publishes its members and answers at once: no store,
 * no gateway plugins, one execution and one serialisation per subscriber
 * (graphql-ws's way).
 *
 * Messages (IPC): parent -> 'usage' | 'close'; child -> BaselineMessage.
 */
import { createServer, type IncomingMessage } from 'node:http';
import { setMaxListeners } from 'node:events';
import { GraphQLID, GraphQLInt, GraphQLList, GraphQLNonNull, GraphQLObjectType, GraphQLSchema, GraphQLString } from 'graphql';
import { createPubSub, filter, pipe } from 'graphql-yoga';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';

export type BaselineCommand = { readonly type: 'usage' } | { readonly type: 'close' };

export type BaselineMessage =
  | { readonly type: 'ready'; readonly webhookUrl: string; readonly graphqlUrl: string }
  | { readonly type: 'usage'; readonly cpuMicros: number }
  | { readonly type: 'closed' }
  | { readonly type: 'failed'; readonly message: string };

interface Change {
  readonly cohortId: string;
  readonly kind: string;
  readonly sessionId: string;
  readonly page: number;
  readonly totalPages: number;
  readonly members: readonly { readonly distinctId: string; readonly email?: string }[];
}

const send = (message: BaselineMessage) => process.send?.(message);

const target = new EventTarget();
setMaxListeners(0, target);
const pubsub = createPubSub<{ changes: [Change] }>({ eventTarget: target as never });

const Member = new GraphQLObjectType({
  name: 'Profile',
  fields: { distinctId: { type: new GraphQLNonNull(GraphQLString) }, email: { type: GraphQLString } },
});
const CohortMembershipChange = new GraphQLObjectType<Change>({
  name: 'CohortMembershipChange',
  fields: {
    cohortId: { type: new GraphQLNonNull(GraphQLID) },
    kind: { type: new GraphQLNonNull(GraphQLString) },
    sessionId: { type: new GraphQLNonNull(GraphQLString) },
    page: { type: new GraphQLNonNull(GraphQLInt) },
    totalPages: { type: new GraphQLNonNull(GraphQLInt) },
    members: { type: new GraphQLNonNull(new GraphQLList(new GraphQLNonNull(Member))) },
  },
});
const schema = new GraphQLSchema({
  query: new GraphQLObjectType({ name: 'Query', fields: { ok: { type: GraphQLString, resolve: () => 'ok' } } }),
  subscription: new GraphQLObjectType({
    name: 'Subscription',
    fields: {
      cohortMembershipChanged: {
        type: new GraphQLNonNull(CohortMembershipChange),
        args: { cohortIds: { type: new GraphQLList(new GraphQLNonNull(GraphQLID)) } },
        subscribe: (_root, args: { cohortIds?: string[] | null }) => {
          const wanted = args.cohortIds ? new Set(args.cohortIds) : undefined;
          return pipe(
            pubsub.subscribe('changes'),
            filter((change: Change) => !wanted || wanted.has(change.cohortId)),
          );
        },
        resolve: (change: Change) => change,
      },
    },
  }),
});

interface WebhookBody {
  readonly action: string;
  readonly parameters: {
    readonly mixpanel_cohort_id: string;
    readonly mixpanel_session_id: string;
    readonly page_info: { readonly total_pages: number; readonly page_count: number };
    readonly members: readonly { readonly mixpanel_distinct_id: string; readonly email?: string }[];
  };
}

async function readJson(request: IncomingMessage): Promise<WebhookBody> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as WebhookBody;
}

const http = createServer((request, response) => {
  if (request.method !== 'POST' || request.url !== '/webhook') {
    response.writeHead(404).end();
    return;
  }
  readJson(request).then(
    (body) => {
      const { parameters } = body;
      pubsub.publish('changes', {
        cohortId: parameters.mixpanel_cohort_id,
        kind: body.action === 'remove_members' ? 'REMOVED' : 'ADDED',
        sessionId: parameters.mixpanel_session_id,
        page: parameters.page_info.page_count,
        totalPages: parameters.page_info.total_pages,
        members: parameters.members.map((m) => ({ distinctId: m.mixpanel_distinct_id, ...(m.email === undefined ? {} : { email: m.email }) })),
      });
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ action: body.action, status: 'success' }));
    },
    () => response.writeHead(400).end(),
  );
});
const wss = new WebSocketServer({ server: http, path: '/graphql' });
useServer({ schema }, wss);

process.on('message', (command: BaselineCommand) => {
  if (command.type === 'usage') {
    const usage = process.cpuUsage();
    send({ type: 'usage', cpuMicros: usage.user + usage.system });
    return;
  }
  for (const client of wss.clients) client.terminate();
  wss.close();
  http.closeAllConnections();
  http.close(() => {
    send({ type: 'closed' });
    process.disconnect();
  });
});

http.listen(0, '127.0.0.1', () => {
  const address = http.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  send({ type: 'ready', webhookUrl: `http://127.0.0.1:${port}/webhook`, graphqlUrl: `http://127.0.0.1:${port}/graphql` });
});
http.on('error', (error) => send({ type: 'failed', message: error.message }));
