import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { format, resolveConfig } from 'prettier';
import { DbosOutcome } from '../dbos/dbos-scenario';
import { GrowthResult } from '../growth/growth-scenario';
import { ROOT } from '../infra/child-app';
import { withClient } from '../infra/database';
import { BenchOptions } from '../options';
import { Environment } from '../sagaflow/sagaflow-scenario';
import { ProfileSummary } from './cpu-profile';
import { PhaseResult } from './phase-result';
import { phasesTable, processTable, profileText, targetsTable } from './table';
import { checkTargets } from './targets';

export interface SagaflowResults {
  readonly peak: PhaseResult;
  readonly halfRate: PhaseResult;
  readonly profiled: PhaseResult | null;
  readonly profile: ProfileSummary | null;
}

/** The text report (tables, profile, targets), after writing every figure to bench/results/. */
export async function report(
  options: BenchOptions,
  env: Environment,
  s: SagaflowResults,
  growth: GrowthResult | null,
  dbos: DbosOutcome | null,
): Promise<string> {
  const dbosResult = dbos?.ok ? dbos.result : null;
  const phases = [
    s.peak,
    s.halfRate,
    ...(s.profiled ? [s.profiled] : []),
    ...(growth?.phases ?? []),
    ...(dbosResult ? [dbosResult] : []),
  ];
  const checks = checkTargets({
    peak: s.peak,
    halfRate: s.halfRate,
    dbos: dbosResult,
    growth: growth?.phases ?? [],
    adminListP99Ms: growth?.adminList?.latencyMs.p99 ?? null,
  });
  const machine = await machineInfo(env);
  const out: string[] = [
    `Sagaflow bench — ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, node ${process.version}, ${machine.postgres}`,
    `3-step saga, step timeout ${options.stepTimeout}, ${options.orchestrators} orchestrator(s), ${options.inFlight} in flight, ${options.warmup} warm-up`,
    '',
    phasesTable(phases),
    '',
    `Sagaflow peak, per process (CPU ms per saga; cores busy on average; peak RSS):`,
    processTable(s.peak),
  ];
  out.push(...dbosLines(s.peak, dbos), ...adminListLines(options, growth));
  if (s.profile) out.push('', profileText(s.profile));
  out.push('', targetsTable(checks));
  const file = await saveResults({
    options,
    machine,
    phases,
    checks,
    growth,
    dbosError: dbos && !dbos.ok ? dbos.error : null,
    profile: s.profile,
  });
  out.push('', `results: ${file}`);
  return `${out.join('\n')}\n`;
}

function dbosLines(peak: PhaseResult, dbos: DbosOutcome | null): string[] {
  if (!dbos) return [];
  if (!dbos.ok) return ['', `DBOS Transact could not run: ${dbos.error}`];
  const ratio = (peak.perSecond / dbos.result.perSecond).toFixed(2);
  return [
    '',
    'DBOS peak, per process:',
    processTable(dbos.result),
    '',
    `ratio Sagaflow/DBOS (sagas/s): ${ratio}`,
  ];
}

function adminListLines(options: BenchOptions, growth: GrowthResult | null): string[] {
  const a = growth?.adminList;
  if (!a) return [];
  return [
    '',
    `admin filtered list at ${options.growthSizes.at(-1)} stored, via ${a.via} (${a.why}):`,
    `  ${a.request}`,
    `  p50 ${a.latencyMs.p50} ms, p99 ${a.latencyMs.p99} ms over ${a.latencyMs.count} requests`,
  ];
}

async function machineInfo(env: Environment) {
  const postgres = await withClient(`${env.server}/postgres`, async (c) => {
    const { rows } = await c.query<{ v: string }>(`SELECT current_setting('server_version') AS v`);
    return `PostgreSQL ${rows[0]!.v}`;
  });
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    postgres,
    kafkaBrokers: env.kafkaBrokers,
  };
}

/** Written as the repository's Prettier would: `format:check` reads this folder too. */
async function saveResults(results: Record<string, unknown>): Promise<string> {
  const dir = join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  const json = JSON.stringify({ at: new Date().toISOString(), ...results });
  const config = await resolveConfig(file);
  writeFileSync(file, await format(json, { ...config, filepath: file }));
  return file;
}
