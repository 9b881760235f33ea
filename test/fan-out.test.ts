/**
 * The fan-out engine on its own: one start and one execution per event for a
 * whole group, members served in join order, unsubscribes taking effect in
 * the middle of a fan-out, batches yielding to the event loop, and the
 * group's end, failure and refusal reaching every member. Sources are real
 * async generators; counts come from the engine's Prometheus metrics.
 */
import type { ExecutionResult } from 'graphql';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import {
  createFanOut,
  fanOutKey,
  FanOutOverflowError,
  MAX_PENDING_EVENTS,
  serializeResult,
  type FanOutMember,
  type SerializedResult,
} from '../src/pubsub/fan-out.js';
import { GraphQLError, parse } from 'graphql';
import { createGatewayPubSub } from '../src/pubsub/create-pubsub.js';
import { PUBLISH_HIGH_WATER_MARK } from '../src/pubsub/publish-flow.js';

/**
 * A source the test pushes events into, recording whether it was returned (unsubscribed). Like the
 * pubsub's Repeater, `return` settles a pending `next` at once.
 */
function controlledSource() {
  const pending: ExecutionResult[] = [];
  let waiting: ((step: IteratorResult<ExecutionResult>) => void) | undefined;
  let failWaiting: ((error: Error) => void) | undefined;
  let ended: { error?: Error } | undefined;
  const state = { returned: false, starts: 0 };
  const settle = () => {
    if (!waiting) return;
    const resolve = waiting;
    const reject = failWaiting!;
    if (pending.length > 0) resolve({ done: false, value: pending.shift()! });
    else if (ended?.error) reject(ended.error);
    else if (ended) resolve({ done: true, value: undefined });
    else return;
    waiting = undefined;
  };
  const iterator: AsyncIterableIterator<ExecutionResult> = {
    [Symbol.asyncIterator]: () => iterator,
    next: () =>
      new Promise((resolve, reject) => {
        waiting = resolve;
        failWaiting = reject;
        settle();
      }),
    return: async () => {
      state.returned = true;
      ended ??= {};
      settle();
      return { done: true, value: undefined };
    },
  };
  return {
    state,
    start: async () => {
      state.starts += 1;
      return iterator;
    },
    push(value: number) {
      pending.push({ data: { value } });
      settle();
    },
    end(error?: Error) {
      ended = error ? { error } : {};
      settle();
    },
  };
}

interface RecordingMember extends FanOutMember {
  readonly received: number[];
  readonly ended: { error?: unknown } | undefined;
}

function recordingMember(onDeliver?: (event: SerializedResult) => void): RecordingMember {
  const received: number[] = [];
  let ended: { error?: unknown } | undefined;
  return {
    transport: 'ws',
    received,
    get ended() {
      return ended;
    },
    deliver(event) {
      received.push((JSON.parse(event.json) as { data: { value: number } }).data.value);
      onDeliver?.(event);
    },
    end(error) {
      ended = { error };
    },
  };
}

async function counter(registry: Registry, name: string): Promise<number> {
  const metric = await registry.getSingleMetric(name)?.get();
  return metric?.values.reduce((sum, v) => sum + v.value, 0) ?? 0;
}

const until = async (condition: () => boolean, timeoutMs = 5_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
};

