import { z } from 'zod';
import { defineCommand } from './index';

const schemas = { payload: z.object({ id: z.string() }), reply: z.object({}) };

describe('defineCommand', () => {
  it('returns a frozen definition carrying the type, topic and both schemas', () => {
    const command = defineCommand({ type: 'credit.reserve', topic: 'credit.commands', ...schemas });

    expect(command).toEqual({ type: 'credit.reserve', topic: 'credit.commands', ...schemas });
    expect(Object.isFrozen(command)).toBe(true);
  });

  it('does not freeze or keep the caller options object', () => {
    const options = { type: 'credit.reserve', topic: 'credit.commands', ...schemas };
    const command = defineCommand(options);
    expect(command).not.toBe(options);
    expect(Object.isFrozen(options)).toBe(false);
  });

  it.each(['credit.reserve', 'inventory.reserve-all', 'a.b.c', 'v2.x1'])(
    'accepts the type %p',
    (type) => {
      expect(() => defineCommand({ type, topic: 't', ...schemas })).not.toThrow();
    },
  );

  it.each([
    '',
    'credit',
    'Credit.reserve',
    'credit.Reserve',
    'credit reserve',
    'credit..reserve',
    'credit.',
    '.credit',
    '1credit.reserve',
    'credit_x.reserve',
  ])('rejects the type %p and says what a valid one looks like', (type) => {
    expect(() => defineCommand({ type, topic: 't', ...schemas })).toThrow(TypeError);
    expect(() => defineCommand({ type, topic: 't', ...schemas })).toThrow(
      `Command type "${type}" is invalid: use dotted lower-case words such as "credit.reserve".`,
    );
  });

  it.each(['credit.commands', 'Credit_Commands-1', 'x'.repeat(200)])(
    'accepts the topic %p',
    (topic) => {
      expect(() => defineCommand({ type: 'credit.reserve', topic, ...schemas })).not.toThrow();
    },
  );

  it.each(['', 'credit commands', 'credit/commands', 'crédit', 'x'.repeat(201)])(
    'rejects the topic %p',
    (topic) => {
      expect(() => defineCommand({ type: 'credit.reserve', topic, ...schemas })).toThrow(TypeError);
      expect(() => defineCommand({ type: 'credit.reserve', topic, ...schemas })).toThrow(
        /^Topic ".*" of command "credit.reserve" is invalid/,
      );
    },
  );
});
