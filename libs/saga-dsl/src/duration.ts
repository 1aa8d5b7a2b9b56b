import ms from 'ms';

type Unit = 'ms' | 's' | 'm' | 'h' | 'd';

/**
 * A duration: milliseconds, or a string such as `'250ms'`, `'30s'`, `'5m'`, `'2h'`, `'1d'`.
 * The unit is checked at compile time; the number at build time.
 */
export type Duration = number | `${number}${Unit}`;

/** Converts a duration to milliseconds, or returns a problem description. */
export function toMs(
  value: Duration,
  what: string,
): { ok: true; ms: number } | { ok: false; problem: string } {
  const parsed = typeof value === 'number' ? value : ms(value as ms.StringValue);
  if (typeof parsed !== 'number' || !Number.isFinite(parsed) || parsed < 0) {
    return {
      ok: false,
      problem: `${what} "${String(value)}" is not a duration: use milliseconds or a string such as "30s" or "5m".`,
    };
  }
  return { ok: true, ms: Math.round(parsed) };
}
