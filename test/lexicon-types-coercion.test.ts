import { describe, expect, it } from 'vitest';
import { coerce, valueTypeOf } from '../src/schema/lexicon-coercion.js';

describe('Lexicon value types', () => {
  it('maps documented types to GraphQL types', () => {
    const scalar = (name: string, schema: object) => {
      const type = valueTypeOf(name, schema);
      return type.list ? [type.scalar] : type.scalar;
    };
    expect(scalar('plan', { type: 'string' })).toBe('String');
    expect(scalar('plan', { type: ['string', 'null'] })).toBe('String');
    expect(scalar('$time', { type: 'string' })).toBe('DateTime');
    expect(scalar('signed', { type: 'string', format: 'date-time' })).toBe('DateTime');
    expect(scalar('seats', { type: 'integer' })).toBe('Int');
    expect(scalar('mp_processing_time_ms', { type: 'integer' })).toBe('Float');
    expect(scalar('bytes', { type: 'integer', maximum: 2 ** 40 })).toBe('Float');
    expect(scalar('price', { type: ['integer', 'number'] })).toBe('Float');
    expect(scalar('flag', { type: 'boolean' })).toBe('Boolean');
    expect(scalar('ids', { type: 'array', items: { type: 'integer' } })).toEqual(['Int']);
    expect(scalar('things', { type: 'array' })).toEqual(['JSON']);
    expect(scalar('address', { type: 'object' })).toBe('JSON');
    expect(scalar('either', { type: ['string', 'number'] })).toBe('JSON');
  });

  it('converts only what converts without loss', () => {
    const as = (value: unknown, schema: object, name = 'p') => coerce(value, valueTypeOf(name, schema));
    expect(as('42', { type: 'integer' })).toEqual({ ok: true, value: 42 });
    expect(as(4.5, { type: 'integer' })).toEqual({ ok: false, actual: 'number' });
    expect(as(2 ** 31, { type: 'integer' })).toEqual({ ok: false, actual: 'integer beyond 32 bits' });
    expect(as(4.5, { type: 'integer' }, 'size_ms')).toEqual({ ok: false, actual: 'number' });
    expect(as(1_715_000_000_000, { type: 'integer' }, 'size_ms')).toEqual({ ok: true, value: 1_715_000_000_000 });
    expect(as('-1.5e3', { type: 'number' })).toEqual({ ok: true, value: -1500 });
    expect(as('12abc', { type: 'number' })).toEqual({ ok: false, actual: 'string' });
    for (const [value, expected] of [
      [1, true],
      [0, false],
      ['true', true],
      ['false', false],
      ['1', true],
    ] as const) {
      expect(as(value, { type: 'boolean' })).toEqual({ ok: true, value: expected });
    }
    expect(as('yes', { type: 'boolean' })).toEqual({ ok: false, actual: 'string' });
    expect(as(false, { type: 'string' })).toEqual({ ok: true, value: 'false' });
    expect(as(['a'], { type: 'string' })).toEqual({ ok: false, actual: 'array' });
    expect(as(1_715_000_000, { type: 'string' }, '$time')).toEqual({ ok: true, value: new Date(1_715_000_000_000) });
    expect(as('2024-05-01 10:00:00', { type: 'string' }, 'created')).toEqual({ ok: true, value: new Date('2024-05-01T10:00:00Z') });
    expect(as(null, { type: 'integer' })).toEqual({ ok: true, value: null });
  });

  it('reports a value no scalar can carry instead of shifting or overflowing it', () => {
    const as = (value: unknown, schema: object, name = 'p') => coerce(value, valueTypeOf(name, schema));
    expect(as('2024-02-30', { type: 'string' }, 'created')).toEqual({ ok: false, actual: 'string' });
    expect(as('2024-04-31 10:00:00', { type: 'string' }, 'created')).toEqual({ ok: false, actual: 'string' });
    expect(as('2024-02-29T10:00:00Z', { type: 'string' }, 'created')).toEqual({ ok: true, value: new Date('2024-02-29T10:00:00Z') });
    expect(as('1e400', { type: 'number' })).toEqual({ ok: false, actual: 'string' });
  });
});
