/**
 * What a path of the gateway answers with, whichever way the request came: a Node request
 * (`app.handle`, the listening server) or a Fetch Request (`app.fetch`, tests and embedders).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GatewayYoga } from './project-yoga.js';

/** An answer known whole: status, headers, body. */
export interface PlainAnswer {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | undefined;
}

export type Route =
  /** Answered whole, the same way on both paths. */
  | { readonly kind: 'plain'; readonly answer: () => PlainAnswer | Promise<PlainAnswer> }
  /** A GraphQL endpoint (also the webhook receiver and /readyz on the default one). */
  | { readonly kind: 'yoga'; readonly yoga: GatewayYoga }
  /** Streams through Node's response (event downloads, GraphiQL's compressed assets): `app.handle` only. */
  | { readonly kind: 'node'; readonly serve: (req: IncomingMessage, res: ServerResponse) => void };

/** The parts of a request that choose its route. */
export interface RouteRequest {
  readonly method: string;
  /** The path without its query string. */
  readonly path: string;
  header(name: string): string | undefined;
}

export const plain = (answer: PlainAnswer): Route => ({ kind: 'plain', answer: () => answer });

/** 401 with the scheme to use: what every route behind the API keys answers without one. */
export const UNAUTHORIZED: PlainAnswer = { status: 401, headers: { 'www-authenticate': 'Bearer' } };

export function jsonErrorAnswer(status: number, message: string): PlainAnswer {
  return { status, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ errors: [{ message }] }) };
}

export function writeAnswer(res: ServerResponse, answer: PlainAnswer): void {
  res.writeHead(answer.status, answer.headers).end(answer.body);
}

export function answerResponse(answer: PlainAnswer): Response {
  return new Response(answer.body ?? null, { status: answer.status, headers: answer.headers });
}

export function routeRequestOfNode(req: IncomingMessage): RouteRequest {
  return {
    method: req.method ?? 'GET',
    path: pathOf(req.url),
    header: (name) => {
      const value = req.headers[name];
      return Array.isArray(value) ? value[0] : value;
    },
  };
}

export function routeRequestOfFetch(request: Request): RouteRequest {
  const url = new URL(request.url);
  return {
    method: request.method,
    path: url.pathname,
    // A Fetch Request may carry no Host header: its URL says the host it was sent to.
    header: (name) => request.headers.get(name) ?? (name === 'host' ? url.host : undefined),
  };
}

export function pathOf(url: string | undefined): string {
  const raw = url ?? '/';
  const query = raw.indexOf('?');
  return query === -1 ? raw : raw.slice(0, query);
}
