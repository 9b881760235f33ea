/**
 * Live cohort membership, from Mixpanel's cohort-sync webhooks: each change
 * the gateway applies, and each completed sync. A subscription keeps one
 * context for its life, so its loaders are cleared on every event: a member
 * resolved an hour later is read afresh.
 */
import { clearAllDataLoaders } from '@pothos/plugin-dataloader';
import { filter, pipe } from 'graphql-yoga';
import type { Context } from './context.js';
import type { ChangeKind } from '../membership/types.js';
import type { CohortChangeEvent, CohortSyncCompletedEvent } from '../pubsub/types.js';
import { builder } from './builder.js';
import { Cohort, memberToProfile } from './cohorts.js';
import type { ProfileShape } from './loaders.js';
import { Profile } from './profiles.js';
import { checkNumericIds } from './validation.js';

const MAX_SUBSCRIBED_COHORTS = 100;

const ChangeKindEnum = builder.enumType('CohortChangeKind', {
  description: 'What a webhook page did to a cohort.',
  values: {
    ADDED: { description: 'Members joined (an `add_members` page).' },
    REMOVED: { description: 'Members left (a `remove_members` page).' },
    REPLACED: { description: 'A full sync replaced the membership; `members` is the new membership, page by page.' },
  } as const satisfies Record<ChangeKind, { description: string }>,
});

/**
 * Every subscriber of a project receives the same event object: build its
 * member profiles once, not once per subscriber (they are read, never mutated).
 */
const memberProfiles = new WeakMap<CohortChangeEvent, ProfileShape[]>();
function membersOf(event: CohortChangeEvent): ProfileShape[] {
  let profiles = memberProfiles.get(event);
  if (!profiles) {
    profiles = event.members.map(memberToProfile);
    memberProfiles.set(event, profiles);
  }
  return profiles;
}

const CohortMembershipChange = builder.objectRef<CohortChangeEvent>('CohortMembershipChange').implement({
  description: 'One applied webhook page of a cohort sync.',
  fields: (t) => ({
    cohortId: t.exposeID('cohortId', { description: 'Mixpanel cohort id.' }),
    cohort: t.field({
      type: Cohort,
      nullable: true,
      complexity: 2,
      description: 'The cohort (from the cohorts list, or the sync).',
      resolve: (e) => e.cohortId,
    }),
    kind: t.field({ type: ChangeKindEnum, description: 'Added, removed or replaced.', resolve: (e) => e.kind }),
    members: t.field({
      type: [Profile],
      description: "The members concerned, carrying the webhook's email, names and exported properties; any other field loads the full profile.",
      resolve: membersOf,
    }),
    sessionId: t.exposeString('sessionId', { description: "Mixpanel's id of the sync session." }),
    page: t.exposeInt('page', { description: 'This page, from 1.' }),
    totalPages: t.exposeInt('totalPages', { description: 'Pages in the session.' }),
    at: t.field({ type: 'DateTime', description: 'When the gateway applied it.', resolve: (e) => new Date(e.at) }),
  }),
});

const CohortSyncCompleted = builder.objectRef<CohortSyncCompletedEvent>('CohortSyncCompleted').implement({
  description: 'Every page of a sync session has arrived and been applied.',
  fields: (t) => ({
    cohortId: t.exposeID('cohortId', { description: 'Mixpanel cohort id.' }),
    cohort: t.field({ type: Cohort, nullable: true, complexity: 2, description: 'The cohort.', resolve: (e) => e.cohortId }),
    sessionId: t.exposeString('sessionId', { description: "Mixpanel's id of the sync session." }),
    totalPages: t.exposeInt('totalPages', { description: 'Pages in the session.' }),
    memberCount: t.exposeInt('memberCount', { description: 'Members after the sync.' }),
    at: t.field({ type: 'DateTime', description: 'When the session completed.', resolve: (e) => new Date(e.at) }),
  }),
});

/** The cohorts asked for, validated, as a filter (undefined: every cohort). */
function cohortFilter<T extends { readonly cohortId: string }>(cohortIds: readonly (string | number)[] | null | undefined): (event: T) => boolean {
  const ids = checkNumericIds(cohortIds, 'cohortIds', MAX_SUBSCRIBED_COHORTS);
  const wanted = ids ? new Set(ids) : undefined;
  return (event) => !wanted || wanted.has(event.cohortId);
}

/** Each event starts with empty loaders and a fresh deadline: the subscription's context outlives any one event. */
function fresh<T extends object>(event: T, ctx: Context): T {
  clearAllDataLoaders(ctx);
  ctx.renewDeadline();
  return event;
}

builder.subscriptionFields((t) => ({
  cohortMembershipChanged: t.field({
    type: CohortMembershipChange,
    description: 'Each membership change applied from a cohort-sync webhook page, as it is applied.',
    args: { cohortIds: t.arg.idList({ description: 'Only these cohorts (default: all).' }) },
    subscribe: (_root, args, ctx) => {
      // Validated before subscribing: a refused argument leaves no subscription behind.
      const wanted = cohortFilter<CohortChangeEvent>(args.cohortIds);
      return pipe(ctx.pubsub.subscribe('cohortMembershipChanged', ctx.project.config.projectId), filter(wanted));
    },
    resolve: (event: CohortChangeEvent, _args, ctx) => fresh(event, ctx),
  }),
  cohortSyncCompleted: t.field({
    type: CohortSyncCompleted,
    description: 'Each completed cohort-sync session.',
    args: { cohortIds: t.arg.idList({ description: 'Only these cohorts (default: all).' }) },
    subscribe: (_root, args, ctx) => {
      // Validated before subscribing: a refused argument leaves no subscription behind.
      const wanted = cohortFilter<CohortSyncCompletedEvent>(args.cohortIds);
      return pipe(ctx.pubsub.subscribe('cohortSyncCompleted', ctx.project.config.projectId), filter(wanted));
    },
    resolve: (event: CohortSyncCompletedEvent, _args, ctx) => fresh(event, ctx),
  }),
}));
