/**
 * The GraphQL type of a documented property, and the conversion of a stored
 * value to it. Mixpanel stores whatever was sent, so a property documented as
 * an integer may hold "42" one day: a value is converted when nothing is lost
 * ("42" → 42, "true" → true, 1 → true, 42 → "42") and otherwise reported as a
 * mismatch, which the field turns into null plus a LEXICON_TYPE_MISMATCH error.
 */
import { createGraphQLError } from 'graphql-yoga';
import type { GraphQLError } from 'graphql';
import type { JsonSchemaType, LexiconPropertySchema } from '../mixpanel/types.js';
import { parseDay } from './validation.js';

export type ScalarKind = 'String' | 'Int' | 'Float' | 'Boolean' | 'DateTime' | 'JSON';

/** A field's GraphQL type: a scalar, or a list of one. Values and list items are nullable. */
export interface ValueType {
  readonly scalar: ScalarKind;
  readonly list: boolean;
  /** Documented as integer: a Float field (beyond 32 bits) still refuses fractions. */
  readonly integer: boolean;
  /** The documented type as people read it, e.g. `integer`, `string (date-time)`, `array of number`. */
  readonly documented: string;
}

/**
 * JSON Schema keywords Lexicon property schemas may carry beyond the ones the
 * Lexicon spec lists (mixpanel/docs: openapi/lexicon-schemas.openapi.yaml is silent on
 * them; the docs' own example carries `examples`, so schemas are not closed).
 */
interface PropertySchemaKeywords extends LexiconPropertySchema {
  readonly format?: string;
  readonly items?: { readonly type?: JsonSchemaType | readonly JsonSchemaType[]; readonly format?: string };
  readonly minimum?: number;
  readonly maximum?: number;
}

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
/** Mixpanel's reserved timestamps, documented as strings more often than with `format: date-time`. */
const DATE_TIME_NAMES: ReadonlySet<string> = new Set(['time', 'created', 'last_seen', 'timestamp']);

const declaredTypes = (type: JsonSchemaType | readonly JsonSchemaType[] | undefined): JsonSchemaType[] =>
  (type === undefined ? [] : typeof type === 'string' ? [type] : [...type]).filter((t) => t !== 'null');

function isDateTimeName(name: string): boolean {
  return DATE_TIME_NAMES.has(name.startsWith('$') ? name.slice(1) : name);
}

/** A documented integer is a GraphQL Int unless its bounds or its name (`…_ms`: epoch or duration in ms) say it exceeds 32 bits. */
function fitsInt32(name: string, schema: PropertySchemaKeywords): boolean {
  if (name.endsWith('_ms')) return false;
  const outside = (bound: number | undefined) => bound !== undefined && (bound < INT32_MIN || bound > INT32_MAX);
  return !outside(schema.minimum) && !outside(schema.maximum);
}

function scalarOf(types: readonly JsonSchemaType[], format: string | undefined, dateTimeByName: boolean, int32: boolean): Omit<ValueType, 'list'> | undefined {
  const [only, ...others] = types;
  // integer and number together are numbers; any other mix has no single GraphQL scalar.
  if (types.length === 2 && types.includes('integer') && types.includes('number')) return { scalar: 'Float', integer: false, documented: 'number' };
  if (only === undefined || others.length > 0) return undefined;
  switch (only) {
    case 'string':
      return format === 'date-time' || dateTimeByName
        ? { scalar: 'DateTime', integer: false, documented: 'string (date-time)' }
        : { scalar: 'String', integer: false, documented: 'string' };
    case 'integer':
      return { scalar: int32 ? 'Int' : 'Float', integer: true, documented: 'integer' };
    case 'number':
      return { scalar: 'Float', integer: false, documented: 'number' };
    case 'boolean':
      return { scalar: 'Boolean', integer: false, documented: 'boolean' };
    default:
      return undefined;
  }
}

/** The GraphQL type of a documented property (see the table in the README). */
export function valueTypeOf(name: string, schema: LexiconPropertySchema): ValueType {
  const keywords = schema as PropertySchemaKeywords;
  const types = declaredTypes(keywords.type);
  if (types.length === 1 && types[0] === 'array') {
    const item = scalarOf(declaredTypes(keywords.items?.type), keywords.items?.format, false, true);
    return item ? { ...item, list: true, documented: `array of ${item.documented}` } : { scalar: 'JSON', integer: false, list: true, documented: 'array' };
  }
  const scalar = scalarOf(types, keywords.format, isDateTimeName(name), fitsInt32(name, keywords));
  return scalar ? { ...scalar, list: false } : { scalar: 'JSON', integer: false, list: false, documented: types.length === 0 ? 'any' : types.join(' or ') };
}

/** The JSON type of a stored value; a whole number is `integer`. */
export function jsonTypeOf(value: unknown): JsonSchemaType {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  if (typeof value === 'string' || typeof value === 'boolean') return typeof value as 'string' | 'boolean';
  return 'object';
}

