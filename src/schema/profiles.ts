/**
 * User and group profiles from Mixpanel's engage API. Profiles asked for by
 * distinct id anywhere in one operation are fetched together: one engage
 * call per 1000 ids.
 */
import { createHash } from 'node:crypto';
import type { Context } from './context.js';
import { NotFoundError } from '../core/errors.js';
import type { EngageParams } from '../mixpanel/types.js';
import { builder } from './builder.js';
import { failures } from './errors.js';
import { PropertyValue, propertyValues } from './lexicon/index.js';
import { ENGAGE_PAGE_SIZE, engagePage, loadGroupProfile, loadProfiles, toProfile, type ProfileShape } from './loaders.js';
import { checkExpression, checkFirst, checkName, checkNumericId, decodeCursor, encodeCursor } from './validation.js';

/** Most profiles one connection page returns: one engage page. */
export const MAX_PROFILES_PER_PAGE = ENGAGE_PAGE_SIZE;
const DEFAULT_PROFILES_PER_PAGE = 50;

/**
 * Profiles by distinct id, in key order: a profile, null when Mixpanel does
 * not know the id (NotFoundError for that field alone), or the error of that
 * id alone. Reads are shared with every request of the project.
 */
export const Profile = builder.loadableObjectRef('Profile', {
  load: (distinctIds: string[], ctx: Context) => loadProfiles(ctx, distinctIds) as Promise<ProfileShape[]>,
});

/**
 * A property of a profile. Profiles built from webhook members carry only
 * some properties; any other one is read from the full profile, which the
 * loader fetches for all such profiles at once.
 */
export async function propertyOf(profile: ProfileShape, name: string, ctx: Context): Promise<unknown> {
  if (profile.complete || name in profile.properties) return profile.properties[name] ?? null;
  const full = await Profile.getDataloader(ctx).load(profile.distinctId);
  return full?.properties[name] ?? null;
}

async function allPropertiesOf(profile: ProfileShape, ctx: Context): Promise<Readonly<Record<string, unknown>>> {
  if (profile.complete) return profile.properties;
  const full = await Profile.getDataloader(ctx).load(profile.distinctId);
  return { ...full?.properties, ...profile.properties };
}

/** Mixpanel profile dates are ISO strings without a zone, in UTC ("2008-06-09T23:08:40"). */
function toDate(value: unknown): Date | null {
  if (typeof value === 'number') return new Date(value < 100_000_000_000 ? value * 1000 : value);
  if (typeof value !== 'string' || value === '') return null;
  const date = new Date(/[zZ]|[+-]\d{2}:?\d{2}$/.test(value) ? value : `${value}Z`);
  return Number.isNaN(date.getTime()) ? null : date;
}

const asString = (value: unknown): string | null => (value === null || value === undefined ? null : String(value));

Profile.implement({
  description: 'A Mixpanel user profile (or a group profile, when loaded by group key).',
  fields: (t) => {
    const text = (property: string, description: string) =>
      t.string({ nullable: true, description, resolve: async (p, _args, ctx) => asString(await propertyOf(p, property, ctx)) });
    const instant = (property: string, description: string) =>
      t.field({ type: 'DateTime', nullable: true, description, resolve: async (p, _args, ctx) => toDate(await propertyOf(p, property, ctx)) });
    return {
      distinctId: t.exposeID('distinctId', { description: 'The distinct id (for a group profile, the group id).' }),
      groupKey: t.string({ nullable: true, description: 'The group key of a group profile; null for user profiles.', resolve: (p) => p.groupKey ?? null }),
      email: text('$email', 'Email address (`$email`).'),
      name: text('$name', 'Full name (`$name`).'),
      firstName: text('$first_name', 'First name (`$first_name`).'),
      lastName: text('$last_name', 'Last name (`$last_name`).'),
      phone: text('$phone', 'Phone number (`$phone`).'),
      city: text('$city', 'City, from geolocation or as set (`$city`).'),
      region: text('$region', 'Region or state (`$region`).'),
      country: text('$country_code', 'ISO 3166 country code (`$country_code`).'),
      timezone: text('$timezone', 'IANA timezone (`$timezone`).'),
      created: instant('$created', 'When the profile was created (`$created`).'),
      lastSeen: instant('$last_seen', 'When the user was last seen (`$last_seen`).'),
      properties: t.field({
        type: 'JSON',
        description: 'Every property of the profile, as Mixpanel stores them.',
        resolve: (p, _args, ctx) => allPropertiesOf(p, ctx),
      }),
      property: t.field({
        type: 'JSON',
        nullable: true,
        description: 'One property by name (null when the profile does not have it).',
        args: { name: t.arg.string({ required: true, description: 'Property name, e.g. `plan` or `$city`.' }) },
        resolve: (p, args, ctx) => propertyOf(p, args.name, ctx),
      }),
      fetchedAt: t.field({
        type: 'DateTime',
        nullable: true,
        description:
          'When the gateway read this profile from Mixpanel (null when it came from a list page or a webhook copy). ' +
          'Profiles are shared between requests for the profile cache TTL.',
        resolve: (p) => (p.fetchedAt === undefined ? null : new Date(p.fetchedAt)),
      }),
      stale: t.boolean({
        description: 'True when served past its cache TTL because the project’s Query budget could not fit a fresh read: `fetchedAt` says how old it is.',
        resolve: (p) => p.stale === true,
      }),
      propertyValues: t.field({
        type: [PropertyValue],
        complexity: 2,
        description: 'Every property with its Lexicon definition (one Lexicon call serves the whole operation).',
        resolve: async (p, _args, ctx) => propertyValues(await allPropertiesOf(p, ctx)),
      }),
    };
  },
});

