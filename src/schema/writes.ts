/**
 * Writes: events (/import), profile and group updates (/engage, /groups) and
 * identity merges, batched across clients by src/writes. Each mutation takes
 * an optional `idempotencyKey`: the same key with the same input answers the
 * first result without sending anything again.
 *
 * With API keys configured, writes need a key allowed to write (`canWrite`),
 * which the server checks before any resolver runs.
 */
import type { Context } from './context.js';
import { InvalidArgumentError } from '../core/errors.js';
import { RateLimitedError } from '../mixpanel/errors.js';
import { IdempotencyConflictError, WritesUnavailableError } from '../writes/errors.js';
import type { OnceRequest } from '../writes/idempotency.js';
import { MAX_EVENTS_PER_MUTATION, MAX_MERGED_PROFILES, MAX_UPDATES_PER_MUTATION, type ProjectWrites } from '../writes/project-writes.js';
import { builder } from './builder.js';
import { ErrorInterface } from './errors.js';

export function writesOf(ctx: Context): ProjectWrites {
  if (!ctx.writes) throw new WritesUnavailableError('Writes are not available on this endpoint');
  return ctx.writes;
}

/** Runs a write once per idempotency key (scoped by project, API key and mutation). */
export function onceFor<T>(
  ctx: Context,
  mutation: string,
  request: Pick<OnceRequest, 'idempotencyKey' | 'input' | 'replaySafe'>,
  run: (writes: ProjectWrites) => Promise<T>,
): Promise<T> {
  const writes = writesOf(ctx);
  return writes.idempotency.once({ ...request, scope: [ctx.project.config.key, ctx.client?.id, mutation], deadline: ctx.upstream.deadline }, () => run(writes));
}

builder.objectType(IdempotencyConflictError, {
  name: 'IdempotencyConflictError',
  description: 'The idempotency key was already used with another input. Nothing was sent; use a new key for a new write.',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    idempotencyKey: t.exposeString('idempotencyKey', { description: 'The key that was reused.' }),
  }),
});

/** Failures a write can return: a bad argument, a spent budget, a reused key. */
export const WRITE_ERRORS = [IdempotencyConflictError, InvalidArgumentError, RateLimitedError];

export const IDEMPOTENCY_KEY_DESCRIPTION =
  'Makes the write safe to retry: the same key with the same input answers the first result without sending ' +
  'again (for 24 hours by default); the same key with another input is refused. Use a new UUID per write.';

const EventInput = builder.inputType('EventInput', {
  description: 'An event to import. Validated before anything is sent; an invalid event is reported in `failures` and the others still land.',
  fields: (t) => ({
    event: t.string({ required: true, description: 'Event name (1 to 255 characters).' }),
    distinctId: t.id({ description: 'The user who did it; leave it out for an event tied to no user.' }),
    time: t.field({ type: 'DateTime', required: true, description: 'When it happened: after 1971-01-01 and at most 1 hour ahead of now.' }),
    insertId: t.string({
      description:
        'Mixpanel de-duplicates on (event, time, distinctId, insertId): up to 36 letters, digits or "-". Default: a ' +
        'hash of the event, so a retry never counts twice.',
    }),
    properties: t.field({ type: 'JSON', description: 'Other properties, a JSON object (fewer than 250 keys, nested at most 3 deep).' }),
  }),
});

interface ImportFailureShape {
  readonly index: number;
  readonly insertId: string | null;
  readonly field: string | null;
  readonly message: string;
}

const ImportFailure = builder.objectRef<ImportFailureShape>('ImportFailure').implement({
  description: 'An event that did not land.',
  fields: (t) => ({
    index: t.exposeInt('index', { description: 'Its position in the `events` you sent.' }),
    insertId: t.exposeString('insertId', { nullable: true, description: 'Its `$insert_id`, when it had one.' }),
    field: t.exposeString('field', { nullable: true, description: 'The field at fault (e.g. `time`, `properties.plan`), when one is.' }),
    message: t.exposeString('message', { description: 'Why it did not land.' }),
  }),
});

