import { runDbos, DbosOutcome } from './dbos/dbos-scenario';
import { GrowthResult, runGrowth } from './growth/growth-scenario';
import { BenchOptions, parseOptions } from './options';
import { report, SagaflowResults } from './report/bench-report';
import {
  closeSession,
  Environment,
  measureHalfRate,
  measurePeak,
  openSession,
} from './sagaflow/sagaflow-scenario';

const log = (line: string) => process.stderr.write(`bench: ${line}\n`);

/** `npm run bench`: Sagaflow's peak and half-rate phases, DBOS Transact's peak, optional growth. */
async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const env = environment();
  const sagaflow = await runSagaflow(options, env);
  const growth = options.growth ? await runGrowthSession(options, env) : null;
  let dbos: DbosOutcome | null = null;
  if (options.dbos) {
    log(
      `dbos: ${options.warmup} warm-up + ${options.sagas} workflows, ${options.inFlight} in flight`,
    );
    dbos = await runDbos(options, env.server);
    if (!dbos.ok) log(`dbos could not run: ${dbos.error}`);
  }
  process.stdout.write(await report(options, env, sagaflow, growth, dbos));
}

async function runSagaflow(options: BenchOptions, env: Environment): Promise<SagaflowResults> {
  log(
    `sagaflow: starting ${options.orchestrators} orchestrator(s) and the participant on a fresh database`,
  );
  const session = await openSession(options, env);
  try {
    log(
      `sagaflow: peak: ${options.warmup} warm-up + ${options.sagas} sagas, ${options.inFlight} in flight`,
    );
    const { result: peak } = await measurePeak(session, options, 'peak');
    log(
      `sagaflow: peak ${peak.perSecond}/s, p50 ${peak.latencyMs.p50} ms; half rate for ${options.halfRateSeconds} s`,
    );
    const halfRate = await measureHalfRate(session, peak.perSecond, options.halfRateSeconds);
    if (!options.profile) return { peak, halfRate, profiled: null, profile: null };
    log('sagaflow: profiling the orchestrator over another closed-loop window');
    const sagas = Math.min(options.sagas, 15_000);
    const profiled = await measurePeak(
      session,
      { ...options, sagas, warmup: 1000 },
      'profiled',
      true,
    );
    return { peak, halfRate, profiled: profiled.result, profile: profiled.profile };
  } finally {
    await closeSession(session, options);
  }
}

/**
 * Growth runs without step timers: a cancelled timer's wake-up still fires 30 s later (see
 * docs/benchmarks.md), so with timers each point's cost would depend on how long ago the last
 * one ran rather than on the store's size.
 */
async function runGrowthSession(options: BenchOptions, env: Environment): Promise<GrowthResult> {
  log('growth: a fresh stack and database, step timeout none');
  const growthOptions = { ...options, stepTimeout: 'none', profile: false };
  const session = await openSession(growthOptions, env);
  try {
    return await runGrowth(session, growthOptions, env, log);
  } finally {
    await closeSession(session, growthOptions);
  }
}

function environment(): Environment {
  const url = new URL(process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/sagaflow');
  url.pathname = '';
  const pid = (name: string) => {
    const value = Number(process.env[name]);
    return Number.isInteger(value) && value > 0 ? value : null;
  };
  return {
    server: url.toString().replace(/\/$/, ''),
    kafkaBrokers: process.env.KAFKA_BROKERS || '127.0.0.1:19092',
    redisUrl: process.env.REDIS_URL || 'redis://127.0.0.1:6379',
    kafkaPid: pid('BENCH_KAFKA_PID'),
    redisPid: pid('BENCH_REDIS_PID'),
  };
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
