/**
 * A frontend's typed client over `/graphql` (the project's Lexicon-typed
 * schema), using the documents `npm run codegen` generates: the result and
 * variables types come from the operation, so `event.plan` compiles only on a
 * `SignUp` and a misspelt variable fails the build. CI compiles this file
 * and the test suite runs it against the demo gateway.
 */
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import { TypedEventsDocument, type TypedEventsQuery } from './project-generated/graphql.js';

/** One GraphQL request; throws on a transport error or errors[]. */
export async function request<TResult, TVariables extends Record<string, unknown>>(
  url: string,
  document: TypedDocumentNode<TResult, TVariables>,
  variables: TVariables,
  headers: Record<string, string> = {},
): Promise<TResult> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...headers },
    body: JSON.stringify({ query: print(document), variables }),
  });
  const body = (await response.json()) as { data?: TResult; errors?: readonly { message: string }[] };
  if (body.errors?.length || body.data === undefined) throw new Error(body.errors?.map((e) => e.message).join('; ') ?? `HTTP ${response.status}`);
  return body.data;
}

type EventNode = Extract<NonNullable<TypedEventsQuery['events']>, { __typename: 'EventConnection' }>['edges'][number]['node'];

/** Sign-ups of a date range by plan, and the revenue of purchases, read from typed events. */
export async function signUpsAndRevenue(graphqlUrl: string, from: string, to: string): Promise<{ plans: Record<string, number>; revenue: number }> {
  const data = await request(graphqlUrl, TypedEventsDocument, { from, to, first: 500 });
  if (data.events?.__typename !== 'EventConnection') throw new Error(`events failed: ${data.events?.__typename ?? 'null'}`);
  const plans: Record<string, number> = {};
  let revenue = 0;
  for (const { node } of data.events.edges) {
    const event: EventNode = node;
    if (event.__typename === 'SignUp') plans[event.plan ?? 'unknown'] = (plans[event.plan ?? 'unknown'] ?? 0) + 1;
    else if (event.__typename === 'Purchase') revenue += (event.price ?? 0) * (event.quantity ?? 1);
  }
  return { plans, revenue };
}
