/**
 * Demo mode's stand-in for Mixpanel's scheduled cohort sync: a full
 * `members` export of every cohort at start, then, every interval, a little
 * simulated user activity (some profiles change plan) followed by the
 * `add_members` / `remove_members` diffs Mixpanel would send. Subscriptions
 * in GraphiQL therefore show live changes without a Mixpanel account.
 * Mixpanel itself syncs about every 30 minutes; the demo compresses that.
 * Syncing every cohort is how Mixpanel documents getting membership
 * (https://docs.mixpanel.com/docs/cohort-sync/webhooks): `Profile.cohorts`
 * and `Cohort.members` then cost no Query call in the demo.
 */
import type { Logger } from '../observability/logger.js';
import type { Secret } from '../core/secret.js';
import { createCohortSyncSender, toSenderMember } from './cohort-sync.js';
import { cohortMembers } from './cohorts.js';
import { mulberry32 } from './seed.js';
import type { EmulatorProjectData } from './types.js';

export interface DemoActivityOptions {
  readonly data: EmulatorProjectData;
  /** The gateway's cohort webhook URL. */
  readonly webhookUrl: string;
  /** The webhook's Basic credentials, when the gateway requires them. */
  readonly basicAuth?: { readonly username: string; readonly password: Secret } | undefined;
  /** Cohorts to sync. Default: every cohort of the project. */
  readonly cohortIds?: readonly number[];
  /** Time between syncs. Default 30 s. */
  readonly intervalMs?: number;
  /** Profiles changing plan per interval. Default 5. */
  readonly changesPerInterval?: number;
  readonly logger: Logger;
}

export interface DemoActivity {
  /** Settles when the first sync of every cohort has been delivered (or has failed, which is logged). */
  readonly ready: Promise<void>;
  stop(): Promise<void>;
}

const PLANS = ['Free', 'Pro', 'Enterprise'] as const;

export function startDemoActivity(options: DemoActivityOptions): DemoActivity {
  const { data, logger } = options;
  const cohortIds = options.cohortIds ?? data.cohorts.map((cohort) => cohort.id);
  const changes = options.changesPerInterval ?? 5;
  const random = mulberry32(42);
  const sender = createCohortSyncSender({ url: options.webhookUrl, basicAuth: options.basicAuth });
  const distinctIds = [...data.profiles.keys()];

  const syncAll = async () => {
    for (const cohortId of cohortIds) {
      const cohort = data.cohorts.find((c) => c.id === cohortId);
      if (!cohort) continue;
      const result = await sender.sync({
        projectId: data.projectId,
        cohortId: String(cohort.id),
        cohortName: cohort.name,
        cohortDescription: cohort.description,
        members: cohortMembers(data, cohort.id).map((profile) => toSenderMember(profile)),
      });
      if (result.status !== 'ok') logger.warn(`demo cohort sync of ${cohort.name} ended ${result.status}`, result.error);
    }
  };

  const simulateActivity = () => {
    for (let i = 0; i < changes && distinctIds.length > 0; i += 1) {
      const profile = data.profiles.get(distinctIds[Math.floor(random() * distinctIds.length)]!);
      if (profile) profile.properties['plan'] = PLANS[Math.floor(random() * PLANS.length)];
    }
  };

  const ready: Promise<void> = syncAll().catch((error: unknown) => logger.warn('demo cohort sync failed', error));
  let running = ready;
  const timer = setInterval(() => {
    running = running
      .then(async () => {
        simulateActivity();
        await syncAll();
      })
      .catch((error: unknown) => logger.warn('demo cohort sync failed', error));
  }, options.intervalMs ?? 30_000);
  timer.unref();

  return {
    ready,
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
