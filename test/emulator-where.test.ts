import { describe, expect, it } from 'vitest';
import { compileWhere, evaluateWhere, WhereSyntaxError } from '../src/emulator/where.js';

const scope = {
  properties: { plan: 'Pro', age: 34, price: '12.5', tags: ['a', 'b'], signed: 'true', empty: null, created: '2024-03-01T10:00:00' },
  user: { $email: 'allison@example.com' },
  time: Date.UTC(2024, 2, 2) / 1000,
};
const check = (expression: string): boolean => evaluateWhere(expression, scope);
const value = (expression: string): unknown => compileWhere(expression)(scope);

describe('segmentation expressions', () => {
  it('compares with the documented typing rules', () => {
    expect(check('properties["plan"] == "Pro"')).toBe(true);
    expect(check('properties["plan"] != "Pro"')).toBe(false);
    expect(check('properties["age"] >= 30 and properties["age"] < 40')).toBe(true);
    // Different types are never equal, and comparisons of non-numbers are undefined (false).
    expect(check('properties["age"] == "34"')).toBe(false);
    expect(check('properties["price"] > 10')).toBe(false);
    expect(check('number(properties["price"]) > 10')).toBe(true);
    expect(check('boolean(properties["signed"])')).toBe(true);
    expect(value('string(properties["age"])')).toBe('34');
  });

  it('supports in, defined, not, user[] and datetime', () => {
    expect(check('properties["plan"] in ["Free", "Pro"]')).toBe(true);
    expect(check('"ro" in properties["plan"]')).toBe(true);
    expect(check('"b" in properties["tags"]')).toBe(true);
    expect(check('defined(properties["plan"])')).toBe(true);
    expect(check('not defined(properties["missing"])')).toBe(true);
    expect(check('not defined(properties["empty"])')).toBe(true);
    expect(check('user["$email"] == "allison@example.com"')).toBe(true);
    expect(check('event["$time"] >= datetime("2024-03-01T00:00:00")')).toBe(true);
    expect(check('properties["created"] < datetime("2024-03-02")')).toBe(true);
    expect(check('not (properties["plan"] == "Free") or properties["missing"]')).toBe(true);
  });

  it('does arithmetic with undefined on type mismatch or division by zero', () => {
    expect(value('properties["age"] * 2 + 1')).toBe(69);
    expect(value('-properties["age"] % 5')).toBe(-4);
    expect(value('properties["age"] / 0')).toBeUndefined();
    expect(value('properties["plan"] + "!"')).toBe('Pro!');
    expect(value('properties["plan"] - 1')).toBeUndefined();
    expect(value('floor(7.8) + ceil(1.2) + round(2.5)')).toBe(12);
  });

  it('rejects malformed expressions with a syntax error', () => {
    for (const bad of ['', 'properties["plan"] ==', 'properties[plan]', 'foo("x")', '"unterminated', 'properties["a"] = 1']) {
      expect(() => compileWhere(bad), bad).toThrow(WhereSyntaxError);
    }
  });
});
