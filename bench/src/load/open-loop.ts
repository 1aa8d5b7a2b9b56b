import { Run, RunTarget, WindowHooks, WindowResult } from './run-target';

export interface OpenLoopOptions {
  /** Starts per second, whatever the system does (an open loop: arrivals do not wait). */
  readonly rate: number;
  /** Seconds of arrivals before the window (not measured). */
  readonly warmupSeconds: number;
  /** Seconds of arrivals measured. */
  readonly seconds: number;
  /** Give up waiting for stragglers this long after the last arrival. */
  readonly drainTimeoutMs?: number;
}

const TICK_MS = 5;

/**
 * Arrivals at a fixed rate, as independent users would make them. Every run that *started*
 * inside the window is measured, however long it took, so a system that falls behind shows
 * it in its latencies instead of hiding it (no coordinated omission).
 */
export async function openLoop(
  target: RunTarget,
  options: OpenLoopOptions,
  hooks: WindowHooks = {},
): Promise<WindowResult & { readonly started: number; readonly unfinished: number }> {
  const begin = Date.now();
  const windowStart = begin + options.warmupSeconds * 1000;
  const windowEnd = windowStart + options.seconds * 1000;
  const measured: Array<Promise<Run | null>> = [];
  const background: Array<Promise<unknown>> = [];
  let seq = 0;
  let opened = false;
  while (Date.now() < windowEnd) {
    const now = Date.now();
    if (!opened && now >= windowStart) {
      opened = true;
      await hooks.onOpen?.();
    }
    const due = Math.floor(((now - begin) / 1000) * options.rate);
    for (; seq < due; seq++) {
      const run = target.run(seq).catch(() => null);
      (opened ? measured : background).push(run);
    }
    await new Promise((r) => setTimeout(r, TICK_MS));
  }
  await hooks.onClose?.();
  const drained = await settleWithin(measured, options.drainTimeoutMs ?? 60_000);
  await settleWithin(background, 1000);
  const runs = drained.filter((r): r is Run => r !== null);
  return {
    completed: runs.length,
    seconds: options.seconds,
    perSecond: runs.length / options.seconds,
    runs,
    started: measured.length,
    unfinished: measured.length - runs.length,
  };
}

/** The results settled within `ms`; the rest count as null (unfinished). */
async function settleWithin<T>(
  promises: Array<Promise<T | null>>,
  ms: number,
): Promise<Array<T | null>> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<void>((r) => (timer = setTimeout(r, ms)));
  const results: Array<T | null> = promises.map(() => null);
  const all = Promise.all(promises.map((p, i) => p.then((v) => void (results[i] = v))));
  await Promise.race([all, limit]);
  clearTimeout(timer);
  return results;
}
