import { DBOS } from '@dbos-inc/dbos-sdk';
import { databaseBackends, ResourceMeter } from '../infra/resource-meter';
import { closedLoop } from '../load/closed-loop';
import { Run } from '../load/run-target';
import { phaseResult } from '../report/phase-result';
import { parseStepTimeout } from '../saga/bench-saga';
import { registerBenchWorkflow } from './dbos-workflow';

/** What the parent bench passes in `BENCH_DBOS` (JSON). */
export interface DbosRunSettings {
  readonly server: string;
  readonly database: string;
  readonly sagas: number;
  readonly inFlight: number;
  readonly warmup: number;
  readonly stepTimeout: string;
  readonly poolSize: number;
}

/**
 * DBOS Transact in its own process, as an application embeds it: the workflow runs in this
 * process and checkpoints to its system database. The closed loop and the meter are the ones
 * the Sagaflow side uses; the result goes to stdout as one `BENCH_RESULT {json}` line.
 */
async function main(): Promise<void> {
  const settings = JSON.parse(process.env.BENCH_DBOS ?? '{}') as DbosRunSettings;
  DBOS.setConfig({
    name: 'sagaflow-bench',
    systemDatabaseUrl: `${settings.server}/${settings.database}`,
    systemDatabasePoolSize: settings.poolSize,
    logLevel: 'error',
  });
  const workflow = registerBenchWorkflow(parseStepTimeout(settings.stepTimeout));
  await DBOS.launch();
  const meter = new ResourceMeter(
    [
      { label: 'dbos process', pids: [process.pid] },
      databaseBackends('postgres (dbos db)', settings.server, settings.database),
    ],
    [{ label: 'dbos', server: settings.server, database: settings.database }],
  );
  const target = {
    run: async (seq: number): Promise<Run> => {
      const id = `peak-${seq}`;
      const startedAt = Date.now();
      await DBOS.withNextWorkflowID(id, () => workflow({ orderId: id, amount: 10 }));
      return { id, startedAt, finishedAt: Date.now() };
    },
  };
  const window = await closedLoop(
    target,
    { inFlight: settings.inFlight, warmup: settings.warmup, count: settings.sagas },
    { onOpen: () => meter.open(), onClose: () => meter.close() },
  );
  const latencies = window.runs.map((r) => r.finishedAt - r.startedAt);
  const result = phaseResult('dbos', 'peak', window, meter.usage(), latencies);
  process.stdout.write(`BENCH_RESULT ${JSON.stringify(result)}\n`);
  await DBOS.shutdown();
}

main().catch((error: unknown) => {
  process.stderr.write(
    `dbos bench failed: ${error instanceof Error ? error.stack : String(error)}\n`,
  );
  process.exit(1);
});
