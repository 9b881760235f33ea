/**
 * Cohorts: the cohorts list, members, and which cohorts a profile is in.
 * Membership of a cohort synced by Mixpanel's cohort webhooks comes from
 * the membership store and costs no REST call; other cohorts are read
 * through engage's `filter_by_cohort`.
 */
import type { Context } from './context.js';
import { NotFoundError } from '../core/errors.js';
import type { CohortMember, CohortSyncState } from '../membership/types.js';
import { builder } from './builder.js';
import { failures } from './errors.js';
import { listConnection, listOf, type ListShape } from './lists.js';
import { cohortList, loadCohortIdsOfProfiles, loadCohorts, toCohort, type CohortShape, type ProfileShape } from './loaders.js';
import { Profile, ProfileConnection, connectionOf, engageConnection, MAX_PROFILES_PER_PAGE, type ProfileConnectionShape } from './profiles.js';
import { checkFirst, checkNumericId, checkNumericIds, decodeCursor, encodeCursor } from './validation.js';

const DEFAULT_MEMBERS_PER_PAGE = 50;
const MAX_COHORT_FILTER = 100;

export const Cohort = builder.loadableObjectRef('Cohort', {
  load: (ids: string[], ctx: Context) => loadCohorts(ctx, ids),
  sort: (cohort) => cohort.id,
});

const CohortConnection = listConnection('CohortConnection', Cohort, 'Cohorts.', 'The cohorts, in cohort-list order.');

/** A webhook member as a Profile: its exported properties now, the rest through the profile loader. */
export function memberToProfile(member: CohortMember): ProfileShape {
  const named: Record<string, unknown> = {};
  if (member.email !== undefined) named['$email'] = member.email;
  if (member.firstName !== undefined) named['$first_name'] = member.firstName;
  if (member.lastName !== undefined) named['$last_name'] = member.lastName;
  if (member.phoneNumber !== undefined) named['$phone'] = member.phoneNumber;
  return { distinctId: member.distinctId, properties: { ...member.properties, ...named }, complete: false };
}

type SyncShape = { readonly source: 'WEBHOOK'; readonly state: CohortSyncState } | { readonly source: 'API' };

const SyncSourceEnum = builder.enumType('CohortSyncSource', {
  description: 'Where the gateway reads a cohort’s members from.',
  values: {
    WEBHOOK: { description: "Mixpanel's cohort-sync webhook keeps a copy in the gateway: reading members costs no Mixpanel call." },
    API: { description: 'No webhook sync: members are read from Mixpanel’s engage API, within the Query budget.' },
  } as const,
});

const CohortSync = builder.loadableObjectRef('CohortSync', {
  load: async (cohortIds: string[], ctx: Context): Promise<SyncShape[]> => {
    const synced = new Map((await ctx.project.membership.syncedCohorts(ctx.project.config.projectId)).map((s) => [s.cohortId, s]));
    return cohortIds.map((id) => {
      const state = synced.get(id);
      return state ? { source: 'WEBHOOK', state } : { source: 'API' };
    });
  },
});

CohortSync.implement({
  description: 'How the gateway knows a cohort’s members.',
  fields: (t) => ({
    source: t.field({ type: SyncSourceEnum, description: 'Webhook copy or Mixpanel API.', resolve: (s) => s.source }),
    lastSyncAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When the last complete webhook sync was applied (null for API).',
      resolve: (s) => (s.source === 'WEBHOOK' ? new Date(s.state.lastSyncAt) : null),
    }),
    sessionId: t.string({
      nullable: true,
      description: "Mixpanel's session id of the last sync (null for API).",
      resolve: (s) => (s.source === 'WEBHOOK' ? s.state.sessionId : null),
    }),
    memberCount: t.int({
      nullable: true,
      description: 'Members in the webhook copy (null for API: see `Cohort.count`).',
      resolve: (s) => (s.source === 'WEBHOOK' ? s.state.memberCount : null),
    }),
  }),
});

interface StorePosition {
  /** Distinct id of the member the cursor points at. */
  readonly d: string;
}
const isStorePosition = (value: Record<string, unknown>): value is Record<string, unknown> & StorePosition => typeof value['d'] === 'string';

async function membersFromStore(
  ctx: Context,
  state: CohortSyncState,
  firstArg: number | null | undefined,
  after: string | null | undefined,
): Promise<ProfileConnectionShape> {
  const first = checkFirst(firstArg, { default: DEFAULT_MEMBERS_PER_PAGE, max: MAX_PROFILES_PER_PAGE });
  const from = decodeCursor('members-webhook', after, isStorePosition);
  const members = await ctx.project.membership.members(state.projectId, state.cohortId, {
    first: first + 1,
    ...(from ? { afterDistinctId: from.d } : {}),
  });
  const connection = connectionOf(members.map(memberToProfile), first, (p) => encodeCursor('members-webhook', { d: p.distinctId }), from !== undefined);
  return { ...connection, totalCount: state.memberCount };
}

