/**
 * Child process of the fan-out bench (bench/webhooks-fan-out.ts): holds a
 * share of the subscribers, each on its own graphql-transport-ws socket (a
 * bare `ws` client speaking the protocol, lighter than one graphql-ws client
 * per socket), and reports when each event reached each of them.
 *
 * Arrival times are epoch milliseconds (performance.timeOrigin + now()), so
 * the parent can compare them with its own send times. The event is told
 * apart by its `sessionId`, found in the raw message without parsing it: on
 * 2 cores, parsing 10,000 copies of the payload would measure the clients.
 * The first copy of each event is parsed and checked in full; every other
 * copy must have the same length (each socket uses subscription id "1", so
 * every copy is byte-identical).
 *
 * Messages (IPC): parent -> ClientCommand; child -> ClientReport.
 */
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';

export type ClientCommand =
  | {
      readonly type: 'connect';
      /** ws:// URL of the graphql-ws endpoint. */
      readonly url: string;
      readonly count: number;
      readonly query: string;
      readonly variables: Record<string, unknown>;
      /** Members every event must carry. */
      readonly membersPerEvent: number;
    }
  /** How many sockets have received the event of `sessionId` so far. */
  | { readonly type: 'count'; readonly sessionId: string }
  | { readonly type: 'disconnect' }
  | { readonly type: 'exit' };

export type ClientReport =
  | { readonly type: 'connected'; readonly open: number }
  /** Every socket of this worker received the event of `sessionId` (or the worker gave up waiting: `arrivals` is shorter). */
  | { readonly type: 'event'; readonly sessionId: string; readonly arrivals: readonly number[]; readonly faulty: number; readonly bytes: number }
  | { readonly type: 'count'; readonly sessionId: string; readonly received: number }
  | { readonly type: 'disconnected' }
  | { readonly type: 'failed'; readonly message: string };

const send = (report: ClientReport) => process.send?.(report);
const now = () => performance.timeOrigin + performance.now();
const SESSION_MARK = Buffer.from('"sessionId":"');
const CONNECT_CONCURRENCY = 100;

interface EventTally {
  readonly arrivals: number[];
  readonly bytes: number;
  faulty: number;
}

let sockets: WebSocket[] = [];
let events = new Map<string, EventTally>();
/** Sessions every socket received (their tallies are dropped once reported). */
let complete = new Set<string>();
let expected = 0;
let membersPerEvent = 0;

function sessionOf(data: Buffer): string | undefined {
  const at = data.indexOf(SESSION_MARK);
  if (at === -1) return undefined;
  const start = at + SESSION_MARK.length;
  const end = data.indexOf(0x22, start);
  return data.toString('latin1', start, end);
}

function checkFirstCopy(data: Buffer): boolean {
  const message = JSON.parse(data.toString('utf8')) as {
    type?: string;
    payload?: { data?: { cohortMembershipChanged?: { members?: unknown[] } }; errors?: unknown };
  };
  return message.type === 'next' && !message.payload?.errors && message.payload?.data?.cohortMembershipChanged?.members?.length === membersPerEvent;
}

function onNext(data: Buffer): void {
  const at = now();
  const sessionId = sessionOf(data);
  if (sessionId === undefined) return;
  let tally = events.get(sessionId);
  if (!tally) {
    tally = { arrivals: [], bytes: data.length, faulty: checkFirstCopy(data) ? 0 : 1 };
    events.set(sessionId, tally);
  } else if (data.length !== tally.bytes) {
    tally.faulty += 1;
  }
  tally.arrivals.push(at);
  if (tally.arrivals.length === expected) {
    send({ type: 'event', sessionId, arrivals: tally.arrivals, faulty: tally.faulty, bytes: tally.bytes });
    events.delete(sessionId);
    complete.add(sessionId);
  }
}

function openSocket(url: string, query: string, variables: Record<string, unknown>): Promise<WebSocket | undefined> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url, 'graphql-transport-ws', { perMessageDeflate: false });
    let settled = false;
    const settle = (value: WebSocket | undefined) => {
      if (settled) return;
      settled = true;
      resolve(value);
    };
    socket.on('open', () => socket.send('{"type":"connection_init","payload":{}}'));
    socket.on('message', (data: Buffer) => {
      if (data.length < 64 && data.includes('connection_ack')) {
        socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query, variables } }));
        settle(socket);
        return;
      }
      if (data.length < 64 && data.includes('"ping"')) {
        socket.send('{"type":"pong"}');
        return;
      }
      onNext(data);
    });
    socket.on('error', () => settle(undefined));
    socket.on('close', () => settle(undefined));
  });
}

async function connect(command: Extract<ClientCommand, { type: 'connect' }>): Promise<void> {
  expected = command.count;
  membersPerEvent = command.membersPerEvent;
  events = new Map();
  complete = new Set();
  const opened: WebSocket[] = [];
  for (let start = 0; start < command.count; start += CONNECT_CONCURRENCY) {
    const batch = Math.min(CONNECT_CONCURRENCY, command.count - start);
    const sockets = await Promise.all(Array.from({ length: batch }, () => openSocket(command.url, command.query, command.variables)));
    for (const socket of sockets) if (socket) opened.push(socket);
  }
  sockets = opened;
  send({ type: 'connected', open: opened.length });
}

async function disconnect(): Promise<void> {
  await Promise.all(
    sockets.map(
      (socket) =>
        new Promise<void>((resolve) => {
          if (socket.readyState === WebSocket.CLOSED) return resolve();
          socket.once('close', () => resolve());
          socket.close(1000);
          setTimeout(() => {
            socket.terminate();
            resolve();
          }, 2_000).unref();
        }),
    ),
  );
  sockets = [];
  events = new Map();
  send({ type: 'disconnected' });
}

process.on('message', (command: ClientCommand) => {
  if (command.type === 'count') {
    const received = complete.has(command.sessionId) ? expected : (events.get(command.sessionId)?.arrivals.length ?? 0);
    send({ type: 'count', sessionId: command.sessionId, received });
    return;
  }
  const run = command.type === 'connect' ? connect(command) : command.type === 'disconnect' ? disconnect() : Promise.resolve(process.disconnect());
  run.catch((error: unknown) => send({ type: 'failed', message: error instanceof Error ? error.message : String(error) }));
});
