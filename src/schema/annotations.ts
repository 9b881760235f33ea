/**
 * Annotations: notes pinned to a date on Mixpanel charts (App API).
 */
import type { Context } from '../context.js';
import { InvalidArgumentError, NotFoundError } from '../errors.js';
import { UpstreamNotFoundError } from '../mixpanel/errors.js';
import type { Annotation as AnnotationRecord } from '../mixpanel/types.js';
import { builder } from './builder.js';
import { annotationCreate, annotationGet, annotationsList } from './loaders.js';
import { checkDateRange, checkName, checkNumericId } from './validation.js';

const MAX_ANNOTATION_DAYS = 3_660;
const MAX_DESCRIPTION_LENGTH = 2_000;

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

async function findAnnotation(ctx: Context, id: number): Promise<AnnotationRecord> {
  try {
    return await annotationGet(ctx, id);
  } catch (error) {
    if (error instanceof UpstreamNotFoundError) throw new NotFoundError('Annotation', String(id));
    throw error;
  }
}

builder.queryFields((t) => ({
  annotations: t.field({
    type: [Annotation],
    nullable: true,
    complexity: 5,
    description: 'Annotations, optionally only those between two days.',
    args: {
      from: t.arg({ type: 'Date', description: 'First day, inclusive (needs `to`).' }),
      to: t.arg({ type: 'Date', description: 'Last day, inclusive (needs `from`).' }),
    },
    errors: { dataField: { description: 'Annotations, as Mixpanel orders them.' } },
    resolve: (_root, args, ctx) => {
      if ((args.from == null) !== (args.to == null)) throw new InvalidArgumentError('Give both from and to, or neither', args.from == null ? 'from' : 'to');
      if (args.from == null || args.to == null) return annotationsList(ctx, {});
      const range = checkDateRange({ from: args.from, to: args.to }, { maxDays: MAX_ANNOTATION_DAYS });
      return annotationsList(ctx, { fromDate: range.from, toDate: range.to });
    },
  }),
  annotation: t.field({
    type: Annotation,
    nullable: true,
    complexity: 5,
    description: 'One annotation by id.',
    args: { id: t.arg.id({ required: true, description: 'Annotation id.' }) },
    errors: { directResult: true },
    resolve: (_root, args, ctx) => findAnnotation(ctx, checkNumericId(String(args.id), 'id')),
  }),
}));

const CreateAnnotationInput = builder.inputType('CreateAnnotationInput', {
  description: 'A new annotation.',
  fields: (t) => ({
    date: t.field({ type: 'DateTime', required: true, description: 'The moment it marks (stored to the second, UTC).' }),
    description: t.string({ required: true, description: `The note (1..${MAX_DESCRIPTION_LENGTH} characters).` }),
    tagIds: t.idList({ description: 'Ids of existing annotation tags.' }),
  }),
});

builder.mutationField('createAnnotation', (t) =>
  t.field({
    type: Annotation,
    nullable: true,
    complexity: 20,
    description: 'Pins a note to a moment on Mixpanel charts. Needs an Analyst (or higher) service account.',
    args: { input: t.arg({ type: CreateAnnotationInput, required: true, description: 'The annotation.' }) },
    errors: { directResult: true },
    resolve: async (_root, { input }, ctx) => {
      const description = checkName(input.description, 'description', Number.POSITIVE_INFINITY);
      if (description.length > MAX_DESCRIPTION_LENGTH) {
        throw new InvalidArgumentError(`description must be at most ${MAX_DESCRIPTION_LENGTH} characters`, 'description');
      }
      const tags = input.tagIds?.map((id) => checkNumericId(String(id), 'tagIds'));
      const created = await annotationCreate(ctx, { date: toMixpanelDate(input.date), description, ...(tags ? { tags } : {}) });
      ctx.project.invalidate('annotations');
      return created;
    },
  }),
);
