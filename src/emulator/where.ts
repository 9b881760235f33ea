/**
 * The segmentation-expression language of `where` and `on`
 * (https://developer.mixpanel.com/reference/segmentation-expressions): properties["x"], user["x"],
 * event["x"], literals and lists, arithmetic, comparisons, in, and/or/not,
 * defined(), floor/round/ceil and the boolean/number/string/datetime casts.
 * Operators follow the doc's typing rules: a mismatch gives undefined,
 * undefined counts as false in and/or, and any other non-boolean operand of
 * and/or is an error (WhereEvaluationError).
 */
import { Parser, tokenize, WhereSyntaxError } from './where/parser.js';
import { DateTimeValue, type CompiledExpression, type WhereScope, type WhereValue } from './where/values.js';

export { WhereSyntaxError } from './where/parser.js';
export { DateTimeValue, WhereEvaluationError, type CompiledExpression, type WhereScope, type WhereValue } from './where/values.js';

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
