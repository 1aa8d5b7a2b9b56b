import { BenchOptions } from '../options';
import { PhaseResult } from '../report/phase-result';
import { Environment, measurePeak, SagaflowSession } from '../sagaflow/sagaflow-scenario';
import { AdminListResult, measureAdminList } from './admin-list';
import { seedStore } from './seed-store';

export interface GrowthResult {
  readonly phases: readonly PhaseResult[];
  readonly seeding: ReadonlyArray<{
    readonly stored: number;
    readonly added: number;
    readonly seconds: number;
  }>;
  readonly adminList: AdminListResult | null;
}

/**
 * Throughput and p99 with more and more finished sagas stored. Runs on a fresh stack (the peak
 * phases' sagas would otherwise count): a short warm-up gives the template saga, then for each
 * size the store is seeded up to it and a shorter closed loop is measured. The measured sagas
 * add to the store, so each point ends with about `sagas + warmup` more than its label.
 */
export async function runGrowth(
  session: SagaflowSession,
  options: BenchOptions,
  _env: Environment,
  log: (line: string) => void,
): Promise<GrowthResult> {
  const sagas = Math.min(options.sagas, 5_000);
  const warmup = Math.min(options.warmup, 1_000);
  const phases: PhaseResult[] = [];
  const seeding: GrowthResult['seeding'][number][] = [];
  const url = session.stack.env.DATABASE_URL!;
  // A few finished sagas first: the seed copies a real one (row, journal, inbox).
  await measurePeak(
    session,
    { sagas: 500, inFlight: options.inFlight, warmup: 500 },
    'growth-warmup',
  );
  for (const size of [...options.growthSizes].sort((a, b) => a - b)) {
    const seeded = await seedStore(url, size);
    seeding.push({ stored: size, ...seeded });
    log(
      `growth: ${size} stored (${seeded.added} seeded in ${seeded.seconds.toFixed(1)} s), measuring ${sagas} sagas`,
    );
    const { result } = await measurePeak(
      session,
      { sagas, inFlight: options.inFlight, warmup },
      `growth-${size}`,
    );
    phases.push(result);
    log(`growth: ${size} stored: ${result.perSecond}/s, p99 ${result.latencyMs.p99} ms`);
  }
  log('growth: admin filtered list at the largest size');
  const adminList = await measureAdminList(session.stack.env);
  return { phases, seeding, adminList };
}
