/**
 * The segmentation-expression language of `where` and `on`
 * (https://developer.mixpanel.com/reference/segmentation-expressions): properties["x"], user["x"],
 * event["x"], literals and lists, arithmetic, comparisons, in, and/or/not,
 * defined(), floor/round/ceil and the boolean/number/string/datetime casts.
 * Operators follow the doc's typing rules: a mismatch gives undefined,
 * undefined counts as false in and/or, and any other non-boolean operand of
 * and/or is an error (WhereEvaluationError).
 */

/** A runtime value; datetimes are wrapped so they compare only with datetimes. */
export type WhereValue =
  | string
  | number
  | boolean
  | null
  | undefined
  | readonly WhereValue[]
  | DateTimeValue
  | { readonly [key: string]: unknown };

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

/** The expression does not parse; the routes answer 400 with this message. */
export class WhereSyntaxError extends Error {
  readonly code = 'WHERE_SYNTAX';
  constructor(message: string) {
    super(message);
    this.name = 'WhereSyntaxError';
  }
}

type Token =
  | { readonly kind: 'number'; readonly value: number; readonly at: number }
  | { readonly kind: 'string'; readonly value: string; readonly at: number }
  | { readonly kind: 'word'; readonly value: string; readonly at: number }
  | { readonly kind: 'op'; readonly value: string; readonly at: number }
  | { readonly kind: 'end'; readonly value: ''; readonly at: number };

const OPERATORS = ['==', '!=', '>=', '<=', '>', '<', '+', '-', '*', '/', '%', '(', ')', '[', ']', ','];

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const ch = source[i] as string;
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    if (ch === '"' || ch === "'") {
      let value = '';
      let j = i + 1;
      for (; j < source.length && source[j] !== ch; j++) {
        if (source[j] === '\\' && j + 1 < source.length) j++;
        value += source[j];
      }
      if (j >= source.length) throw new WhereSyntaxError(`unterminated string at position ${i}`);
      tokens.push({ kind: 'string', value, at: i });
      i = j + 1;
      continue;
    }
    const number = /^(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/.exec(source.slice(i));
    if (number) {
      tokens.push({ kind: 'number', value: Number(number[0]), at: i });
      i += number[0].length;
      continue;
    }
    const word = /^[A-Za-z_$][A-Za-z0-9_$]*/.exec(source.slice(i));
    if (word) {
      tokens.push({ kind: 'word', value: word[0], at: i });
      i += word[0].length;
      continue;
    }
    const op = OPERATORS.find((candidate) => source.startsWith(candidate, i));
    if (!op) throw new WhereSyntaxError(`unexpected character ${JSON.stringify(ch)} at position ${i}`);
    tokens.push({ kind: 'op', value: op, at: i });
    i += op.length;
  }
  tokens.push({ kind: 'end', value: '', at: source.length });
  return tokens;
}

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

