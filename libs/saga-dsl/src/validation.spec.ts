import { z } from 'zod';
import { StandardResult, StandardSchemaV1, validate } from './index';

/** A hand-written Standard Schema, to pin behaviour that does not depend on zod. */
function schema(
  result: StandardResult<unknown> | Promise<StandardResult<unknown>>,
): StandardSchemaV1 {
  return { '~standard': { version: 1, vendor: 'test', validate: () => result } };
}

describe('validate', () => {
  it('returns the schema output on success (defaults and transforms applied)', () => {
    const s = z.object({
      amount: z.string().transform(Number),
      currency: z.string().default('EUR'),
    });
    expect(validate(s, { amount: '12' })).toEqual({
      ok: true,
      value: { amount: 12, currency: 'EUR' },
    });
  });

  it('maps nested issue paths to dotted strings', () => {
    const s = z.object({ items: z.array(z.object({ sku: z.string() })) });
    const result = validate(s, { items: [{ sku: 'a' }, { sku: 1 }] });
    expect(result).toEqual({
      ok: false,
      errors: [{ path: 'items.1.sku', message: expect.any(String) }],
    });
  });

  it('reports one error per bad field', () => {
    const s = z.object({ a: z.string(), b: z.number() });
    const result = validate(s, { a: 1, b: 'x' });
    expect(result.ok ? [] : result.errors.map((e) => e.path)).toEqual(['a', 'b']);
  });

  it('uses an empty path for the root', () => {
    expect(validate(z.string(), 5)).toEqual({
      ok: false,
      errors: [{ path: '', message: expect.any(String) }],
    });
  });

  it('accepts path segments given as { key } objects, numbers and symbols', () => {
    const issue = { message: 'bad', path: [{ key: 'a' }, 0, { key: 1 }, Symbol('s')] };
    expect(validate(schema({ issues: [issue] }), null)).toEqual({
      ok: false,
      errors: [{ path: 'a.0.1.Symbol(s)', message: 'bad' }],
    });
  });

  it('treats a missing path as the root', () => {
    expect(validate(schema({ issues: [{ message: 'bad' }] }), null)).toEqual({
      ok: false,
      errors: [{ path: '', message: 'bad' }],
    });
  });

  it('refuses async schemas instead of awaiting them (the engine is synchronous)', () => {
    const result = validate(schema(Promise.resolve({ value: 1 })), null);
    expect(result).toEqual({
      ok: false,
      errors: [{ path: '', message: 'async schemas are not supported: remove async refinements' }],
    });
  });

  it('refuses a zod schema with an async refinement', () => {
    const s = z.string().refine(async () => true);
    expect(validate(s, 'x')).toMatchObject({
      ok: false,
      errors: [{ path: '', message: expect.stringContaining('async') }],
    });
  });
});
