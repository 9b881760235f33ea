/**
 * Reading Lexicon: the `lexicon` query field and its Lexicon type, listing
 * or looking up event and profile property definitions.
 */
import { NotFoundError } from '../../core/errors.js';
import { builder } from '../builder.js';
import { failures } from '../errors.js';
import { listOf } from '../lists.js';
import { checkName } from '../validation.js';
import {
  EventDefinition,
  EventDefinitionConnection,
  PropertyDefinition,
  PropertyDefinitionConnection,
  eventEntries,
  profileProperties,
} from './definitions.js';

export const Lexicon = builder.objectRef<Record<string, never>>('Lexicon').implement({
  description: "The project's data dictionary (Lexicon). Only entities that have a schema appear.",
  fields: (t) => ({
    events: t.field({
      type: EventDefinitionConnection,
      nullable: true,
      complexity: 10,
      description: 'Every documented event, by name.',
      errors: { types: failures('upstream') },
      resolve: async (_root, _args, ctx) => listOf(await eventEntries(ctx)),
    }),
    eventDefinition: t.field({
      type: EventDefinition,
      nullable: true,
      complexity: 10,
      description: 'One event definition by event name.',
      args: { name: t.arg.string({ required: true, description: 'Event name, e.g. `Sign Up`.' }) },
      errors: { types: failures('lookup') },
      resolve: async (_root, args, ctx) => {
        const definition = await EventDefinition.getDataloader(ctx).load(checkName(args.name, 'name'));
        if (!definition) throw new NotFoundError('EventDefinition', args.name);
        return definition;
      },
    }),
    profileProperties: t.field({
      type: PropertyDefinitionConnection,
      nullable: true,
      complexity: 10,
      description: 'Every documented user-profile property, by name.',
      errors: { types: failures('upstream') },
      resolve: async (_root, _args, ctx) => listOf(await profileProperties(ctx)),
    }),
    profileProperty: t.field({
      type: PropertyDefinition,
      nullable: true,
      complexity: 10,
      description: 'One user-profile property definition by name.',
      args: { name: t.arg.string({ required: true, description: 'Property name, e.g. `$email`.' }) },
      errors: { types: failures('lookup') },
      resolve: async (_root, args, ctx) => {
        const definition = await PropertyDefinition.getDataloader(ctx).load(checkName(args.name, 'name'));
        if (!definition) throw new NotFoundError('PropertyDefinition', args.name);
        return definition;
      },
    }),
  }),
});

builder.queryField('lexicon', (t) =>
  t.field({
    type: Lexicon,
    description: "The project's Lexicon: event and profile property definitions.",
    resolve: () => ({}),
  }),
);
