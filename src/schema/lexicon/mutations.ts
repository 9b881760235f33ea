/**
 * Editing Lexicon: the create, update and delete mutations of event and
 * property definitions, each replay-safe under an idempotency key.
 */
import { NotFoundError } from '../../core/errors.js';
import { builder } from '../builder.js';
import type { Context } from '../context.js';
import { failures } from '../errors.js';
import { IDEMPOTENCY_KEY_DESCRIPTION, WRITE_ERRORS, onceFor, writesOf } from '../writes.js';
import { EventDefinition, PropertyDefinition } from './definitions.js';
import {
  CreateEventDefinitionInput,
  CreatePropertyDefinitionInput,
  DeletedDefinition,
  UpdateEventDefinitionInput,
  UpdateLexiconEventDefinitionInput,
  UpdatePropertyDefinitionInput,
} from './edit-inputs.js';
import { checkDefinitionName, editEventDefinition, editPropertyDefinition } from './edits.js';

const lexiconWrite = <T>(ctx: Context, mutation: string, idempotencyKey: string | null | undefined, input: unknown, run: () => Promise<T>): Promise<T> =>
  // Every Lexicon edit sets a state: applying it twice leaves the same Lexicon.
  onceFor(ctx, mutation, { idempotencyKey, input, replaySafe: true }, run);

const LEXICON_EDIT_NOTE =
  'Needs an admin service account. Concurrent edits of every client are merged into one upload, within 5 Lexicon ' +
  'calls and 4,000 updates a minute; the typed schema follows at once.';

builder.mutationFields((t) => ({
  updateLexiconEventDefinition: t.field({
    type: EventDefinition,
    nullable: true,
    complexity: 50,
    deprecationReason: 'Use updateEventDefinition (or createEventDefinition).',
    description: `Documents an event in Lexicon, creating its schema if it has none. ${LEXICON_EDIT_NOTE}`,
    args: { input: t.arg({ type: UpdateLexiconEventDefinitionInput, required: true, description: 'The event and the changes.' }) },
    errors: { types: failures('arguments') },
    resolve: (_root, { input }, ctx) => editEventDefinition(ctx, 'upsert', input),
  }),
  createEventDefinition: t.field({
    type: EventDefinition,
    nullable: true,
    complexity: 50,
    description: `Creates the Lexicon definition of an event that has none. ${LEXICON_EDIT_NOTE}`,
    args: {
      input: t.arg({ type: CreateEventDefinitionInput, required: true, description: 'The definition.' }),
      idempotencyKey: t.arg.string({ description: IDEMPOTENCY_KEY_DESCRIPTION }),
    },
    errors: { types: WRITE_ERRORS },
    resolve: (_root, args, ctx) =>
      lexiconWrite(ctx, 'createEventDefinition', args.idempotencyKey, args.input, () => editEventDefinition(ctx, 'create', args.input)),
  }),
  updateEventDefinition: t.field({
    type: EventDefinition,
    nullable: true,
    complexity: 50,
    description: `Changes an existing event definition. ${LEXICON_EDIT_NOTE}`,
    args: {
      input: t.arg({ type: UpdateEventDefinitionInput, required: true, description: 'The event and the changes.' }),
      idempotencyKey: t.arg.string({ description: IDEMPOTENCY_KEY_DESCRIPTION }),
    },
    errors: { types: [...WRITE_ERRORS, NotFoundError] },
    resolve: (_root, args, ctx) =>
      lexiconWrite(ctx, 'updateEventDefinition', args.idempotencyKey, args.input, () => editEventDefinition(ctx, 'update', args.input)),
  }),
  deleteEventDefinition: t.field({
    type: DeletedDefinition,
    nullable: true,
    complexity: 50,
    description: `Deletes an event definition and the property definitions it holds (one Lexicon call of its own). ${LEXICON_EDIT_NOTE}`,
    args: {
      name: t.arg.string({ required: true, description: 'The event name.' }),
      idempotencyKey: t.arg.string({ description: IDEMPOTENCY_KEY_DESCRIPTION }),
    },
    errors: { types: [...WRITE_ERRORS, NotFoundError] },
    resolve: (_root, args, ctx) =>
      lexiconWrite(ctx, 'deleteEventDefinition', args.idempotencyKey, { name: args.name }, async () => {
        const name = checkDefinitionName(args.name, 'name');
        await writesOf(ctx).lexicon.edit(
          {
            entityType: 'event',
            name,
            apply(current) {
              if (!current) throw new NotFoundError('EventDefinition', name);
              return null;
            },
          },
          ctx.upstream,
        );
        EventDefinition.getDataloader(ctx).clear(name);
        return { name, event: null };
      }),
  }),
  createPropertyDefinition: t.field({
    type: PropertyDefinition,
    nullable: true,
    complexity: 50,
    description: `Creates the definition of an event or user-profile property. ${LEXICON_EDIT_NOTE}`,
    args: {
      input: t.arg({ type: CreatePropertyDefinitionInput, required: true, description: 'The definition.' }),
      idempotencyKey: t.arg.string({ description: IDEMPOTENCY_KEY_DESCRIPTION }),
    },
    errors: { types: WRITE_ERRORS },
    resolve: (_root, args, ctx) =>
      lexiconWrite(ctx, 'createPropertyDefinition', args.idempotencyKey, args.input, async () => (await editPropertyDefinition(ctx, 'create', args.input))!),
  }),
  updatePropertyDefinition: t.field({
    type: PropertyDefinition,
    nullable: true,
    complexity: 50,
    description: `Changes an existing property definition. ${LEXICON_EDIT_NOTE}`,
    args: {
      input: t.arg({ type: UpdatePropertyDefinitionInput, required: true, description: 'The property and the changes.' }),
      idempotencyKey: t.arg.string({ description: IDEMPOTENCY_KEY_DESCRIPTION }),
    },
    errors: { types: [...WRITE_ERRORS, NotFoundError] },
    resolve: (_root, args, ctx) =>
      lexiconWrite(ctx, 'updatePropertyDefinition', args.idempotencyKey, args.input, async () => (await editPropertyDefinition(ctx, 'update', args.input))!),
  }),
  deletePropertyDefinition: t.field({
    type: DeletedDefinition,
    nullable: true,
    complexity: 50,
    description: `Deletes a property definition (its event's or the profile schema is uploaded without it). ${LEXICON_EDIT_NOTE}`,
    args: {
      event: t.arg.string({ description: 'The event that carries the property; leave it out for a user-profile property.' }),
      name: t.arg.string({ required: true, description: 'The property name.' }),
      idempotencyKey: t.arg.string({ description: IDEMPOTENCY_KEY_DESCRIPTION }),
    },
    errors: { types: [...WRITE_ERRORS, NotFoundError] },
    resolve: (_root, args, ctx) =>
      lexiconWrite(ctx, 'deletePropertyDefinition', args.idempotencyKey, { event: args.event, name: args.name }, async () => {
        await editPropertyDefinition(ctx, 'delete', { event: args.event, name: args.name });
        return { name: args.name, event: args.event ?? null };
      }),
  }),
}));
