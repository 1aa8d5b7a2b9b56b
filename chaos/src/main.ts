import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, RunArgs } from './args';
import { ChaosRun } from './chaos-run';
import { commitOf, figureLines, verdictTable, writeReport } from './check/report';
import { sabotageOutcome } from './check/sabotage';
import { Verdict } from './check/verdict';
import { repositoryRoot } from './infra/repository-root';
import { Topology } from './infra/topology';
import { log } from './log';
import { newSeed } from './random';

/**
 * The chaos harness: `npm run chaos -- --profile smoke|long [--seed N]`. One run = a topology
 * of its own, a steady load of order sagas with seeded misbehaviour, a seeded fault schedule,
 * a drain, and a verdict per invariant of RELIABILITY.md (exit code 1 if any fails).
 */
async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const seed = args.seed ?? newSeed();
  process.stdout.write(`seed ${seed}\n`);
  const root = repositoryRoot();
  const startedAt = new Date();
  const runId = `${startedAt.getTime().toString(36).slice(-5)}${(seed % 1296).toString(36)}`;
  const resultsDir = join(
    root,
    'chaos',
    'results',
    `${startedAt.toISOString().replace(/[:.]/g, '-')}-${args.profile.name}-seed${seed}`,
  );
  const logDir = join(resultsDir, 'logs');
  mkdirSync(logDir, { recursive: true });
  log(
    `profile ${args.profile.name}: ${args.profile.sagas} sagas at ${args.profile.startsPerSecond}/s; results in ${resultsDir}`,
  );
  const topology = await Topology.start({
    root,
    runId,
    seed,
    profile: args.profile,
    logDir,
    workDir: join(tmpdir(), `sagaflow-chaos-${runId}`),
  });
  let failed = true;
  try {
    const code = await run(args, seed, topology, resultsDir, startedAt);
    failed = code !== 0;
    return code;
  } finally {
    await topology.stop({ keep: args.keep || failed });
  }
}

async function run(
  args: RunArgs,
  seed: number,
  topology: Topology,
  resultsDir: string,
  startedAt: Date,
): Promise<number> {
  const chaos = new ChaosRun(topology, args.profile, seed);
  await chaos.load();
  await chaos.drainAndSettle();
  const result = await chaos.judge(args.sabotage);
  const failed = result.verdicts.filter((v) => v.status === 'FAIL');
  const inconclusive = result.verdicts.filter((v) => v.status === 'INCONCLUSIVE');
  const seconds = ((chaos.endedAt - startedAt.getTime()) / 1000).toFixed(0);
  const header = `seed ${seed} · profile ${args.profile.name} · ${args.profile.sagas} sagas · ${seconds} s`;
  process.stdout.write(
    `\n${header}\n\n${verdictTable(result.verdicts)}\n\nfigures:\n${figureLines(result.figures).join('\n')}\n`,
  );
  const file = writeReport(resultsDir, {
    seed,
    profile: args.profile,
    ...commitOf(topology.options.root),
    startedAt: startedAt.toISOString(),
    durationMs: chaos.endedAt - startedAt.getTime(),
    verdict: failed.length > 0 ? 'FAIL' : inconclusive.length > 0 ? 'INCONCLUSIVE' : 'PASS',
    verdicts: result.verdicts,
    figures: result.figures,
    ...chaos.record(),
  });
  process.stdout.write(`\nreport: ${file}\nlogs:   ${join(resultsDir, 'logs')}\n`);
  return exitCode(args, seed, chaos.broken, result.verdicts);
}

/** 0 pass, 1 an invariant failed, 3 inconclusive; with `--sabotage`, 0 iff every break was caught. */
function exitCode(
  args: RunArgs,
  seed: number,
  broken: readonly string[],
  verdicts: readonly Verdict[],
): number {
  if (args.sabotage) {
    const { caught, missed } = sabotageOutcome(broken, verdicts);
    process.stdout.write(
      `sabotage: caught ${caught.join(', ')}; missed ${missed.join(', ') || 'none'}\n`,
    );
    return missed.length === 0 ? 0 : 1;
  }
  const failed = verdicts.filter((v) => v.status === 'FAIL');
  if (failed.length > 0) {
    process.stdout.write(
      `FAIL: ${failed.map((v) => v.id).join(', ')} (replay with --seed ${seed})\n`,
    );
    return 1;
  }
  const inconclusive = verdicts.filter((v) => v.status === 'INCONCLUSIVE');
  if (inconclusive.length > 0) {
    process.stdout.write(`INCONCLUSIVE: ${inconclusive.map((v) => v.id).join(', ')}\n`);
    return 3;
  }
  process.stdout.write('PASS: every invariant holds\n');
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      `chaos run failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(2);
  },
);