describe('fan-out', () => {
  it('starts a group once and executes each event once for all its members, in order', async () => {
    const registry = new Registry();
    const fanOut = createFanOut({ batchSize: 3, registry });
    const source = controlledSource();
    const members = Array.from({ length: 10 }, () => recordingMember());
    const outcomes = await Promise.all(members.map((member) => fanOut.join('k', source.start, member)));
    expect(outcomes.every((o) => o.kind === 'joined')).toBe(true);
    expect(source.state.starts).toBe(1);
    expect(fanOut.size).toEqual({ groups: 1, members: 10 });

    for (let i = 1; i <= 5; i++) source.push(i);
    await until(() => members.every((m) => m.received.length === 5));
    for (const member of members) expect(member.received).toEqual([1, 2, 3, 4, 5]);
    expect(await counter(registry, 'gateway_subscription_executions_total')).toBe(5);
    expect(await counter(registry, 'gateway_subscription_deliveries_total')).toBe(50);
  });

  it('skips a member that leaves in the middle of a fan-out, and yields to the event loop between batches', async () => {
    const fanOut = createFanOut({ batchSize: 2 });
    const source = controlledSource();
    const order: string[] = [];
    let leaveLast: (() => void) | undefined;
    const first = recordingMember(() => {
      order.push('first');
      setImmediate(() => order.push('immediate'));
      leaveLast?.();
    });
    const others = Array.from({ length: 4 }, (_, i) => recordingMember(() => order.push(`member${i}`)));
    await fanOut.join('k', source.start, first);
    for (const member of others) {
      const outcome = await fanOut.join('k', source.start, member);
      if (outcome.kind === 'joined') leaveLast = outcome.leave;
    }
    source.push(1);
    await until(() => others[2]!.received.length === 1);
    // member3 left while the first batch was written; the second batch waited for a turn of the event loop.
    expect(order).toEqual(['first', 'member0', 'immediate', 'member1', 'member2']);
    expect(others[3]!.received).toEqual([]);
    expect(fanOut.size.members).toBe(4);
  });

  it('returns the source once the last member leaves, and a later join starts a new group', async () => {
    const fanOut = createFanOut();
    const source = controlledSource();
    const a = await fanOut.join('k', source.start, recordingMember());
    const b = await fanOut.join('k', source.start, recordingMember());
    if (a.kind !== 'joined' || b.kind !== 'joined') throw new Error('not joined');
    a.leave();
    expect(source.state.returned).toBe(false);
    b.leave();
    await until(() => source.state.returned);
    expect(fanOut.size).toEqual({ groups: 0, members: 0 });

    const again = controlledSource();
    const member = recordingMember();
    await fanOut.join('k', again.start, member);
    again.push(7);
    await until(() => member.received.length === 1);
    expect(again.state.starts).toBe(1);
  });

  it('ends every member when the source completes or fails, and hands a refusal to each member that joined', async () => {
    const fanOut = createFanOut();
    const completing = controlledSource();
    const done = [recordingMember(), recordingMember()];
    for (const member of done) await fanOut.join('done', completing.start, member);
    completing.push(1);
    completing.end();
    await until(() => done.every((m) => m.ended !== undefined));
    for (const member of done) expect(member).toMatchObject({ received: [1], ended: { error: undefined } });

    const failing = controlledSource();
    const failed = [recordingMember(), recordingMember()];
    for (const member of failed) await fanOut.join('failed', failing.start, member);
    failing.end(new Error('pubsub broke'));
    await until(() => failed.every((m) => m.ended !== undefined));
    for (const member of failed) expect((member.ended?.error as Error | undefined)?.message).toBe('pubsub broke');

    let starts = 0;
    const refusal: ExecutionResult = { errors: [] };
    const refuse = async () => {
      starts += 1;
      await new Promise((resolve) => setTimeout(resolve, 5));
      return refusal;
    };
    const outcomes = await Promise.all([fanOut.join('refused', refuse, recordingMember()), fanOut.join('refused', refuse, recordingMember())]);
    expect(outcomes).toEqual([
      { kind: 'result', result: refusal },
      { kind: 'result', result: refusal },
    ]);
    expect(starts).toBe(1);
    expect(fanOut.size).toEqual({ groups: 0, members: 0 });
  });

  it('fails the group, rather than grow, when events come faster than they can be written', async () => {
    const fanOut = createFanOut({ batchSize: 1 });
    const source = controlledSource();
    const members = [recordingMember(), recordingMember()];
    for (const member of members) await fanOut.join('k', source.start, member);
    for (let i = 1; i <= MAX_PENDING_EVENTS + 10; i++) source.push(i);
    await until(() => members.every((m) => m.ended !== undefined));
    for (const member of members) {
      expect(member.ended?.error).toBeInstanceOf(FanOutOverflowError);
      expect(member.received.length).toBeLessThan(MAX_PENDING_EVENTS);
    }
    expect(source.state.returned).toBe(true);
    expect(fanOut.size).toEqual({ groups: 0, members: 0 });
  });

  it('removes a member whose delivery throws, and keeps serving the others', async () => {
    const fanOut = createFanOut();
    const source = controlledSource();
    const broken = recordingMember(() => {
      throw new Error('socket gone');
    });
    const healthy = recordingMember();
    await fanOut.join('k', source.start, broken);
    await fanOut.join('k', source.start, healthy);
    source.push(1);
    source.push(2);
    await until(() => healthy.received.length === 2);
    expect(broken.received).toEqual([1]);
    expect((broken.ended?.error as Error | undefined)?.message).toBe('socket gone');
  });
});

