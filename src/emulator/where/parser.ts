/**
 * The segmentation-expression grammar: tokens, then a recursive-descent parser that compiles an
 * expression to a closure over its scope (the operators' semantics are in values.ts).
 */
import { arithmetic, compare, contains, DateTimeValue, equals, FUNCTIONS, propertyValue, truthy, type CompiledExpression } from './values.js';

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

export function tokenize(source: string): Token[] {
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

const ACCESSORS = new Set(['properties', 'user', 'event']);

export class Parser {
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
