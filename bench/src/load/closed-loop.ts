import { RunTarget, Run, WindowHooks, WindowResult } from './run-target';

export interface ClosedLoopOptions {
  /** Runs in flight at all times: a new one starts as soon as one finishes. */
  readonly inFlight: number;
  /** Completions before the window opens (connections, JIT, caches, Kafka fetch sizes settle). */
  readonly warmup: number;
  /**
   * And at least this long since the first start: work that comes back later (a stale timer
   * wake-up fires a step timeout after the step) must be in its steady state inside the window.
   */
  readonly warmupMs?: number;
  /** Completions inside the window. */
  readonly count: number;
  /** Fail when nothing completes for this long (a process died): default 60 s. */
  readonly stallMs?: number;
}

/**
 * A closed loop of `inFlight` workers. The window opens at the `warmup`-th completion (or later,
 * see `warmupMs`) and closes `count` completions after, so the system is fully loaded for the
 * whole window (no ramp-up, no drain inside it); the runs still in flight finish outside it.
 */
export async function closedLoop(
  target: RunTarget,
  options: ClosedLoopOptions,
  hooks: WindowHooks = {},
): Promise<WindowResult> {
  const begin = Date.now();
  let total = Infinity;
  const runs: Run[] = [];
  let nextSeq = 0;
  let completed = 0;
  let openedAt = 0;
  let closedAt = 0;
  const hookCalls: Array<Promise<void>> = [];
  const open = () => {
    openedAt = Date.now();
    total = completed + options.count;
    if (hooks.onOpen) hookCalls.push(hooks.onOpen());
  };
  const warmedUp = () =>
    completed >= options.warmup && Date.now() - begin >= (options.warmupMs ?? 0);
  if (warmedUp()) open();
  const worker = async () => {
    while (completed < total) {
      const run = await target.run(nextSeq++);
      completed++;
      if (openedAt > 0 && closedAt === 0) runs.push(run);
      if (openedAt === 0 && warmedUp()) open();
      if (completed === total) {
        closedAt = Date.now();
        if (hooks.onClose) hookCalls.push(hooks.onClose());
      }
    }
  };
  const workers = Promise.all(Array.from({ length: options.inFlight }, worker));
  await watchStalls(workers, () => completed, options.stallMs ?? 60_000);
  await Promise.all(hookCalls);
  const seconds = (closedAt - openedAt) / 1000;
  return { completed: runs.length, seconds, perSecond: runs.length / seconds, runs };
}

/** Resolves with `work`, or rejects when `progress()` has not moved for `stallMs`. */
async function watchStalls(
  work: Promise<unknown>,
  progress: () => number,
  stallMs: number,
): Promise<void> {
  let last = progress();
  let lastMoved = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const stalled = new Promise<never>((_, reject) => {
    timer = setInterval(() => {
      if (progress() !== last) {
        last = progress();
        lastMoved = Date.now();
      } else if (Date.now() - lastMoved > stallMs) {
        reject(
          new Error(
            `no run completed for ${stallMs / 1000} s (${last} done): is every process alive? See .sagaflow/bench/*.log`,
          ),
        );
      }
    }, 1000);
  });
  try {
    await Promise.race([work, stalled]);
  } finally {
    clearInterval(timer);
  }
}