describe('fan-out behind a real pubsub, with its publish flow', () => {
  /** A group's source as the schema builds it: the pubsub's subscription, each event one result. */
  const startFrom = (pubsub: ReturnType<typeof createGatewayPubSub>) => async () => {
    const events = pubsub.subscribe('cohortSyncCompleted', 'p1');
    return (async function* () {
      for await (const event of events) yield { data: { value: event.totalPages } } as ExecutionResult;
    })();
  };
  const publish = (pubsub: ReturnType<typeof createGatewayPubSub>, value: number) =>
    pubsub.publish('cohortSyncCompleted', 'p1', { projectId: 'p1', cohortId: 'c1', sessionId: 's', totalPages: value, memberCount: 0, at: 0 });

  it('lets a publisher that waits for the flow send three queue limits of events to a slowly written group, all of them in order', async () => {
    const pubsub = createGatewayPubSub();
    const flow = pubsub.flow!;
    const fanOut = createFanOut({ batchSize: 1, flow });
    // A member whose socket is gone after 10 events: removed, it must not hold the publisher back.
    const broken = recordingMember((event) => {
      if ((JSON.parse(event.json) as { data: { value: number } }).data.value === 10) throw new Error('socket gone');
    });
    const members = [...Array.from({ length: 4 }, () => recordingMember()), broken];
    for (const member of members) await fanOut.join('k', startFrom(pubsub), member);
    // The subscription listens from its first read: a probe tells when every member is live.
    await until(() => {
      publish(pubsub, 0);
      return members.every((m) => m.received.length > 0);
    });
    for (const member of members) member.received.length = 0;

    const total = 3 * MAX_PENDING_EVENTS;
    let longestWhenResumed = 0;
    for (let value = 1; value <= total; value++) {
      await flow.whenBelow(PUBLISH_HIGH_WATER_MARK);
      longestWhenResumed = Math.max(longestWhenResumed, flow.backlog());
      publish(pubsub, value);
    }
    const healthy = members.slice(0, 4);
    await until(() => healthy.every((m) => m.received.filter((v) => v > 0).length === total), 30_000);
    for (const member of healthy) {
      expect(member.received.filter((v) => v > 0)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
      expect(member.ended).toBeUndefined();
    }
    expect(longestWhenResumed).toBeLessThanOrEqual(PUBLISH_HIGH_WATER_MARK);
    expect((broken.ended?.error as Error | undefined)?.message).toBe('socket gone');
    expect(flow.backlog()).toBe(0);
  });

  it('without waiting for the flow, the same publication fails the group instead', async () => {
    const pubsub = createGatewayPubSub();
    const fanOut = createFanOut({ batchSize: 1, flow: pubsub.flow });
    const members = Array.from({ length: 4 }, () => recordingMember());
    for (const member of members) await fanOut.join('k', startFrom(pubsub), member);
    await until(() => {
      publish(pubsub, 0);
      return members.every((m) => m.received.length > 0);
    });
    // Published a few at a time, as a store streams them, but never waiting for the group.
    for (let value = 1; value <= 3 * MAX_PENDING_EVENTS; value++) {
      publish(pubsub, value);
      if (value % 100 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    await until(() => members.every((m) => m.ended !== undefined), 30_000);
    for (const member of members) expect(member.ended?.error).toBeInstanceOf(FanOutOverflowError);
    // The group is gone, and with it its queue: nothing is left for a publisher to wait for.
    expect(fanOut.size).toEqual({ groups: 0, members: 0 });
    expect(pubsub.flow!.backlog()).toBe(0);
  });
});

describe('fan-out keys and serialisation', () => {
  const schema = {};
  const document = parse('subscription S($ids: [ID!]) { cohortMembershipChanged(cohortIds: $ids) { cohortId } }');
  const base = { endpoint: '/graphql', schema, document, operationName: 'S', variables: { ids: ['1'], other: { b: 1, a: 2 } }, authorization: 'Bearer k1' };

  it('groups what computes the same result, and nothing else', () => {
    const key = fanOutKey(base);
    expect(fanOutKey({ ...base, variables: { other: { a: 2, b: 1 }, ids: ['1'] } })).toBe(key);
    expect(fanOutKey({ ...base, document: parse('subscription S($ids: [ID!]) { cohortMembershipChanged(cohortIds: $ids) { cohortId } }') })).toBe(key);
    const different = [
      { ...base, endpoint: '/projects/other/graphql' },
      { ...base, schema: {} },
      { ...base, operationName: 'T' },
      { ...base, variables: { ids: ['2'], other: { b: 1, a: 2 } } },
      { ...base, authorization: 'Bearer k2' },
      { ...base, authorization: undefined },
      { ...base, document: parse('subscription S($ids: [ID!]) { cohortMembershipChanged(cohortIds: $ids) { cohortId kind } }') },
    ];
    for (const parts of different) expect(fanOutKey(parts)).not.toBe(key);
    expect(key).not.toContain('k1');
  });

  it("leaves out the server's own error and result extensions, as yoga does", () => {
    const error = new GraphQLError('Unexpected error.', { extensions: { code: 'INTERNAL_SERVER_ERROR', unexpected: true, http: { status: 500 } } });
    const { json } = serializeResult({ data: null, errors: [error], extensions: { http: { status: 500 } } });
    expect(JSON.parse(json)).toEqual({ data: null, errors: [{ message: 'Unexpected error.', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] });
  });
});
