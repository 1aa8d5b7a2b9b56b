import { PhaseResult } from './phase-result';

export interface TargetCheck {
  readonly name: string;
  readonly measured: string;
  /** null: not measured in this run. */
  readonly pass: boolean | null;
}

export interface Measured {
  readonly peak: PhaseResult;
  readonly halfRate: PhaseResult | null;
  readonly dbos: PhaseResult | null;
  readonly growth: readonly PhaseResult[];
  readonly adminListP99Ms: number | null;
}

/** The project's performance targets, each judged on this run's figures. */
export function checkTargets(m: Measured): TargetCheck[] {
  const ratio = m.dbos ? m.peak.perSecond / m.dbos.perSecond : null;
  const first = m.growth[0];
  const last = m.growth[m.growth.length - 1];
  const growthDrop =
    first && last && m.growth.length > 1 ? 1 - last.perSecond / first.perSecond : null;
  return [
    {
      name: '>= 1,500 completed 3-step sagas/s',
      measured: `${m.peak.perSecond}/s`,
      pass: m.peak.perSecond >= 1500,
    },
    {
      name: '>= 4x DBOS Transact',
      measured: ratio === null ? 'not run' : `${ratio.toFixed(2)}x`,
      pass: ratio === null ? null : ratio >= 4,
    },
    {
      name: 'p50 <= 50 ms at half the peak rate',
      measured: m.halfRate
        ? `${m.halfRate.latencyMs.p50} ms at ${m.halfRate.targetRate}/s`
        : 'not run',
      pass: m.halfRate ? m.halfRate.latencyMs.p50 <= 50 : null,
    },
    {
      name: '<= 0.5 PostgreSQL commits per saga step',
      measured: `${m.peak.commitsPerStep}`,
      pass: m.peak.commitsPerStep <= 0.5,
    },
    {
      name: 'growth: throughput within 10% from 10k to 1M stored',
      measured:
        growthDrop === null
          ? 'not run (--growth)'
          : `${first!.perSecond}/s → ${last!.perSecond}/s (${(-growthDrop * 100).toFixed(1)}%)`,
      pass: growthDrop === null ? null : growthDrop <= 0.1,
    },
    {
      name: 'admin filtered list p99 <= 50 ms at 1M',
      measured: m.adminListP99Ms === null ? 'not run (--growth)' : `${m.adminListP99Ms} ms`,
      pass: m.adminListP99Ms === null ? null : m.adminListP99Ms <= 50,
    },
  ];
}
