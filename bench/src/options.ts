import { parseArgs } from 'node:util';
import { parseStepTimeout } from './saga/bench-saga';

export interface BenchOptions {
  /** Sagas (and DBOS workflows) completed inside the peak window. */
  readonly sagas: number;
  /** Sagas in flight in the closed loop. */
  readonly inFlight: number;
  /** Completions before the window opens. */
  readonly warmup: number;
  /** Seconds of the second phase, at half the measured peak rate. */
  readonly halfRateSeconds: number;
  /** Orchestrator processes. */
  readonly orchestrators: number;
  /** `BENCH_STEP_TIMEOUT` for every process: `30s` (like the sample saga) or `none`. */
  readonly stepTimeout: string;
  readonly dbos: boolean;
  readonly growth: boolean;
  /** Instance counts for --growth. */
  readonly growthSizes: readonly number[];
  /** CPU-profile the orchestrator during the peak window. */
  readonly profile: boolean;
  /** Keep the bench databases after the run (to look at them). */
  readonly keepDatabases: boolean;
}

const USAGE = `usage: npm run bench -- [options]
  --sagas N            sagas completed in the measured window (default 6000)
  --in-flight W        sagas in flight, closed loop (default 256)
  --warmup M           completions before measuring (default 1000; with step timers, and at
                       least the step timeout + 5 s, so their wake-ups are in steady state)
  --half-rate-seconds S  length of the half-peak-rate phase (default 20)
  --orchestrators K    orchestrator processes (default 1)
  --step-timeout T     per-step timeout of the bench saga: 30s (default, like the sample) or none
  --no-dbos            skip the DBOS Transact comparison
  --growth             also measure with 10k, 100k and 1M instances stored, and the admin list
  --growth-sizes a,b,c instance counts for --growth (default 10000,100000,1000000)
  --profile            CPU-profile the orchestrator during the peak window (top functions printed)
  --keep-databases     keep sagaflow_bench and sagaflow_bench_dbos afterwards`;

export function parseOptions(argv: readonly string[]): BenchOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      sagas: { type: 'string', default: '6000' },
      'in-flight': { type: 'string', default: '256' },
      warmup: { type: 'string', default: '1000' },
      'half-rate-seconds': { type: 'string', default: '20' },
      orchestrators: { type: 'string', default: '1' },
      'step-timeout': { type: 'string', default: '30s' },
      'no-dbos': { type: 'boolean', default: false },
      growth: { type: 'boolean', default: false },
      'growth-sizes': { type: 'string', default: '10000,100000,1000000' },
      profile: { type: 'boolean', default: false },
      'keep-databases': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  parseStepTimeout(values['step-timeout']);
  return {
    sagas: positive('--sagas', values.sagas),
    inFlight: positive('--in-flight', values['in-flight']),
    warmup: positive('--warmup', values.warmup, 0),
    halfRateSeconds: positive('--half-rate-seconds', values['half-rate-seconds']),
    orchestrators: positive('--orchestrators', values.orchestrators),
    stepTimeout: values['step-timeout'],
    dbos: !values['no-dbos'],
    growth: values.growth,
    growthSizes: values['growth-sizes'].split(',').map((s) => positive('--growth-sizes', s)),
    profile: values.profile,
    keepDatabases: values['keep-databases'],
  };
}

function positive(name: string, raw: string, min = 1): number {
  const value = Number(raw.replace(/_/g, ''));
  if (!Number.isInteger(value) || value < min)
    throw new Error(`${name} ${raw} is invalid: use a whole number of at least ${min}.\n${USAGE}`);
  return value;
}
