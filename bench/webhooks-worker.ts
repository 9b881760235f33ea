/**
 * Child process of bench/webhooks.ts: runs one gateway (with the membership
 * backend named on the command line) so its memory can be sampled apart from
 * the process that sends the webhooks and holds the subscribers.
 *
 * argv: <memory|sqlite|redis> [sqlite path | redis key prefix]
 * Messages (IPC): parent -> 'start' | 'stop' | 'usage' | 'close'; child -> WorkerMessage.
 */
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { createEmulator } from '../src/emulator/server.js';
import { createMembershipStore } from '../src/membership/create-store.js';
import type { StoreKind } from '../src/config/types.js';
import { startBenchGateway } from './lib/gateway.js';
import { startMemorySampler, type MemoryPeak } from './lib/stats.js';

export type ParentMessage =
  | { readonly type: 'start' }
  /** `awaitCompletion`: answer once a `cohortSyncCompleted` was published (a full sync's events all went out). */
  | { readonly type: 'stop'; readonly cohortId: string; readonly awaitCompletion?: boolean }
  /** CPU time this process has used so far (the fan-out bench takes differences). */
  | { readonly type: 'usage' }
  | { readonly type: 'close' };

export type WorkerMessage =
  | { readonly type: 'ready'; readonly gatewayUrl: string; readonly webhookUrl: string; readonly graphqlUrl: string; readonly projectId: string }
  | { readonly type: 'started' }
  | {
      readonly type: 'stopped';
      readonly peak: MemoryPeak;
      /** Members the store holds for the cohort afterwards (checks the sync landed). */
      readonly memberCount: number | undefined;
      /** Calls the gateway sent to the emulator since start (should be 0: webhooks and subscriptions need no REST call). */
      readonly upstreamCalls: number;
      /** When the cohort's last `cohortSyncCompleted` was published (epoch ms), once the stop's cohort had one. */
      readonly completedAtEpochMs: number | undefined;
      /** `cohortMembershipChanged` events published for the cohort since start, and the members they carried. */
      readonly changesPublished: number;
      readonly membersPublished: number;
    }
  | { readonly type: 'usage'; readonly cpuMicros: number }
  | { readonly type: 'closed' }
  | { readonly type: 'failed'; readonly message: string };

const WEBHOOK_PATH = '/webhooks/mixpanel/cohorts';

const send = (message: WorkerMessage) => process.send?.(message);

async function deleteKeys(redis: Redis, prefix: string): Promise<void> {
  const stream = redis.scanStream({ match: `${prefix}*`, count: 1000 });
  for await (const keys of stream as AsyncIterable<string[]>) if (keys.length > 0) await redis.del(...keys);
}

async function main(): Promise<void> {
  const kind = process.argv[2] as StoreKind;
  const location = process.argv[3];
  const redis = kind === 'redis' ? new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: 3 }) : undefined;
  const store = await createMembershipStore(kind, { sqlitePath: location, redis, redisKeyPrefix: location });
  // Only for the gateway's configuration and to count upstream calls: webhooks never call Mixpanel.
  const emulator = await createEmulator({ size: 'small' });
  const gateway = await startBenchGateway({ emulatorUrl: emulator.url, membership: store, env: { WEBHOOK_PATH } });
  const projectId = gateway.projects.get('default')?.config.projectId ?? '';

  let sampler: ReturnType<typeof startMemorySampler> | undefined;
  // An in-process subscriber of every event, as a live client's group would be: it sees when the last one went out.
  const published = { changes: 0, members: 0, completedAt: undefined as number | undefined };
  const completed = new Set<() => void>();
  void (async () => {
    for await (const change of gateway.pubsub.subscribe('cohortMembershipChanged', projectId)) {
      published.changes += 1;
      published.members += change.members.length;
    }
  })();
  void (async () => {
    for await (const _ of gateway.pubsub.subscribe('cohortSyncCompleted', projectId)) {
      published.completedAt = performance.timeOrigin + performance.now();
      for (const wake of completed) wake();
    }
  })();
  process.on('message', (message: ParentMessage) => {
    void (async () => {
      switch (message.type) {
        case 'start':
          published.changes = 0;
          published.members = 0;
          published.completedAt = undefined;
          (globalThis as { gc?: () => void }).gc?.();
          emulator.resetCalls();
          sampler = startMemorySampler();
          send({ type: 'started' });
          return;
        case 'stop': {
          // A full sync's completion events follow the last page's answer: wait for them (bounded).
          if (message.awaitCompletion && published.completedAt === undefined) {
            await new Promise<void>((resolve) => {
              completed.add(resolve);
              setTimeout(resolve, 120_000).unref();
            });
          }
          const peak = sampler?.stop() ?? { rssDeltaMiB: 0, heapDeltaMiB: 0, rssPeakMiB: 0 };
          const state = await store.syncState(projectId, message.cohortId);
          send({
            type: 'stopped',
            peak,
            memberCount: state?.memberCount,
            upstreamCalls: emulator.calls('/'),
            completedAtEpochMs: published.completedAt,
            changesPublished: published.changes,
            membersPublished: published.members,
          });
          return;
        }
        case 'usage': {
          const usage = process.cpuUsage();
          send({ type: 'usage', cpuMicros: usage.user + usage.system });
          return;
        }
        case 'close':
          await gateway.close();
          await store.close();
          await emulator.close();
          if (redis && location) {
            await deleteKeys(redis, location);
            await redis.quit();
          }
          send({ type: 'closed' });
          process.disconnect();
          return;
      }
    })().catch((error: unknown) => send({ type: 'failed', message: error instanceof Error ? error.message : String(error) }));
  });
  send({ type: 'ready', gatewayUrl: gateway.url, webhookUrl: `${gateway.url}${WEBHOOK_PATH}`, graphqlUrl: gateway.graphqlUrl, projectId });
}

main().catch((error: unknown) => {
  send({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
  process.exitCode = 1;
  process.disconnect?.();
});
