import { z } from 'zod';
import { defineCommand, defineSaga, redactSensitive, REDACTED } from './index';

describe('redactSensitive', () => {
  it('replaces the named fields at any depth, in arrays too, and leaves the rest', () => {
    const value = {
      cardNumber: '4111111111111111',
      order: { items: [{ sku: 'a', cardNumber: 'x' }], total: 3 },
    };
    expect(redactSensitive(value, ['cardNumber'])).toEqual({
      cardNumber: REDACTED,
      order: { items: [{ sku: 'a', cardNumber: REDACTED }], total: 3 },
    });
    expect(value.cardNumber).toBe('4111111111111111');
  });

  it('returns scalars and empty field lists unchanged, and cuts cycles', () => {
    expect(redactSensitive('s', ['a'])).toBe('s');
    const same = { a: 1 };
    expect(redactSensitive(same, [])).toBe(same);
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    expect(redactSensitive(cyclic, ['x'])).toEqual({ a: 1, self: '[cycle]' });
  });
});

describe('defineSaga sensitive', () => {
  const Do = defineCommand({
    type: 'x.do',
    topic: 'x',
    payload: z.object({}),
    reply: z.object({}),
  });
  const base = { name: 'x', version: 1, input: z.object({ cardNumber: z.string() }) };
  const step = { command: Do, payload: () => ({}) };

  it('compiles the field names, deduplicated, and leaves them out when there are none', () => {
    const withFields = defineSaga({ ...base, sensitive: ['cardNumber', 'cardNumber'] })
      .pivot('only', step)
      .build();
    expect(withFields.compiled.sensitive).toEqual(['cardNumber']);
    expect('sensitive' in defineSaga(base).pivot('only', step).build().compiled).toBe(false);
  });

  it('refuses names that are not plain property names', () => {
    expect(() =>
      defineSaga({ ...base, sensitive: ['card.number'] })
        .pivot('only', step)
        .build(),
    ).toThrow(/sensitive field "card.number" is not a field name/);
  });
});
