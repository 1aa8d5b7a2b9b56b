/** One saga (or workflow) run from start to its terminal state, as the load generator saw it. */
export interface Run {
  readonly id: string;
  /** `Date.now()` just before the start call. */
  readonly startedAt: number;
  /** `Date.now()` when the caller learnt the terminal state. */
  readonly finishedAt: number;
}

/** What the load generators drive: start run number `seq` and resolve when it is terminal. */
export interface RunTarget {
  run(seq: number): Promise<Run>;
}

/** Called when a measurement window opens and closes (snapshots of CPU, commits …). */
export interface WindowHooks {
  readonly onOpen?: () => Promise<void>;
  readonly onClose?: () => Promise<void>;
}

/** What a load phase measured inside its window. */
export interface WindowResult {
  readonly completed: number;
  readonly seconds: number;
  readonly perSecond: number;
  /** The runs that completed inside the window. */
  readonly runs: readonly Run[];
}
