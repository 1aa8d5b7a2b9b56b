/** What a redacted value reads as, everywhere (API responses, logs, errors). */
export const REDACTED = '[redacted]';

/**
 * Returns a copy of `value` in which every property named in `fields`, at any depth, reads
 * `"[redacted]"`. Pure and total: non-objects come back as they are, cycles are cut.
 *
 * @example
 * redactSensitive({ card: { cardNumber: '4111…', exp: '12/30' } }, ['cardNumber']);
 * // → { card: { cardNumber: '[redacted]', exp: '12/30' } }
 */
export function redactSensitive(value: unknown, fields: readonly string[]): unknown {
  if (fields.length === 0) return value;
  return redact(value, new Set(fields), new WeakSet());
}

function redact(value: unknown, fields: ReadonlySet<string>, seen: WeakSet<object>): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return '[cycle]';
  seen.add(value);
  if (Array.isArray(value)) return value.map((v) => redact(v, fields, seen));
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    out[key] = fields.has(key) ? REDACTED : redact(v, fields, seen);
  }
  return out;
}
