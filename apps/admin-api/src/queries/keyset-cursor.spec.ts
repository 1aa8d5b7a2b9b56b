import { ValidationFailedException } from '../errors/validation-failed.exception';
import { decodeCursor, encodeCursor } from './keyset-cursor';

describe('keyset cursors', () => {
  const accept = (c: Record<string, unknown>) => (typeof c.i === 'string' ? { i: c.i } : null);

  it('round-trips a position through an opaque URL-safe string', () => {
    const cursor = encodeCursor({ s: 'updatedAt', i: 'a/b+c=' });
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor, accept)).toEqual({ i: 'a/b+c=' });
  });

  it.each([
    ['not base64url', 'a b'],
    ['not JSON', Buffer.from('{oops').toString('base64url')],
    ['a JSON array', Buffer.from('[1]').toString('base64url')],
    ['JSON the list does not accept', encodeCursor({ x: 1 })],
    ['too long', 'A'.repeat(2000)],
  ])('refuses %s with a 400 on the cursor field', (_what, cursor) => {
    let thrown: unknown;
    try {
      decodeCursor(cursor, accept);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ValidationFailedException);
    expect((thrown as ValidationFailedException).problems[0]!.field).toBe('cursor');
  });
});
