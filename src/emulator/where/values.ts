/**
 * What a segmentation expression evaluates to, and its operators' typing rules
 * (https://developer.mixpanel.com/reference/segmentation-expressions): a type mismatch gives
 * undefined, undefined counts as false in and/or, any other non-boolean and/or operand is an error.
 */

/** A runtime value; datetimes are wrapped so they compare only with datetimes. */
export type WhereValue = string | number | boolean | null | undefined | readonly WhereValue[] | DateTimeValue | { readonly [key: string]: unknown };

export class DateTimeValue {
  constructor(readonly ms: number) {}
}

/** What an expression can see. For events, `user` is the profile of the event's distinct_id. */
export interface WhereScope {
  readonly properties: Readonly<Record<string, unknown>>;
  readonly user?: Readonly<Record<string, unknown>> | undefined;
  /** Event time in seconds, exposed as event["$time"]. */
  readonly time?: number | undefined;
}

export type CompiledExpression = (scope: WhereScope) => WhereValue;

type TypeName = 'string' | 'number' | 'boolean' | 'null' | 'undefined' | 'list' | 'datetime' | 'object';

function typeOf(value: WhereValue): TypeName {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return 'list';
  if (value instanceof DateTimeValue) return 'datetime';
  const t = typeof value;
  return t === 'string' || t === 'number' || t === 'boolean' ? t : 'object';
}

function toDateTime(value: WhereValue): DateTimeValue | undefined {
  if (value instanceof DateTimeValue) return value;
  if (typeof value === 'number') return new DateTimeValue(value);
  if (typeof value === 'string') {
    // Profile dates such as "2024-01-02T03:04:05" carry no zone; Mixpanel stores them as UTC.
    const ms = Date.parse(/[zZ]|[+-]\d{2}:?\d{2}$/.test(value) || value.length <= 10 ? value : `${value}Z`);
    return Number.isNaN(ms) ? undefined : new DateTimeValue(ms);
  }
  return undefined;
}

export function equals(a: WhereValue, b: WhereValue): boolean {
  const ta = typeOf(a);
  if (ta !== typeOf(b)) {
    // A datetime compared with a date string compares the instants: datetime properties arrive as strings.
    if (ta === 'datetime' || typeOf(b) === 'datetime') {
      const da = toDateTime(a);
      const db = toDateTime(b);
      return da !== undefined && db !== undefined && da.ms === db.ms;
    }
    return false;
  }
  if (ta === 'datetime') return (a as DateTimeValue).ms === (b as DateTimeValue).ms;
  if (ta === 'list') {
    const la = a as readonly WhereValue[];
    const lb = b as readonly WhereValue[];
    return la.length === lb.length && la.every((item, k) => equals(item, lb[k]));
  }
  return a === b;
}

export function compare(op: string, a: WhereValue, b: WhereValue): WhereValue {
  let x: number;
  let y: number;
  if (typeof a === 'number' && typeof b === 'number') {
    x = a;
    y = b;
  } else if (a instanceof DateTimeValue || b instanceof DateTimeValue) {
    const da = toDateTime(a);
    const db = toDateTime(b);
    if (!da || !db) return undefined;
    x = da.ms;
    y = db.ms;
  } else {
    return undefined;
  }
  switch (op) {
    case '>':
      return x > y;
    case '>=':
      return x >= y;
    case '<':
      return x < y;
    default:
      return x <= y;
  }
}

export function arithmetic(op: string, a: WhereValue, b: WhereValue): WhereValue {
  if (op === '+' && typeof a === 'string' && typeof b === 'string') return a + b;
  if (typeof a !== 'number' || typeof b !== 'number') return undefined;
  switch (op) {
    case '+':
      return a + b;
    case '-':
      return a - b;
    case '*':
      return a * b;
    case '/':
      return b === 0 ? undefined : a / b;
    default:
      return b === 0 ? undefined : a % b;
  }
}

export function contains(needle: WhereValue, haystack: WhereValue): WhereValue {
  if (Array.isArray(haystack)) return (haystack as readonly WhereValue[]).some((item) => equals(needle, item));
  if (typeof needle === 'string' && typeof haystack === 'string') return haystack.includes(needle);
  return undefined;
}

/** An expression that parses but cannot be evaluated (the doc: and/or with a non-boolean operand "will result in an error"). */
export class WhereEvaluationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WhereEvaluationError';
  }
}

/** and/or operands: booleans, and undefined as false; any other type is an error. */
export function truthy(value: WhereValue, operator: 'and' | 'or'): boolean {
  if (typeof value === 'boolean') return value;
  if (value === undefined) return false;
  throw new WhereEvaluationError(`"${operator}" takes boolean operands, got ${typeOf(value)}`);
}

function castNumber(value: WhereValue): WhereValue {
  if (typeof value === 'number') return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (value instanceof DateTimeValue) return value.ms;
  if (typeof value === 'string' && value.trim() !== '') {
    const n = Number(value);
    return Number.isNaN(n) ? undefined : n;
  }
  return undefined;
}

function castString(value: WhereValue): WhereValue {
  if (typeof value === 'string' || value === null || value === undefined) return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value instanceof DateTimeValue) return new Date(value.ms).toISOString().slice(0, 19);
  return JSON.stringify(value);
}

function castBoolean(value: WhereValue): WhereValue {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return value !== 0;
  if (typeof value === 'string') return value === 'true' ? true : value === 'false' ? false : value.length > 0;
  if (Array.isArray(value)) return value.length > 0;
  return undefined;
}

function mathOp(fn: (n: number) => number): (value: WhereValue) => WhereValue {
  return (value) => (typeof value === 'number' ? fn(value) : undefined);
}

export const FUNCTIONS: Readonly<Record<string, (value: WhereValue) => WhereValue>> = {
  defined: (value) => value !== undefined && value !== null,
  floor: mathOp(Math.floor),
  round: mathOp(Math.round),
  ceil: mathOp(Math.ceil),
  number: castNumber,
  string: castString,
  boolean: castBoolean,
  datetime: toDateTime,
};

export function propertyValue(raw: unknown): WhereValue {
  return raw as WhereValue;
}
