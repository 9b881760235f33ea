/**
 * Annotations: notes pinned to a date on Mixpanel charts (App API).
 */
import type { Context } from './context.js';
import { InvalidArgumentError, NotFoundError } from '../core/errors.js';
import { BadRequestError, UpstreamNotFoundError } from '../mixpanel/errors.js';
import type { Annotation as AnnotationRecord, AnnotationTag as AnnotationTagRecord } from '../mixpanel/types.js';
import { builder } from './builder.js';
import { failures } from './errors.js';
import { listConnection, listOf } from './lists.js';
import { annotationsList, read } from './loaders.js';
import { checkDateRange, checkName, checkNumericId } from './validation.js';
import { IDEMPOTENCY_KEY_DESCRIPTION, WRITE_ERRORS, onceFor } from './writes.js';

const MAX_ANNOTATION_DAYS = 3_660;
const MAX_DESCRIPTION_LENGTH = 2_000;
const MAX_TAGS = 20;
const MAX_TAG_LENGTH = 100;

/** Mixpanel's annotation dates are "yyyy-mm-dd hh:mm:ss" in UTC. */
const fromMixpanelDate = (date: string): Date => new Date(`${date.replace(' ', 'T')}Z`);
const toMixpanelDate = (date: Date): string => date.toISOString().slice(0, 19).replace('T', ' ');

const AnnotationUser = builder.objectRef<AnnotationRecord['user']>('AnnotationUser').implement({
  description: 'The Mixpanel user who wrote an annotation.',
  fields: (t) => ({
    id: t.id({ description: 'Mixpanel user id.', resolve: (u) => String(u.id) }),
    firstName: t.exposeString('first_name', { description: 'First name.' }),
    lastName: t.exposeString('last_name', { description: 'Last name.' }),
  }),
});

const AnnotationTag = builder.objectRef<AnnotationRecord['tags'][number]>('AnnotationTag').implement({
  description: 'A tag grouping annotations.',
  fields: (t) => ({
    id: t.id({ description: 'Tag id.', resolve: (tag) => String(tag.id) }),
    name: t.exposeString('name', { description: 'Tag name.' }),
  }),
});

const Annotation = builder.objectRef<AnnotationRecord>('Annotation').implement({
  description: 'A note pinned to a moment on Mixpanel charts (a release, an outage, a campaign).',
  fields: (t) => ({
    id: t.id({ description: 'Annotation id.', resolve: (a) => String(a.id) }),
    date: t.field({ type: 'DateTime', description: 'The moment it marks.', resolve: (a) => fromMixpanelDate(a.date) }),
    description: t.exposeString('description', { description: 'The note.' }),
    user: t.field({ type: AnnotationUser, description: 'Who wrote it.', resolve: (a) => a.user }),
    tags: t.field({ type: [AnnotationTag], description: 'Its tags.', resolve: (a) => a.tags }),
  }),
});

/**
 * One annotation, found in the list: Mixpanel documents no answer for an unknown id on the single
 * GET (only 200, 401 and 403), while the list is documented, cached and shared by every lookup.
 */
async function findAnnotation(ctx: Context, id: number): Promise<AnnotationRecord> {
  const found = (await annotationsList(ctx, {})).find((annotation) => annotation.id === id);
  if (!found) throw new NotFoundError('Annotation', String(id));
  return found;
}

const AnnotationConnection = listConnection('AnnotationConnection', Annotation, 'Annotations.', 'Annotations, as Mixpanel orders them.');

builder.queryFields((t) => ({
  annotations: t.field({
    type: AnnotationConnection,
    nullable: true,
    complexity: 5,
    description: 'Annotations, optionally only those between two days.',
    args: {
      from: t.arg({ type: 'Date', description: 'First day, inclusive (needs `to`).' }),
      to: t.arg({ type: 'Date', description: 'Last day, inclusive (needs `from`).' }),
    },
    errors: { types: failures('arguments') },
    resolve: async (_root, args, ctx) => {
      if ((args.from == null) !== (args.to == null)) throw new InvalidArgumentError('Give both from and to, or neither', args.from == null ? 'from' : 'to');
      if (args.from == null || args.to == null) return listOf(await annotationsList(ctx, {}));
      const range = checkDateRange({ from: args.from, to: args.to }, { maxDays: MAX_ANNOTATION_DAYS, now: ctx.now(), timeZone: ctx.project.config.timezone });
      return listOf(await annotationsList(ctx, { fromDate: range.from, toDate: range.to }));
    },
  }),
  annotation: t.field({
    type: Annotation,
    nullable: true,
    complexity: 5,
    description: 'One annotation by id.',
    args: { id: t.arg.id({ required: true, description: 'Annotation id.' }) },
    errors: { types: failures('lookup') },
    resolve: (_root, args, ctx) => findAnnotation(ctx, checkNumericId(String(args.id), 'id')),
  }),
}));

