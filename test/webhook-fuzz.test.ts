/**
 * 10,000 generated bad webhook requests (broken JSON, wrong types, missing or
 * impossible fields, unknown projects, wrong credentials, wrong content
 * types), each sent over loopback to three receivers side by side: on the
 * memory, SQLite and Redis membership stores. Every one must get a clear 4xx
 * in Mixpanel's failure shape, and none may change any store or publish
 * anything. The generator is seeded, so a failure reproduces.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSchema, createYoga } from 'graphql-yoga';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import type { WebhookConfig } from '../src/config/types.js';
import { createMembershipStore } from '../src/membership/create-store.js';
import type { MembershipStore } from '../src/membership/types.js';
import { createGatewayPubSub } from '../src/pubsub/create-pubsub.js';
import { Secret } from '../src/core/secret.js';
import { useCohortWebhooks } from '../src/webhooks/receiver.js';
import { REDIS, redisSkip } from './helpers/redis.js';

const BODIES = 10_000;
const PATH = '/webhooks/mixpanel/cohorts';
const PASSWORD = 'fuzz-webhook-password-01';
const AUTH = `Basic ${Buffer.from(`mixpanel:${PASSWORD}`).toString('base64')}`;
const CONFIG: WebhookConfig = {
  path: PATH,
  username: 'mixpanel',
  password: new Secret(PASSWORD),
  maxBodyBytes: 4096,
  sessionTtlMs: 3_600_000,
  maxAuthFailures: 1_000_000,
  authFailureWindowMs: 60_000,
};
const PROJECT = '4242';
const schema = createSchema({ typeDefs: 'type Query { ok: Boolean }' });

const skipRedis = await redisSkip('the Redis side of the webhook fuzz test');
const tempDir = mkdtempSync(join(tmpdir(), 'mpgw-fuzz-'));
const redisPrefix = `mpgw-test:fuzz:${randomUUID()}:`;
const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  rmSync(tempDir, { recursive: true, force: true });
});

/** mulberry32: small, fast, seeded. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface FuzzRequest {
  readonly body: string;
  readonly headers: Record<string, string>;
  /** What was broken, for the failure message. */
  readonly flaw: string;
}

const WRONG_VALUES: readonly unknown[] = [null, true, 1.5, -3, [], {}, '', [1], { a: 1 }, 'x'.repeat(40)];

function validBody(random: () => number): Record<string, any> {
  const members = Array.from({ length: Math.floor(random() * 4) }, (_, i) => ({
    mixpanel_distinct_id: `user-${Math.floor(random() * 1e6)}-${i}`,
    email: `u${i}@example.com`,
    first_name: 'Fuzz',
    plan: random() < 0.5 ? 'pro' : 'free',
  }));
  const total = 1 + Math.floor(random() * 3);
  return {
    action: ['members', 'add_members', 'remove_members'][Math.floor(random() * 3)],
    parameters: {
      mixpanel_project_id: PROJECT,
      mixpanel_cohort_id: String(1 + Math.floor(random() * 5)),
      mixpanel_cohort_name: 'Fuzzed',
      mixpanel_cohort_description: 'generated',
      mixpanel_session_id: `session-${Math.floor(random() * 1e9)}`,
      page_info: { total_pages: total, page_count: 1 + Math.floor(random() * total) },
      members,
    },
  };
}

/** One request that can never be valid; the flaw is chosen at random. */
function generate(random: () => number): FuzzRequest {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const body = validBody(random);
  const p = body['parameters'] as Record<string, any>;
  const headers: Record<string, string> = { 'content-type': 'application/json', authorization: AUTH };
  const json = (flaw: string): FuzzRequest => ({ body: JSON.stringify(body), headers, flaw });
  const flaws: (() => FuzzRequest)[] = [
    () => ({ body: JSON.stringify(body).slice(0, Math.floor(random() * 60)), headers, flaw: 'truncated JSON' }),
    () => ({
      body: `${Array.from({ length: 1 + Math.floor(random() * 40) }, () => String.fromCharCode(Math.floor(random() * 128))).join('')}{`,
      headers,
      flaw: 'garbage',
    }),
    () => ({ body: JSON.stringify(pick([[], 7, 'members', null, true])), headers, flaw: 'not an object' }),
    () => {
      body['action'] = pick(['delete_members', 'MEMBERS', 'add', '', 3, null]);
      return json('bad action');
    },
    () => {
      delete body['action'];
      return json('no action');
    },
    () => {
      body['parameters'] = pick([null, [], 'p', 5]);
      return json('bad parameters');
    },
    () => {
      const field = pick(['mixpanel_project_id', 'mixpanel_cohort_id', 'mixpanel_session_id']);
      if (random() < 0.5) delete p[field];
      else p[field] = pick([null, true, 1.5, -0.5, [], {}, '']);
      return json(`bad ${field}`);
    },
    () => {
      p['mixpanel_cohort_name'] = pick([null, 7, [], {}, true]);
      return json('bad cohort name');
    },
    () => {
      p['mixpanel_cohort_description'] = pick([7, [], {}, true]);
      return json('bad description');
    },
    () => {
      p['page_info'] = pick([undefined, null, 3, [], 'page']);
      return json('bad page_info');
    },
    () => {
      const info = p['page_info'] as Record<string, unknown>;
      const field = pick(['page_count', 'total_pages']);
      info[field] = pick([0, -1, 1.5, '1', null, true, [], Number.MAX_SAFE_INTEGER + 2]);
      return json(`bad ${field}`);
    },
    () => {
      p['page_info'] = { total_pages: 2, page_count: 3 + Math.floor(random() * 5) };
      return json('page past total');
    },
    () => {
      p['members'] = pick([null, {}, 'a', 3, true]);
      return json('members not a list');
    },
    () => {
      const members = [...(p['members'] as unknown[]), pick([null, 'a', 3, [], true])];
      p['members'] = members;
      return json('member not an object');
    },
    () => {
      const member: Record<string, unknown> = { email: 'x@example.com' };
      if (random() < 0.7) member['mixpanel_distinct_id'] = pick(['', null, 1.5, true, [], {}]);
      p['members'] = [...(p['members'] as unknown[]), member];
      return json('bad distinct id');
    },
    () => {
      const field = pick(['email', 'first_name', 'last_name', 'phone_number']);
      p['members'] = [
        ...(p['members'] as unknown[]),
        { mixpanel_distinct_id: 'someone', [field]: pick(WRONG_VALUES.filter((v) => typeof v !== 'string' && v !== null)) },
      ];
      return json(`bad member ${field}`);
    },
    () => {
      p['mixpanel_project_id'] = String(9000 + Math.floor(random() * 1000));
      return json('unknown project');
    },
    () => ({
      body: JSON.stringify(body),
      headers: { ...headers, authorization: pick(['', `Basic ${Buffer.from(`mixpanel:${PASSWORD.slice(1)}`).toString('base64')}`, 'Bearer x', 'Basic !!']) },
      flaw: 'bad credentials',
    }),
    () => ({
      body: JSON.stringify(body),
      headers: { ...headers, 'content-type': pick(['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data']) },
      flaw: 'bad content type',
    }),
    () => ({ body: JSON.stringify({ ...body, padding: 'x'.repeat(5000) }), headers, flaw: 'too large' }),
  ];
  return pick(flaws)();
}