// ---------- the engage-paged connection, shared with Cohort.members ----------

interface EngagePosition {
  /** Mixpanel's session id of the query; undefined before the first page. */
  readonly s?: string;
  /** 0-based engage page. */
  readonly p: number;
  /** Index within that page of the item the cursor points at. */
  readonly i: number;
  /** Total from page 0, carried along since later pages do not repeat it. */
  readonly n?: number;
}

const isEngagePosition = (value: Record<string, unknown>): value is Record<string, unknown> & EngagePosition =>
  Number.isInteger(value['p']) &&
  (value['p'] as number) >= 0 &&
  Number.isInteger(value['i']) &&
  (value['i'] as number) >= 0 &&
  // Pages after the first exist only within Mixpanel's session of the query.
  (value['p'] === 0 ? value['s'] === undefined || typeof value['s'] === 'string' : typeof value['s'] === 'string') &&
  (value['n'] === undefined || Number.isInteger(value['n']));

export interface ProfileConnectionShape {
  readonly edges: { readonly cursor: string; readonly node: ProfileShape }[];
  readonly pageInfo: {
    readonly hasNextPage: boolean;
    readonly hasPreviousPage: boolean;
    readonly startCursor: string | null;
    readonly endCursor: string | null;
  };
  readonly totalCount?: number | null;
}