/**
 * Whether a refused write named an annotation that does not exist. The Annotations API documents no
 * status for an unknown id (https://developer.mixpanel.com/reference/get-annotation-1), so a 404 says so
 * and a 400 is checked against the project's annotation list (cached, and dropped by every write).
 */
async function isUnknownAnnotation(ctx: Context, id: number, error: unknown): Promise<boolean> {
  if (error instanceof UpstreamNotFoundError) return true;
  if (!(error instanceof BadRequestError)) return false;
  return !(await annotationsList(ctx, {})).some((annotation) => annotation.id === id);
}

function annotationTagList(ctx: Context): Promise<AnnotationTagRecord[]> {
  return read(ctx, 'annotationTags', {});
}

function checkDescription(value: string): string {
  const description = checkName(value, 'description', MAX_DESCRIPTION_LENGTH);
  if (description.length > MAX_DESCRIPTION_LENGTH)
    throw new InvalidArgumentError(`description must be at most ${MAX_DESCRIPTION_LENGTH} characters`, 'description');
  return description;
}

function checkTagNames(names: readonly string[] | null | undefined): string[] | undefined {
  if (names === null || names === undefined) return undefined;
  if (names.length > MAX_TAGS) throw new InvalidArgumentError(`tags takes at most ${MAX_TAGS} names`, 'tags');
  for (const name of names) {
    checkName(name, 'tags', MAX_TAG_LENGTH);
    if (name.length > MAX_TAG_LENGTH) throw new InvalidArgumentError(`tag names must be at most ${MAX_TAG_LENGTH} characters`, 'tags');
  }
  return [...new Set(names)];
}

/** Tag ids for `tagIds` and `tags` (names; a name without a tag gets one created). */
async function resolveTags(ctx: Context, tagIds: readonly (string | number)[] | null | undefined, names: string[] | undefined): Promise<number[] | undefined> {
  const ids = tagIds?.map((id) => checkNumericId(String(id), 'tagIds'));
  if (names === undefined) return ids;
  const known = new Map((await annotationTagList(ctx)).map((tag) => [tag.name, tag.id]));
  const created: number[] = [];
  for (const name of names.filter((n) => !known.has(n))) {
    const tag = await read(ctx, 'annotationTagCreate', { name });
    known.set(name, tag.id);
    created.push(tag.id);
  }
  if (created.length > 0) ctx.project.invalidate('annotations');
  return [...new Set([...(ids ?? []), ...names.map((name) => known.get(name)!)])];
}

const CreateAnnotationInput = builder.inputType('CreateAnnotationInput', {
  description: 'A new annotation.',
  fields: (t) => ({
    date: t.field({ type: 'DateTime', required: true, description: 'The moment it marks (stored to the second, UTC).' }),
    description: t.string({ required: true, description: `The note (1..${MAX_DESCRIPTION_LENGTH} characters).` }),
    tagIds: t.idList({ description: 'Ids of existing annotation tags.' }),
    tags: t.stringList({ description: 'Tag names; a name no tag has yet gets a new tag.' }),
  }),
});

const UpdateAnnotationInput = builder.inputType('UpdateAnnotationInput', {
  description: 'Changes to an annotation; fields left out keep their value.',
  fields: (t) => ({
    description: t.string({ description: `The note (1..${MAX_DESCRIPTION_LENGTH} characters).` }),
    tagIds: t.idList({ description: 'Ids of its tags (with `tags`, replaces the current list).' }),
    tags: t.stringList({ description: 'Names of its tags (with `tagIds`, replaces the current list); new names get new tags.' }),
  }),
});

const AnnotationTagDetail = builder.objectRef<AnnotationTagRecord>('AnnotationTagDetail').implement({
  description: 'An annotation tag of the project.',
  fields: (t) => ({
    id: t.id({ description: 'Tag id.', resolve: (tag) => String(tag.id) }),
    name: t.exposeString('name', { description: 'Tag name.' }),
    hasAnnotations: t.exposeBoolean('has_annotations', { description: 'Whether any annotation carries it.' }),
  }),
});

const DeletedAnnotation = builder.objectRef<{ readonly id: number }>('DeletedAnnotation').implement({
  description: 'An annotation that was deleted.',
  fields: (t) => ({ id: t.id({ description: 'Its id.', resolve: (a) => String(a.id) }) }),
});

const AnnotationTagConnection = listConnection('AnnotationTagConnection', AnnotationTagDetail, 'Annotation tags.', 'Tags, as Mixpanel orders them.');

builder.queryField('annotationTags', (t) =>
  t.field({
    type: AnnotationTagConnection,
    nullable: true,
    complexity: 5,
    description: "The project's annotation tags.",
    errors: { types: failures('upstream') },
    resolve: async (_root, _args, ctx) => listOf(await annotationTagList(ctx)),
  }),
);

