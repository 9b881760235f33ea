/**
 * Lexicon: what the project's events and profile properties mean, from the
 * Lexicon Schemas API. One schemas list call serves every definition a
 * request asks for (the loaders in `definitions.ts` share it, and the response cache
 * shares it between requests).
 *
 * The rooms: `definitions.ts` (the definition types), `queries.ts` (the
 * `lexicon` field), `edits.ts`, `edit-inputs.ts` and `mutations.ts` (editing
 * definitions), `property-values.ts` (values paired with their definitions).
 */
import './queries.js';
import './mutations.js';

export { EventDefinition, JsonTypeEnum, PropertyDefinition, type PropertyDefinitionShape, USER_PROFILE_SCHEMA } from './definitions.js';
export { Lexicon } from './queries.js';
export { PropertyValue, type PropertyValueShape, propertyValues } from './property-values.js';