export function connectionOf<T>(
  items: readonly T[],
  first: number,
  cursorOf: (item: T) => string,
  hasPreviousPage: boolean,
): { edges: { cursor: string; node: T }[]; pageInfo: ProfileConnectionShape['pageInfo'] } {
  const edges = items.slice(0, first).map((node) => ({ cursor: cursorOf(node), node }));
  return {
    edges,
    pageInfo: {
      hasNextPage: items.length > first,
      hasPreviousPage,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
  };
}

/**
 * The cursor tag of one engage query: a cursor carries Mixpanel's session of
 * that query, whose pages would silently answer another filter.
 */
const queryTag = (tag: string, base: EngageParams): string => `${tag}:${createHash('sha256').update(JSON.stringify(base)).digest('base64url').slice(0, 12)}`;

/**
 * One connection page over engage's paging: reads engage pages from the
 * cursor's position until it has `first + 1` profiles (the extra one only
 * says whether there is a next page) or the query is exhausted. Pages are
 * cached, so the next connection page usually costs no call.
 */
export async function engageConnection(
  ctx: Context,
  base: EngageParams,
  firstArg: number | null | undefined,
  after: string | null | undefined,
  tag: string,
): Promise<ProfileConnectionShape> {
  const first = checkFirst(firstArg, { default: DEFAULT_PROFILES_PER_PAGE, max: MAX_PROFILES_PER_PAGE });
  const cursorTag = queryTag(tag, base);
  const from = decodeCursor(cursorTag, after, isEngagePosition);
  let sessionId = from?.s;
  let pageNumber = from?.p ?? 0;
  let index = from ? from.i + 1 : 0;
  let total = from?.n;
  const found: { profile: ProfileShape; position: EngagePosition }[] = [];
  for (;;) {
    const page = await engagePage(ctx, pageNumber === 0 ? base : { ...base, sessionId, page: pageNumber });
    sessionId ??= page.session_id;
    total ??= page.total;
    for (; index < page.results.length && found.length <= first; index += 1) {
      const profile = toProfile(page.results[index]!);
      found.push({ profile, position: { s: sessionId, p: pageNumber, i: index, ...(total === undefined ? {} : { n: total }) } });
      Profile.getDataloader(ctx).prime(profile.distinctId, profile);
    }
    const exhausted = page.results.length < page.page_size || (total !== undefined && total <= page.page_size * (pageNumber + 1));
    if (found.length > first || exhausted || page.results.length === 0) break;
    pageNumber += 1;
    index = 0;
  }
  const connection = connectionOf(found, first, (item) => encodeCursor(cursorTag, item.position), from !== undefined);
  return {
    edges: connection.edges.map((edge) => ({ cursor: edge.cursor, node: edge.node.profile })),
    pageInfo: connection.pageInfo,
    totalCount: total ?? null,
  };
}

export const ProfileConnection = builder.connectionObject(
  {
    type: Profile,
    name: 'ProfileConnection',
    description: 'A page of profiles.',
    fields: (t) => ({
      totalCount: t.int({
        nullable: true,
        description: 'How many profiles match in all, as Mixpanel reports it (null when unknown).',
        resolve: (connection) => connection.totalCount ?? null,
      }),
    }),
  },
  { name: 'ProfileEdge', description: 'A profile and its cursor.' },
);

const profilesComplexity = (args: { first?: number | null }) => ({
  field: 10,
  multiplier: Math.min(args.first ?? DEFAULT_PROFILES_PER_PAGE, MAX_PROFILES_PER_PAGE),
});

builder.queryFields((t) => ({
  profile: t.field({
    type: Profile,
    nullable: true,
    complexity: 10,
    description: 'One user profile by distinct id. Profiles asked for anywhere in the operation are fetched in one engage call.',
    args: { distinctId: t.arg.id({ required: true, description: "The user's distinct id." }) },
    errors: { types: failures('lookup') },
    resolve: async (_root, args, ctx) => {
      const distinctId = checkName(String(args.distinctId), 'distinctId');
      const profile = await Profile.getDataloader(ctx).load(distinctId);
      if (!profile) throw new NotFoundError('Profile', distinctId);
      return profile;
    },
  }),
  profiles: t.field({
    type: ProfileConnection,
    nullable: true,
    complexity: profilesComplexity,
    description:
      `Profiles matching a filter, a page at a time (at most ${MAX_PROFILES_PER_PAGE} per page). Follows Mixpanel's ` +
      `engage paging; cursors expire with Mixpanel's query session.`,
    args: {
      where: t.arg.string({ description: 'Engage filter expression, e.g. `properties["$city"] == "Paris"` (Mixpanel segmentation-expression syntax).' }),
      cohortId: t.arg.id({ description: 'Only members of this cohort.' }),
      first: t.arg.int({ description: `Profiles per page, 1..${MAX_PROFILES_PER_PAGE} (default ${DEFAULT_PROFILES_PER_PAGE}).` }),
      after: t.arg.string({ description: 'The `endCursor` of the previous page.' }),
    },
    errors: { types: failures('arguments') },
    resolve: (_root, args, ctx) => {
      const where = checkExpression(args.where, 'where');
      const cohortId = args.cohortId === null || args.cohortId === undefined ? undefined : checkNumericId(String(args.cohortId), 'cohortId');
      const base: EngageParams = { ...(where === undefined ? {} : { where }), ...(cohortId === undefined ? {} : { filterByCohort: cohortId }) };
      return engageConnection(ctx, base, args.first, args.after, 'profiles');
    },
  }),
  groupProfile: t.field({
    type: Profile,
    nullable: true,
    complexity: 10,
    description: 'One group profile (e.g. a company) by group key and group id.',
    args: {
      groupKey: t.arg.string({ required: true, description: 'The group key, e.g. `company_id` (Mixpanel `data_group_id`).' }),
      groupId: t.arg.id({ required: true, description: 'The group id within that key.' }),
    },
    errors: { types: failures('lookup') },
    resolve: async (_root, args, ctx) => {
      const groupKey = checkName(args.groupKey, 'groupKey');
      const groupId = checkName(String(args.groupId), 'groupId');
      return loadGroupProfile(ctx, groupKey, groupId);
    },
  }),
}));
