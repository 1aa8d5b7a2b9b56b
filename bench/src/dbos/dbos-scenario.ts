import { ChildApp } from '../infra/child-app';
import { dropDatabase, recreateDatabase } from '../infra/database';
import { BenchOptions } from '../options';
import { PhaseResult } from '../report/phase-result';
import { DbosRunSettings } from './dbos-main';

export const DBOS_DB = 'sagaflow_bench_dbos';

/** DBOS's outcome: a result, or exactly why it could not run. */
export type DbosOutcome =
  | { readonly ok: true; readonly result: PhaseResult }
  | { readonly ok: false; readonly error: string };

/**
 * Runs the DBOS side in a child process on a fresh system database of its own (same server).
 * Its pool matches what the Sagaflow side has in all (orchestrator + driver: 10 + 10).
 */
export async function runDbos(options: BenchOptions, server: string): Promise<DbosOutcome> {
  await recreateDatabase(server, DBOS_DB);
  const settings: DbosRunSettings = {
    server,
    database: DBOS_DB,
    sagas: options.sagas,
    inFlight: options.inFlight,
    warmup: options.warmup,
    stepTimeout: options.stepTimeout,
    poolSize: 20,
  };
  const app = ChildApp.start('dbos', 'bench/src/dbos/dbos-main.js', {
    BENCH_DBOS: JSON.stringify(settings),
  });
  const code = await app.wait();
  if (!options.keepDatabases) await dropDatabase(server, DBOS_DB);
  const line = /^BENCH_RESULT (.*)$/m.exec(app.output);
  if (code !== 0 || !line)
    return { ok: false, error: `exit ${code}: ${app.output.trim().slice(-2000)}` };
  return { ok: true, result: JSON.parse(line[1]!) as PhaseResult };
}