/** Annotation writes fail only for a bad argument, a spent budget, a reused key (and a missing annotation). */
const ANNOTATION_ERRORS = [...WRITE_ERRORS];

builder.mutationFields((t) => ({
  createAnnotation: t.field({
    type: Annotation,
    nullable: true,
    complexity: 20,
    description:
      'Pins a note to a moment on Mixpanel charts. Needs an Analyst (or higher) service account. Sent once, never ' +
      'retried: pass an idempotencyKey to retry safely.',
    args: {
      input: t.arg({ type: CreateAnnotationInput, required: true, description: 'The annotation.' }),
      idempotencyKey: t.arg.string({ description: IDEMPOTENCY_KEY_DESCRIPTION }),
    },
    errors: { types: ANNOTATION_ERRORS },
    resolve: (_root, { input, idempotencyKey }, ctx) => {
      const description = checkDescription(input.description);
      const names = checkTagNames(input.tags);
      return onceFor(ctx, 'createAnnotation', { idempotencyKey, input, replaySafe: false }, async () => {
        const tags = await resolveTags(ctx, input.tagIds, names);
        const params = { date: toMixpanelDate(input.date), description, ...(tags ? { tags } : {}) };
        const created = await read(ctx, 'annotationCreate', params);
        ctx.project.invalidate('annotations');
        return created;
      });
    },
  }),
  updateAnnotation: t.field({
    type: Annotation,
    nullable: true,
    complexity: 20,
    description: 'Changes the note or the tags of an annotation.',
    args: {
      id: t.arg.id({ required: true, description: 'Annotation id.' }),
      input: t.arg({ type: UpdateAnnotationInput, required: true, description: 'The changes.' }),
      idempotencyKey: t.arg.string({ description: IDEMPOTENCY_KEY_DESCRIPTION }),
    },
    errors: { types: [...ANNOTATION_ERRORS, NotFoundError] },
    resolve: (_root, { id, input, idempotencyKey }, ctx) => {
      const annotationId = checkNumericId(String(id), 'id');
      const description = input.description === null || input.description === undefined ? undefined : checkDescription(input.description);
      const names = checkTagNames(input.tags);
      if (description === undefined && input.tagIds == null && names === undefined)
        throw new InvalidArgumentError('Nothing to change: give description, tagIds or tags', 'input');
      // A PATCH sets values: sent twice, it leaves the same annotation.
      return onceFor(ctx, 'updateAnnotation', { idempotencyKey, input: { id: annotationId, input }, replaySafe: true }, async () => {
        const tags = await resolveTags(ctx, input.tagIds, names);
        try {
          const patch = { ...(description === undefined ? {} : { description }), ...(tags ? { tags } : {}) };
          const updated = await read(ctx, 'annotationUpdate', { id: annotationId, patch });
          ctx.project.invalidate('annotations');
          return updated;
        } catch (error) {
          if (await isUnknownAnnotation(ctx, annotationId, error)) throw new NotFoundError('Annotation', String(annotationId));
          throw error;
        }
      });
    },
  }),
  deleteAnnotation: t.field({
    type: DeletedAnnotation,
    nullable: true,
    complexity: 20,
    description: 'Deletes an annotation.',
    args: {
      id: t.arg.id({ required: true, description: 'Annotation id.' }),
      idempotencyKey: t.arg.string({ description: IDEMPOTENCY_KEY_DESCRIPTION }),
    },
    errors: { types: [...ANNOTATION_ERRORS, NotFoundError] },
    resolve: (_root, { id, idempotencyKey }, ctx) => {
      const annotationId = checkNumericId(String(id), 'id');
      return onceFor(ctx, 'deleteAnnotation', { idempotencyKey, input: { id: annotationId }, replaySafe: true }, async () => {
        try {
          await read(ctx, 'annotationDelete', { id: annotationId });
        } catch (error) {
          ctx.project.invalidate('annotations');
          if (await isUnknownAnnotation(ctx, annotationId, error)) throw new NotFoundError('Annotation', String(annotationId));
          throw error;
        }
        ctx.project.invalidate('annotations');
        return { id: annotationId };
      });
    },
  }),
  createAnnotationTag: t.field({
    type: AnnotationTagDetail,
    nullable: true,
    complexity: 20,
    description: 'Creates an annotation tag (Mixpanel answers the existing tag for a name already taken).',
    args: { name: t.arg.string({ required: true, description: `Tag name (1..${MAX_TAG_LENGTH} characters).` }) },
    errors: { types: failures('arguments') },
    resolve: async (_root, { name }, ctx) => {
      const [checked] = checkTagNames([name])!;
      const tag = await read(ctx, 'annotationTagCreate', { name: checked! });
      ctx.project.invalidate('annotations');
      return tag;
    },
  }),
}));