/** Whether the stored value has exactly a documented JSON type (an integer is a number too). */
export function matchesDocumented(value: unknown, schema: LexiconPropertySchema): boolean {
  const declared = (schema.type === undefined ? [] : typeof schema.type === 'string' ? [schema.type] : schema.type) as readonly JsonSchemaType[];
  if (declared.length === 0) return true;
  const actual = jsonTypeOf(value);
  return declared.includes(actual) || (actual === 'integer' && declared.includes('number'));
}

export type Coerced = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly actual: string };

const INTEGER_TEXT = /^-?\d+$/;
const NUMBER_TEXT = /^-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
/** An ISO 8601 date or date-time; Mixpanel writes profile dates without a zone, meaning UTC. */
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?:[zZ]|[+-]\d{2}:?\d{2})?$/;
/** Below this an epoch number is in seconds (as Mixpanel's `time`), above it in ms. */
const EPOCH_MS_FROM = 100_000_000_000;

const ok = (value: unknown): Coerced => ({ ok: true, value });
const mismatch = (value: unknown): Coerced => ({ ok: false, actual: jsonTypeOf(value) });

function toInt(value: unknown, int32: boolean): Coerced {
  const number = typeof value === 'number' ? value : typeof value === 'string' && INTEGER_TEXT.test(value.trim()) ? Number(value) : undefined;
  if (number === undefined || !Number.isSafeInteger(number)) return mismatch(value);
  if (int32 && (number < INT32_MIN || number > INT32_MAX)) return { ok: false, actual: 'integer beyond 32 bits' };
  return ok(number);
}

function toFloat(value: unknown): Coerced {
  if (typeof value === 'number') return Number.isFinite(value) ? ok(value) : mismatch(value);
  // "1e400" reads as Infinity, which no Float can carry.
  const number = typeof value === 'string' && NUMBER_TEXT.test(value.trim()) ? Number(value) : Number.NaN;
  return Number.isFinite(number) ? ok(number) : mismatch(value);
}

function toBoolean(value: unknown): Coerced {
  if (typeof value === 'boolean') return ok(value);
  if (value === 1 || value === '1' || value === 'true') return ok(true);
  if (value === 0 || value === '0' || value === 'false') return ok(false);
  return mismatch(value);
}

function toText(value: unknown): Coerced {
  if (typeof value === 'string') return ok(value);
  if ((typeof value === 'number' && Number.isFinite(value)) || typeof value === 'boolean') return ok(String(value));
  return mismatch(value);
}

function toDateTime(value: unknown): Coerced {
  let date: Date | undefined;
  if (typeof value === 'number' && Number.isFinite(value)) date = new Date(value < EPOCH_MS_FROM ? value * 1000 : value);
  // A day past the month's end ("2024-02-30") would roll over into the next month: refused instead.
  else if (typeof value === 'string' && ISO_DATE_TIME.test(value) && parseDay(value.slice(0, 10)) !== undefined) {
    date = new Date(/[zZ]|[+-]\d{2}:?\d{2}$/.test(value) || value.length === 10 ? value : `${value.replace(' ', 'T')}Z`);
  }
  return date && !Number.isNaN(date.getTime()) ? ok(date) : mismatch(value);
}

function coerceScalar(value: unknown, type: ValueType): Coerced {
  switch (type.scalar) {
    case 'String':
      return toText(value);
    case 'Int':
      return toInt(value, true);
    case 'Float':
      return type.integer ? toInt(value, false) : toFloat(value);
    case 'Boolean':
      return toBoolean(value);
    case 'DateTime':
      return toDateTime(value);
    case 'JSON':
      return ok(value);
  }
}

/** A stored value as its field's type; null and absent values are null, never a mismatch. */
export function coerce(value: unknown, type: ValueType): Coerced {
  if (value === null || value === undefined) return ok(null);
  if (!type.list) return coerceScalar(value, type);
  if (!Array.isArray(value)) return mismatch(value);
  const items: unknown[] = [];
  for (const item of value) {
    const coerced = item === null ? ok(null) : coerceScalar(item, type);
    if (!coerced.ok) return { ok: false, actual: `array with a ${coerced.actual} item` };
    items.push(coerced.value);
  }
  return ok(items);
}

/** Stable code of the error a typed field reports when its value does not fit the documented type. */
export const LEXICON_TYPE_MISMATCH = 'LEXICON_TYPE_MISMATCH';

/**
 * The field error of a value that does not fit: it names the property and
 * both types, never the value (it may be personal data).
 */
export function typeMismatchError(property: string, expected: string, actual: string): GraphQLError {
  return createGraphQLError(`Property "${property}" is documented in Lexicon as ${expected} but holds a ${actual} value`, {
    extensions: { code: LEXICON_TYPE_MISMATCH, property, expected, actual },
  });
}
