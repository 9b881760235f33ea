/**
 * The input types of the Lexicon mutations, and what a deletion answers.
 */
import { builder } from '../builder.js';
import { JsonTypeEnum } from './definitions.js';

/** Inputs are named for their mutation (`<Mutation>Input`); these mutations take the same fields. */
const eventDefinitionInput = (name: string, description: string) =>
  builder.inputType(name, {
    description,
    fields: (t) => ({
      name: t.string({ required: true, description: 'The event name the definition documents.' }),
      description: t.string({ description: 'What the event records (null removes it).' }),
      displayName: t.string({ description: 'Name shown in Mixpanel reports (null removes it).' }),
      tags: t.stringList({ description: 'Lexicon tags (replaces the current list).' }),
      hidden: t.boolean({ description: 'Hide the event from Mixpanel menus.' }),
      dropped: t.boolean({ description: 'Drop the event at ingestion.' }),
      contacts: t.stringList({ description: 'Owner email addresses (replaces the current list).' }),
      teamContacts: t.stringList({ description: 'Owner teams (replaces the current list).' }),
    }),
  });

export const UpdateLexiconEventDefinitionInput = eventDefinitionInput(
  'UpdateLexiconEventDefinitionInput',
  'Changes to an event definition. Fields left out keep their current value.',
);
export const CreateEventDefinitionInput = eventDefinitionInput('CreateEventDefinitionInput', 'A new event definition.');
export const UpdateEventDefinitionInput = eventDefinitionInput(
  'UpdateEventDefinitionInput',
  'Changes to an event definition: fields left out keep their current value and null removes one.',
);

const propertyDefinitionInput = (name: string, description: string) =>
  builder.inputType(name, {
    description,
    fields: (t) => ({
      event: t.string({ description: 'The event that carries the property; leave it out for a user-profile property.' }),
      name: t.string({ required: true, description: 'The property name.' }),
      type: t.field({ type: JsonTypeEnum, description: 'Its JSON type (required to create a definition).' }),
      description: t.string({ description: 'What it records (null removes it).' }),
      displayName: t.string({ description: 'Name shown in Mixpanel reports (null removes it).' }),
      hidden: t.boolean({ description: 'Hide it from Mixpanel menus.' }),
      dropped: t.boolean({ description: 'Drop it at ingestion.' }),
    }),
  });

export const CreatePropertyDefinitionInput = propertyDefinitionInput(
  'CreatePropertyDefinitionInput',
  'A new property definition: of an event (`event`), or of user profiles (no `event`).',
);
export const UpdatePropertyDefinitionInput = propertyDefinitionInput(
  'UpdatePropertyDefinitionInput',
  'Changes to a property definition: of an event (`event`), or of user profiles (no `event`). Fields left out keep their value.',
);

interface DeletedDefinitionShape {
  readonly name: string;
  readonly event: string | null;
}

export const DeletedDefinition = builder.objectRef<DeletedDefinitionShape>('DeletedDefinition').implement({
  description: 'A Lexicon definition that was deleted.',
  fields: (t) => ({
    name: t.exposeString('name', { description: 'The event or property name.' }),
    event: t.exposeString('event', { nullable: true, description: 'For an event property, its event; null for events and profile properties.' }),
  }),
});
