import { ValidationFailedException } from '../errors/validation-failed.exception';

/**
 * Opaque page cursors: base64url of a small JSON object. Clients pass them back as they got
 * them; anything else (edited, truncated, from another list or sort order) is a 400 on
 * `cursor`, never a wrong page.
 *
 * @example
 * const cursor = encodeCursor({ s: 'updatedAt', v: '2025-01-01T00:00:00.000001Z', i: id });
 * decodeCursor(cursor, (c) => (typeof c.i === 'string' ? c : null));
 */
export function encodeCursor(position: Record<string, string | number>): string {
  return Buffer.from(JSON.stringify(position), 'utf8').toString('base64url');
}

/** Decodes a cursor and checks it with `accept` (null: not a cursor of this list). */
export function decodeCursor<T>(
  cursor: string,
  accept: (value: Record<string, unknown>) => T | null,
): T {
  const parsed = parse(cursor);
  const accepted = parsed ? accept(parsed) : null;
  if (accepted === null) {
    throw new ValidationFailedException([
      {
        field: 'cursor',
        messages: [
          'cursor is not one this list returned (or it was made for another sort order): pass nextCursor exactly as returned, or leave it out to start from the first page',
        ],
      },
    ]);
  }
  return accepted;
}

function parse(cursor: string): Record<string, unknown> | null {
  if (!/^[A-Za-z0-9_-]{1,1024}$/.test(cursor)) return null;
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    return value && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}