function equals(a: WhereValue, b: WhereValue): boolean {
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

function compare(op: string, a: WhereValue, b: WhereValue): WhereValue {
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

function arithmetic(op: string, a: WhereValue, b: WhereValue): WhereValue {
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

function contains(needle: WhereValue, haystack: WhereValue): WhereValue {
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
function truthy(value: WhereValue, operator: 'and' | 'or'): boolean {
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

const FUNCTIONS: Readonly<Record<string, (value: WhereValue) => WhereValue>> = {
  defined: (value) => value !== undefined && value !== null,
  floor: mathOp(Math.floor),
  round: mathOp(Math.round),
  ceil: mathOp(Math.ceil),
  number: castNumber,
  string: castString,
  boolean: castBoolean,
  datetime: toDateTime,
};

const ACCESSORS = new Set(['properties', 'user', 'event']);

function propertyValue(raw: unknown): WhereValue {
  return raw as WhereValue;
}

class Parser {
  private position = 0;
  constructor(private readonly tokens: readonly Token[]) {}

  parse(): CompiledExpression {
    const expression = this.or();
    const next = this.peek();
    if (next.kind !== 'end') throw new WhereSyntaxError(`unexpected ${describe(next)} at position ${next.at}`);
    return expression;
  }

  private peek(): Token {
    return this.tokens[this.position] as Token;
  }

  private take(): Token {
    return this.tokens[this.position++] as Token;
  }

  private isWord(value: string): boolean {
    const t = this.peek();
    return t.kind === 'word' && t.value === value;
  }

  private isOp(value: string): boolean {
    const t = this.peek();
    return t.kind === 'op' && t.value === value;
  }

  private expectOp(value: string): void {
    const t = this.take();
    if (t.kind !== 'op' || t.value !== value) {
      throw new WhereSyntaxError(`expected "${value}" but found ${describe(t)} at position ${t.at}`);
    }
  }

  private or(): CompiledExpression {
    let left = this.and();
    while (this.isWord('or')) {
      this.take();
      const a = left;
      const b = this.and();
      left = (s) => truthy(a(s), 'or') || truthy(b(s), 'or');
    }
    return left;
  }

  private and(): CompiledExpression {
    let left = this.not();
    while (this.isWord('and')) {
      this.take();
      const a = left;
      const b = this.not();
      left = (s) => truthy(a(s), 'and') && truthy(b(s), 'and');
    }
    return left;
  }

  private not(): CompiledExpression {
    if (this.isWord('not')) {
      this.take();
      const operand = this.not();
      return (s) => {
        const v = operand(s);
        if (typeof v === 'boolean') return !v;
        return v === undefined ? true : undefined;
      };
    }
    return this.comparison();
  }

  private comparison(): CompiledExpression {
    const left = this.additive();
    const t = this.peek();
    if (t.kind === 'op' && ['==', '!=', '>', '>=', '<', '<='].includes(t.value)) {
      this.take();
      const right = this.additive();
      const op = t.value;
      if (op === '==') return (s) => equals(left(s), right(s));
      if (op === '!=') return (s) => !equals(left(s), right(s));
      return (s) => compare(op, left(s), right(s));
    }
    if (this.isWord('in')) {
      this.take();
      const right = this.additive();
      return (s) => contains(left(s), right(s));
    }
    return left;
  }

  private additive(): CompiledExpression {
    let left = this.multiplicative();
    while (this.isOp('+') || this.isOp('-')) {
      const op = String(this.take().value);
      const a = left;
      const b = this.multiplicative();
      left = (s) => arithmetic(op, a(s), b(s));
    }
    return left;
  }

  private multiplicative(): CompiledExpression {
    let left = this.unary();
    while (this.isOp('*') || this.isOp('/') || this.isOp('%')) {
      const op = String(this.take().value);
      const a = left;
      const b = this.unary();
      left = (s) => arithmetic(op, a(s), b(s));
    }
    return left;
  }

  private unary(): CompiledExpression {
    if (this.isOp('-')) {
      this.take();
      const operand = this.unary();
      return (s) => {
        const v = operand(s);
        return typeof v === 'number' ? -v : undefined;
      };
    }
    return this.primary();
  }

  private primary(): CompiledExpression {
    const t = this.take();
    if (t.kind === 'number' || t.kind === 'string') {
      const value = t.value;
      return () => value;
    }
    if (t.kind === 'op' && t.value === '(') {
      const inner = this.or();
      this.expectOp(')');
      return inner;
    }
    if (t.kind === 'op' && t.value === '[') return this.list();
    if (t.kind === 'word') {
      switch (t.value) {
        case 'true':
          return () => true;
        case 'false':
          return () => false;
        case 'null':
          return () => null;
        case 'undefined':
          return () => undefined;
      }
      if (ACCESSORS.has(t.value)) return this.accessor(t.value);
      const fn = FUNCTIONS[t.value];
      if (fn) {
        this.expectOp('(');
        const argument = this.or();
        this.expectOp(')');
        return (s) => fn(argument(s));
      }
      throw new WhereSyntaxError(`unknown identifier "${t.value}" at position ${t.at}`);
    }
    throw new WhereSyntaxError(`unexpected ${describe(t)} at position ${t.at}`);
  }

  private list(): CompiledExpression {
    const items: CompiledExpression[] = [];
    if (!this.isOp(']')) {
      do {
        if (items.length > 0) this.take();
        items.push(this.or());
      } while (this.isOp(','));
    }
    this.expectOp(']');
    return (s) => items.map((item) => item(s));
  }

  private accessor(kind: string): CompiledExpression {
    this.expectOp('[');
    const name = this.take();
    if (name.kind !== 'string') throw new WhereSyntaxError(`expected a quoted property name at position ${name.at}`);
    this.expectOp(']');
    const key = name.value;
    if (kind === 'user') return (s) => (s.user === undefined ? undefined : propertyValue(s.user[key]));
    if (kind === 'event' && key === '$time') {
      return (s) => (s.time === undefined ? undefined : new DateTimeValue(s.time * 1000));
    }
    return (s) => propertyValue(s.properties[key]);
  }
}

function describe(token: Token): string {
  return token.kind === 'end' ? 'end of expression' : JSON.stringify(String(token.value));
}

const compiled = new Map<string, CompiledExpression>();
const CACHE_LIMIT = 500;

/** Parses an expression once (cached); throws WhereSyntaxError. */
export function compileWhere(expression: string): CompiledExpression {
  const hit = compiled.get(expression);
  if (hit) return hit;
  if (expression.trim() === '') throw new WhereSyntaxError('empty expression');
  const result = new Parser(tokenize(expression)).parse();
  if (compiled.size >= CACHE_LIMIT) compiled.delete(compiled.keys().next().value as string);
  compiled.set(expression, result);
  return result;
}

/** True only when the expression evaluates to boolean true, as Mixpanel's filters do. */
export function evaluateWhere(expression: string | CompiledExpression, scope: WhereScope): boolean {
  const fn = typeof expression === 'string' ? compileWhere(expression) : expression;
  return fn(scope) === true;
}

/** The segment key an `on` expression gives: strings as-is, others in their JSON spelling. */
export function segmentKey(value: WhereValue): string {
  if (typeof value === 'string') return value;
  if (value === undefined) return 'undefined';
  if (value instanceof DateTimeValue) return new Date(value.ms).toISOString().slice(0, 19);
  return JSON.stringify(value);
}