const ImportEventsPayload = builder
  .objectRef<{ readonly imported: number; readonly failures: readonly ImportFailureShape[] }>('ImportEventsPayload')
  .implement({
    description: 'What an import did: the events that landed and those that did not.',
    fields: (t) => ({
      imported: t.exposeInt('imported', { description: 'Events Mixpanel ingested.' }),
      failures: t.field({ type: [ImportFailure], description: 'Events that did not land, by index.', resolve: (r) => [...r.failures] }),
    }),
  });

const UpdateFailure = builder.objectRef<{ readonly index: number; readonly message: string }>('UpdateFailure').implement({
  description: 'An update that did not reach Mixpanel.',
  fields: (t) => ({
    index: t.exposeInt('index', { description: 'Its position in the `updates` you sent.' }),
    message: t.exposeString('message', { description: 'Why.' }),
  }),
});

/** A mutation's payload is `<Mutation>Payload`; both profile mutations answer the same fields. */
const updatePayload = (name: string, description: string) =>
  builder.objectRef<{ readonly updated: number; readonly failures: readonly { index: number; message: string }[] }>(name).implement({
    description,
    fields: (t) => ({
      updated: t.exposeInt('updated', { description: 'Updates Mixpanel accepted.' }),
      failures: t.field({ type: [UpdateFailure], description: 'Updates that did not reach Mixpanel, by index.', resolve: (r) => [...r.failures] }),
    }),
  });

const UpdateProfilesPayload = updatePayload('UpdateProfilesPayload', 'What a batch of profile updates did.');
const UpdateGroupProfilesPayload = updatePayload('UpdateGroupProfilesPayload', 'What a batch of group profile updates did.');

const MergeProfilesPayload = builder.objectRef<{ readonly merged: number }>('MergeProfilesPayload').implement({
  description: 'What a merge did.',
  fields: (t) => ({
    merged: t.exposeInt('merged', { description: 'Profiles merged into the first one (one `$merge` each).' }),
  }),
});

const operationFields = {
  set: 'Properties to set (`$set`), a JSON object.',
  setOnce: 'Properties to set only where not yet set (`$set_once`).',
  union: 'Lists to merge values into (`$union`): each value a JSON list.',
  remove: 'A value to remove from each named list (`$remove`; sent once, never retried).',
} as const;

const ProfileUpdateInput = builder.inputType('ProfileUpdateInput', {
  description: 'Changes to one user profile; give at least one operation. Each operation travels as its own Mixpanel update.',
  fields: (t) => ({
    distinctId: t.id({ required: true, description: 'The profile.' }),
    set: t.field({ type: 'JSON', description: operationFields.set }),
    setOnce: t.field({ type: 'JSON', description: operationFields.setOnce }),
    add: t.field({ type: 'JSON', description: 'Numbers to add to numeric properties (`$add`; sent once, never retried).' }),
    union: t.field({ type: 'JSON', description: operationFields.union }),
    append: t.field({ type: 'JSON', description: 'A value to append to each named list (`$append`; sent once, never retried).' }),
    remove: t.field({ type: 'JSON', description: operationFields.remove }),
    unset: t.stringList({ description: 'Properties to remove (`$unset`).' }),
    delete: t.boolean({ description: 'Delete the whole profile (`$delete`); not combined with other operations.' }),
  }),
});

const GroupProfileUpdateInput = builder.inputType('GroupProfileUpdateInput', {
  description: 'Changes to one group profile; give at least one operation (groups have no `add` or `append`).',
  fields: (t) => ({
    groupKey: t.string({ required: true, description: 'The group key, e.g. `company_id`.' }),
    groupId: t.id({ required: true, description: 'The group.' }),
    set: t.field({ type: 'JSON', description: operationFields.set }),
    setOnce: t.field({ type: 'JSON', description: operationFields.setOnce }),
    union: t.field({ type: 'JSON', description: operationFields.union }),
    remove: t.field({ type: 'JSON', description: operationFields.remove }),
    unset: t.stringList({ description: 'Properties to remove (`$unset`).' }),
    delete: t.boolean({ description: 'Delete the whole group profile (`$delete`); not combined with other operations.' }),
  }),
});

