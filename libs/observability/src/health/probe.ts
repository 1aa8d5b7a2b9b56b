/** One dependency's state, as readiness reports it. */
export interface ProbeResult {
  readonly status: 'up' | 'down';
  /** How long the check took (for a cached answer: the check that produced it). */
  readonly latencyMs: number;
  /** Why it is down: the driver's message, or `timed out after … ms`. */
  readonly error?: string;
}

/** A dependency check: never rejects, answers within its own time bound. */
export interface Probe {
  check(): Promise<ProbeResult>;
}

/**
 * Runs `work` with a time bound and reports up or down; never rejects.
 *
 * @example
 * await timed(() => dataSource.query('SELECT 1'), 1500); // { status: 'up', latencyMs: 2 }
 */
export async function timed(work: () => Promise<unknown>, timeoutMs: number): Promise<ProbeResult> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    const attempt = work();
    attempt.catch(() => undefined); // a late failure after the timeout is not unhandled
    await Promise.race([attempt, timeout]);
    return { status: 'up', latencyMs: Date.now() - started };
  } catch (error) {
    return {
      status: 'down',
      latencyMs: Date.now() - started,
      error: error instanceof Error ? error.message : String(error),
    };
  } finally {
    clearTimeout(timer);
  }
}
