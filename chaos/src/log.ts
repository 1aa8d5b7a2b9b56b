const started = Date.now();

/** One line on stderr, with the time since the harness started: the run's own narrative. */
export function log(message: string): void {
  process.stderr.write(`[chaos +${((Date.now() - started) / 1000).toFixed(1)}s] ${message}\n`);
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** `error.message`, or the cause's code for fetch and socket errors. */
export function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ? `${error.message} (${cause.code})` : error.message;
}

/** Percentiles of a list of numbers (nearest rank); null fields for an empty list. */
export function percentiles(values: readonly number[]): {
  count: number;
  p50: number | null;
  p99: number | null;
  max: number | null;
} {
  if (values.length === 0) return { count: 0, p50: null, p99: null, max: null };
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;
  return {
    count: sorted.length,
    p50: Math.round(at(0.5)),
    p99: Math.round(at(0.99)),
    max: Math.round(sorted[sorted.length - 1]!),
  };
}