builder.mutationFields((t) => ({
  importEvents: t.field({
    type: ImportEventsPayload,
    nullable: true,
    complexity: 10,
    description: `Imports up to ${MAX_EVENTS_PER_MUTATION.toLocaleString('en-US')} events (/import, strict validation). Concurrent imports of every client leave together, in requests of at most 2,000 events and 10 MB. Safe to retry: every event carries a \`$insert_id\`.`,
    args: {
      events: t.arg({ type: [EventInput], required: true, description: 'The events.' }),
      idempotencyKey: t.arg.string({ description: IDEMPOTENCY_KEY_DESCRIPTION }),
    },
    errors: { types: WRITE_ERRORS },
    resolve: (_root, args, ctx) =>
      onceFor(ctx, 'importEvents', { idempotencyKey: args.idempotencyKey, input: args.events, replaySafe: true }, (writes) =>
        writes.importEvents(args.events, ctx.upstream),
      ),
  }),
  updateProfiles: t.field({
    type: UpdateProfilesPayload,
    nullable: true,
    complexity: 10,
    description:
      `Updates up to ${MAX_UPDATES_PER_MUTATION.toLocaleString('en-US')} user profiles (/engage). Merged with other ` +
      `clients' updates into requests of at most 2,000; a read of the profile right after sees the change.`,
    args: {
      updates: t.arg({ type: [ProfileUpdateInput], required: true, description: 'The updates, applied in order.' }),
      idempotencyKey: t.arg.string({ description: IDEMPOTENCY_KEY_DESCRIPTION }),
    },
    errors: { types: WRITE_ERRORS },
    resolve: (_root, args, ctx) =>
      onceFor(ctx, 'updateProfiles', { idempotencyKey: args.idempotencyKey, input: args.updates, replaySafe: !hasOnceOnlyOperation(args.updates) }, (writes) =>
        writes.updateProfiles(args.updates, ctx.upstream),
      ),
  }),
  updateGroupProfiles: t.field({
    type: UpdateGroupProfilesPayload,
    nullable: true,
    complexity: 10,
    description: `Updates up to ${MAX_UPDATES_PER_MUTATION.toLocaleString('en-US')} group profiles (/groups), merged like \`updateProfiles\`.`,
    args: {
      updates: t.arg({ type: [GroupProfileUpdateInput], required: true, description: 'The updates, applied in order.' }),
      idempotencyKey: t.arg.string({ description: IDEMPOTENCY_KEY_DESCRIPTION }),
    },
    errors: { types: WRITE_ERRORS },
    resolve: (_root, args, ctx) =>
      onceFor(
        ctx,
        'updateGroupProfiles',
        { idempotencyKey: args.idempotencyKey, input: args.updates, replaySafe: !hasOnceOnlyOperation(args.updates) },
        (writes) => writes.updateGroupProfiles(args.updates, ctx.upstream),
      ),
  }),
  mergeProfiles: t.field({
    type: MergeProfilesPayload,
    nullable: true,
    complexity: 10,
    description: `Merges up to ${MAX_MERGED_PROFILES} profiles into the first (\`$merge\` through /import), for projects on Mixpanel's Original ID Merge API (MIXPANEL_ID_MERGE_API=original).`,
    args: {
      distinctIds: t.arg.idList({ required: true, description: 'The profiles; the first one absorbs the others.' }),
      idempotencyKey: t.arg.string({ description: IDEMPOTENCY_KEY_DESCRIPTION }),
    },
    errors: { types: WRITE_ERRORS },
    resolve: (_root, args, ctx) =>
      onceFor(ctx, 'mergeProfiles', { idempotencyKey: args.idempotencyKey, input: args.distinctIds, replaySafe: true }, (writes) =>
        writes.mergeProfiles(args.distinctIds.map(String), ctx.upstream),
      ),
  }),
}));

/** `$add`, `$append` and `$remove` apply twice if sent twice. */
function hasOnceOnlyOperation(updates: readonly { add?: unknown; append?: unknown; remove?: unknown }[]): boolean {
  return updates.some((update) => update.add != null || update.append != null || update.remove != null);
}