Cohort.implement({
  description: 'A saved Mixpanel cohort.',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'Mixpanel cohort id.' }),
    name: t.exposeString('name', { description: 'Cohort name.' }),
    description: t.exposeString('description', { nullable: true, description: 'Cohort description (null when known only from a webhook sync).' }),
    count: t.exposeInt('count', { nullable: true, description: 'Members, as Mixpanel last counted them.' }),
    createdAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When the cohort was created.',
      resolve: (c) => (c.created ? new Date(`${c.created.replace(' ', 'T')}Z`) : null),
    }),
    isVisible: t.exposeBoolean('isVisible', { nullable: true, description: 'Whether it shows in Mixpanel’s cohort list.' }),
    projectId: t.exposeID('projectId', { description: 'Mixpanel project id.' }),
    sync: t.field({ type: CohortSync, complexity: 1, description: 'Where its members are read from, and the last webhook sync.', resolve: (c) => c.id }),
    members: t.field({
      type: ProfileConnection,
      nullable: true,
      complexity: (args) => ({ field: 10, multiplier: Math.min(args.first ?? DEFAULT_MEMBERS_PER_PAGE, MAX_PROFILES_PER_PAGE) }),
      description:
        'Members, a page at a time: from the webhook copy when synced (profiles carry the exported properties; others load on demand), else from engage.',
      args: {
        first: t.arg.int({ description: `Members per page, 1..${MAX_PROFILES_PER_PAGE} (default ${DEFAULT_MEMBERS_PER_PAGE}).` }),
        after: t.arg.string({ description: 'The `endCursor` of the previous page.' }),
      },
      errors: { types: failures('arguments') },
      resolve: async (cohort, args, ctx) => {
        const state = await ctx.project.membership.syncState(ctx.project.config.projectId, cohort.id);
        if (state) return membersFromStore(ctx, state, args.first, args.after);
        return engageConnection(ctx, { filterByCohort: checkNumericId(cohort.id, 'id') }, args.first, args.after, 'members-api');
      },
    }),
  }),
});

builder.objectField(Profile, 'cohorts', (t) =>
  t.loadable({
    type: CohortConnection,
    nullable: true,
    byPath: true,
    complexity: 5,
    description:
      'Cohorts the user belongs to. Webhook-synced cohorts cost nothing; each other non-empty cohort is read whole ' +
      'once (one engage call per 1000 members) and shared by every profile and request for the cohorts cache TTL. ' +
      'One operation starts at most a few such reads; while more are read in the background the field answers ' +
      'RateLimitedError (retry shortly, or pass `among`).',
    args: { among: t.arg.idList({ description: 'Only check these cohorts (saves Query budget).' }) },
    errors: { types: failures('arguments') },
    load: async (distinctIds: string[], ctx: Context, args): Promise<ListShape<CohortShape>[]> => {
      const among = checkNumericIds(args.among, 'among', MAX_COHORT_FILTER);
      const idsPerProfile = await loadCohortIdsOfProfiles(ctx, distinctIds, among);
      const loaded = await Cohort.getDataloader(ctx).loadMany([...new Set(idsPerProfile.flat())]);
      const cohorts = new Map<string, CohortShape>();
      for (const cohort of loaded) {
        if (cohort instanceof Error) throw cohort;
        if (cohort) cohorts.set(cohort.id, cohort);
      }
      return idsPerProfile.map((ids) => listOf(ids.flatMap((id) => cohorts.get(id) ?? [])));
    },
    resolve: (profile, args) => {
      checkNumericIds(args.among, 'among', MAX_COHORT_FILTER);
      return profile.distinctId;
    },
  }),
);

builder.queryFields((t) => ({
  cohort: t.field({
    type: Cohort,
    nullable: true,
    complexity: 10,
    description: 'One cohort by id.',
    args: { id: t.arg.id({ required: true, description: 'Mixpanel cohort id.' }) },
    errors: { types: failures('lookup') },
    resolve: async (_root, args, ctx) => {
      const id = String(checkNumericId(String(args.id), 'id'));
      const cohort = await Cohort.getDataloader(ctx).load(id);
      if (!cohort) throw new NotFoundError('Cohort', id);
      return cohort;
    },
  }),
  cohorts: t.field({
    type: CohortConnection,
    nullable: true,
    complexity: 10,
    description: 'Every saved cohort of the project (one cached call), plus cohorts known only from webhook syncs.',
    errors: { types: failures('upstream') },
    resolve: async (_root, _args, ctx) => {
      const records = (await cohortList(ctx)).map(toCohort);
      const known = new Set(records.map((c) => c.id));
      const syncedOnly = (await ctx.project.membership.syncedCohorts(ctx.project.config.projectId)).filter((s) => !known.has(s.cohortId));
      const extra =
        syncedOnly.length > 0
          ? await loadCohorts(
              ctx,
              syncedOnly.map((s) => s.cohortId),
            )
          : [];
      const loader = Cohort.getDataloader(ctx);
      for (const cohort of records) loader.prime(cohort.id, cohort);
      return listOf([...records, ...extra]);
    },
  }),
}));
