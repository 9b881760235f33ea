/**
 * For fan-out tests: the gateway's subscription metrics read from /metrics
 * (as Prometheus would), and raw subscription clients whose reading can be
 * paused: a graphql-transport-ws client on a bare `ws` socket, and an SSE
 * request on node:http. Both record what arrived in order.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { WebSocket } from 'ws';

/** Sum of a metric's samples on /metrics whose labels include `labels`. */
export async function metricValue(baseUrl: string, name: string, labels: Record<string, string> = {}, authorization?: string): Promise<number> {
  const response = await fetch(`${baseUrl}/metrics`, { headers: authorization ? { authorization } : {} });
  if (response.status !== 200) throw new Error(`/metrics answered ${response.status}`);
  const text = await response.text();
  let sum = 0;
  for (const line of text.split('\n')) {
    const match = /^([a-z_]+)(\{[^}]*\})? ([0-9.e+-]+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const sampleLabels = match[2] ?? '';
    if (Object.entries(labels).every(([key, value]) => sampleLabels.includes(`${key}="${value}"`))) sum += Number(match[3]);
  }
  return sum;
}

export async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export interface RawWsSubscriber {
  readonly socket: WebSocket;
  /** Payloads of the `next` messages, in order. */
  readonly nexts: unknown[];
  /** Set once the socket has closed. */
  readonly closed: { code: number; reason: string } | undefined;
}

/** One subscription (id "1") on its own graphql-transport-ws connection. */
export async function rawWsSubscribe(graphqlUrl: string, query: string, variables: Record<string, unknown>): Promise<RawWsSubscriber> {
  const socket = new WebSocket(graphqlUrl.replace(/^http/, 'ws'), 'graphql-transport-ws');
  const nexts: unknown[] = [];
  let closed: RawWsSubscriber['closed'];
  let acked: () => void = () => undefined;
  const ack = new Promise<void>((resolve) => (acked = resolve));
  socket.on('message', (data) => {
    const message = JSON.parse(String(data)) as { type: string; payload?: unknown };
    if (message.type === 'connection_ack') acked();
    if (message.type === 'next') nexts.push(message.payload);
  });
  socket.on('close', (code, reason) => (closed = { code, reason: String(reason) }));
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  socket.send(JSON.stringify({ type: 'connection_init', payload: {} }));
  await ack;
  socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query, variables } }));
  return {
    socket,
    nexts,
    get closed() {
      return closed;
    },
  };
}

export interface RawSseSubscriber {
  readonly response: IncomingMessage;
  /** The stream's text so far. */
  readonly text: () => string;
  readonly ended: () => boolean;
}

/** One SSE subscription (distinct-connections mode) on its own HTTP request. */
export async function rawSseSubscribe(graphqlUrl: string, query: string, variables: Record<string, unknown>): Promise<RawSseSubscriber> {
  const body = JSON.stringify({ query, variables });
  const response = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = httpRequest(graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'text/event-stream' } }, resolve);
    req.once('error', reject);
    req.end(body);
  });
  let text = '';
  let ended = false;
  response.setEncoding('utf8');
  response.on('data', (chunk: string) => (text += chunk));
  response.on('end', () => (ended = true));
  response.on('close', () => (ended = true));
  return { response, text: () => text, ended: () => ended };
}
