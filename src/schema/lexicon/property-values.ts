/**
 * Property values of events and profiles, each paired with its Lexicon
 * definition.
 */
import { builder } from '../builder.js';
import { EventDefinition, PropertyDefinition, propertiesOf } from './definitions.js';

export interface PropertyValueShape {
  readonly name: string;
  readonly value: unknown;
  /** The event that carried it; undefined for profile properties. */
  readonly eventName?: string;
}

/** A property value paired with its Lexicon definition (loaded once per request for all of them). */
export const PropertyValue = builder.objectRef<PropertyValueShape>('PropertyValue').implement({
  description: 'One property of an event or profile, with its Lexicon definition.',
  fields: (t) => ({
    name: t.exposeString('name', { description: 'Property name.' }),
    value: t.field({ type: 'JSON', nullable: true, description: 'The value as Mixpanel stores it.', resolve: (p) => p.value ?? null }),
    definition: t.field({
      type: PropertyDefinition,
      nullable: true,
      description: 'Its Lexicon definition, or null when Lexicon does not document it.',
      resolve: async (p, _args, ctx) => {
        if (p.eventName === undefined) return PropertyDefinition.getDataloader(ctx).load(p.name);
        const event = await EventDefinition.getDataloader(ctx).load(p.eventName);
        return event ? (propertiesOf(event).find((property) => property.name === p.name) ?? null) : null;
      },
    }),
  }),
});

/** The values of a property bag, by name. */
export function propertyValues(properties: Readonly<Record<string, unknown>>, eventName?: string): PropertyValueShape[] {
  return Object.keys(properties)
    .sort()
    .map((name) => ({ name, value: properties[name], ...(eventName === undefined ? {} : { eventName }) }));
}