interface Side {
  readonly name: string;
  readonly url: string;
  readonly store: MembershipStore;
  readonly published: unknown[];
}

async function side(name: string, store: MembershipStore): Promise<Side> {
  const pubsub = createGatewayPubSub();
  const published: unknown[] = [];
  for (const topic of ['cohortMembershipChanged', 'cohortSyncCompleted'] as const) {
    const iterator = pubsub.subscribe(topic, PROJECT)[Symbol.asyncIterator]();
    void (async () => {
      for (let r = await iterator.next(); !r.done; r = await iterator.next()) published.push(r.value);
    })();
    cleanups.push(async () => iterator.return?.());
  }
  const yoga = createYoga({
    schema,
    logging: false,
    plugins: [useCohortWebhooks({ config: CONFIG, resolveProject: (id) => (id === PROJECT ? { projectId: PROJECT, store } : undefined), pubsub })],
  });
  const server: Server = createServer(yoga);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(async () => {
    await new Promise((resolve) => server.close(resolve));
    await store.close();
  });
  return { name, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}${PATH}`, store, published };
}

describe('webhook fuzz', () => {
  it(`answers ${BODIES.toLocaleString('en')} generated bad requests with a clear 4xx and changes nothing, on every store`, { timeout: 240_000 }, async () => {
    const sides = [
      await side('memory', await createMembershipStore('memory')),
      await side('sqlite', await createMembershipStore('sqlite', { sqlitePath: join(tempDir, 'fuzz.db') })),
    ];
    if (!skipRedis) {
      const redis = new Redis({ ...REDIS, maxRetriesPerRequest: 1 });
      cleanups.push(async () => {
        const keys = await redis.keys(`${redisPrefix}*`);
        if (keys.length > 0) await redis.del(...keys);
        await redis.quit();
      });
      sides.push(await side('redis', await createMembershipStore('redis', { redis, redisKeyPrefix: redisPrefix })));
    }

    const random = prng(20_261_201);
    const requests = Array.from({ length: BODIES }, () => generate(random));
    const statuses = new Map<number, number>();
    const failures: string[] = [];
    let next = 0;
    const worker = async () => {
      while (next < requests.length) {
        const index = next++;
        const request = requests[index]!;
        await Promise.all(
          sides.map(async (s) => {
            const response = await fetch(s.url, { method: 'POST', headers: request.headers, body: request.body });
            const text = await response.text();
            statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
            let parsed: { status?: unknown; error?: { message?: unknown; code?: unknown } } | undefined;
            try {
              parsed = JSON.parse(text) as typeof parsed;
            } catch {
              parsed = undefined;
            }
            const clear =
              response.status >= 400 &&
              response.status < 500 &&
              parsed?.status === 'failure' &&
              parsed.error?.code === response.status &&
              typeof parsed.error.message === 'string' &&
              parsed.error.message.length > 0 &&
              !text.includes(PASSWORD);
            if (!clear && failures.length < 10) failures.push(`#${index} ${request.flaw} on ${s.name}: ${response.status} ${text.slice(0, 200)}`);
          }),
        );
      }
    };
    await Promise.all(Array.from({ length: 32 }, worker));

    expect(failures).toEqual([]);
    expect([...statuses.keys()].every((status) => status >= 400 && status < 500)).toBe(true);
    expect([...statuses.values()].reduce((a, b) => a + b, 0)).toBe(BODIES * sides.length);
    for (const s of sides) {
      expect(await s.store.syncedCohorts(PROJECT), s.name).toEqual([]);
      for (const cohortId of ['1', '2', '3', '4', '5']) expect(await s.store.members(PROJECT, cohortId, { first: 1 }), s.name).toEqual([]);
      expect(s.published, s.name).toEqual([]);
    }
    // Every kind of refusal was exercised.
    for (const status of [400, 401, 404, 413, 415]) expect(statuses.get(status) ?? 0, String(status)).toBeGreaterThan(0);
  });
});
