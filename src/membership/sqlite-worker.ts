/**
 * A worker thread owning one SQLite connection (sqlite-engine.ts) and
 * serving the calls sqlite-store.ts sends it, one at a time, in order.
 * Between calls it deletes dropped generations a batch at a time, so the
 * old membership of a full sync goes without ever holding up a call.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openSqliteEngine, type SqliteEngine, type SqliteEngineOptions } from './sqlite-engine.js';

export interface SqliteWorkerData extends SqliteEngineOptions {
  /** The writer prepares the schema and collects garbage; a reader only reads. */
  readonly role: 'writer' | 'reader';
}

export interface SqliteCall {
  readonly id: number;
  readonly method: keyof SqliteEngine;
  readonly args: readonly unknown[];
}

export type SqliteReply =
  | { readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly id: number; readonly ok: false; readonly error: { readonly name: string; readonly message: string; readonly code?: string } };

const data = workerData as SqliteWorkerData;
const port = parentPort!;
let engine: SqliteEngine | undefined;
let openError: unknown;
try {
  engine = openSqliteEngine({ ...data, prepareSchema: data.role === 'writer' });
} catch (error) {
  openError = error;
}

const queue: SqliteCall[] = [];
let running = false;
let collecting = false;

const serialise = (error: unknown) => {
  const e = error as { name?: string; message?: string; code?: unknown };
  return { name: e?.name ?? 'Error', message: e?.message ?? String(error), ...(typeof e?.code === 'string' ? { code: e.code } : {}) };
};

async function drain(): Promise<void> {
  if (running) return;
  running = true;
  while (queue.length > 0) {
    const call = queue.shift()!;
    let reply: SqliteReply;
    try {
      if (!engine) throw openError;
      const method = engine[call.method] as (...args: unknown[]) => unknown;
      reply = { id: call.id, ok: true, value: await method.apply(engine, [...call.args]) };
    } catch (error) {
      reply = { id: call.id, ok: false, error: serialise(error) };
    }
    port.postMessage(reply);
    if (call.method === 'close') {
      engine = undefined;
      openError = new Error('The SQLite membership store is closed');
    }
  }
  running = false;
  if (data.role === 'writer') scheduleGarbage();
}

function scheduleGarbage(): void {
  if (collecting || !engine) return;
  collecting = true;
  setImmediate(function step() {
    // A call waiting goes first; collection resumes once the queue is empty again.
    if (!engine || queue.length > 0) {
      collecting = false;
      return;
    }
    let more = false;
    try {
      more = engine.collectGarbage();
    } catch {
      more = false; // locked or closed: the next call's end tries again
    }
    if (more) setImmediate(step);
    else collecting = false;
  });
}

port.on('message', (call: SqliteCall) => {
  queue.push(call);
  void drain();
});
