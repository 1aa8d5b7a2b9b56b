import { Percentiles, percentiles } from '../load/latency';
import { WindowResult } from '../load/run-target';
import { Usage } from '../infra/resource-meter';

/** What one measured phase of one engine gives the report. */
export interface PhaseResult {
  readonly engine: 'sagaflow' | 'dbos';
  readonly phase: string;
  readonly completed: number;
  readonly seconds: number;
  readonly perSecond: number;
  /** Start call → terminal state committed. */
  readonly latencyMs: Percentiles;
  /** Start call → the caller learnt it (Sagaflow: the lifecycle event arrived). */
  readonly observedLatencyMs: Percentiles;
  readonly commits: number;
  readonly commitsPerSaga: number;
  readonly commitsPerStep: number;
  /** CPU seconds per completed saga, per process (or process group). */
  readonly cpuMsPerSaga: Record<string, number>;
  /** Cores used on average during the window, per process. */
  readonly cores: Record<string, number>;
  readonly peakRssMiB: Record<string, number>;
  /** Open-loop phases: arrivals in the window, and those that never finished. */
  readonly started?: number;
  readonly unfinished?: number;
  readonly targetRate?: number;
}

export const STEPS_PER_SAGA = 3;

export function phaseResult(
  engine: PhaseResult['engine'],
  phase: string,
  window: WindowResult & { started?: number; unfinished?: number },
  usage: Usage,
  committedLatencies: readonly number[],
  extra: { targetRate?: number } = {},
): PhaseResult {
  const commits = Object.values(usage.commits).reduce((a, b) => a + b, 0);
  // Resource use is per saga of the window's throughput: the window is fully loaded in steady state.
  const sagas = window.perSecond * usage.seconds;
  const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;
  const per = (f: (v: number) => number, o: Record<string, number>) =>
    Object.fromEntries(Object.entries(o).map(([k, v]) => [k, round(f(v), 3)]));
  return {
    engine,
    phase,
    completed: window.completed,
    seconds: round(window.seconds),
    perSecond: round(window.perSecond, 1),
    latencyMs: roundAll(percentiles(committedLatencies)),
    observedLatencyMs: roundAll(percentiles(window.runs.map((r) => r.finishedAt - r.startedAt))),
    commits,
    commitsPerSaga: round(commits / sagas),
    commitsPerStep: round(commits / sagas / STEPS_PER_SAGA),
    cpuMsPerSaga: per((s) => (1000 * s) / sagas, usage.cpuSeconds),
    cores: per((s) => s / usage.seconds, usage.cpuSeconds),
    peakRssMiB: per((m) => m, usage.peakRssMiB),
    ...(window.started !== undefined
      ? { started: window.started, unfinished: window.unfinished }
      : {}),
    ...extra,
  };
}

function roundAll(p: Percentiles): Percentiles {
  const r = (n: number) => Math.round(n * 10) / 10;
  return { count: p.count, p50: r(p.p50), p95: r(p.p95), p99: r(p.p99), max: r(p.max) };
}
