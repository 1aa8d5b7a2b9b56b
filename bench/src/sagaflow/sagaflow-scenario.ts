import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { closedLoop } from '../load/closed-loop';
import { openLoop } from '../load/open-loop';
import { WindowResult } from '../load/run-target';
import { databaseBackends, Probe, ResourceMeter } from '../infra/resource-meter';
import { BenchOptions } from '../options';
import { parseStepTimeout } from '../saga/bench-saga';
import { PhaseResult, phaseResult } from '../report/phase-result';
import { ProfileSummary, summariseProfile } from '../report/cpu-profile';
import { LOG_DIR, SagaflowStack } from './sagaflow-stack';
import { SagaflowTarget } from './sagaflow-target';

export interface Environment {
  readonly server: string;
  readonly kafkaBrokers: string;
  readonly redisUrl: string;
  /** The Kafka broker's pid when the bench started it (its CPU is then reported too). */
  readonly kafkaPid: number | null;
  /** The Redis server's pid if it runs on this machine (BullMQ timer wake-ups go there). */
  readonly redisPid: number | null;
}

export const SAGAFLOW_DB = 'sagaflow_bench';
const PROFILE_FILE = join(LOG_DIR, 'orchestrator.cpuprofile');

/** A running stack, its load target and the meter every phase shares. */
export interface SagaflowSession {
  readonly stack: SagaflowStack;
  readonly target: SagaflowTarget;
  readonly meter: ResourceMeter;
  /**
   * The least warm-up of every phase: a cancelled step timer's wake-up still fires one timeout
   * later, so a window must start a timeout after the load it measures began (0 without timers).
   */
  readonly warmupMs: number;
}

export async function openSession(
  options: BenchOptions,
  env: Environment,
): Promise<SagaflowSession> {
  const stack = await SagaflowStack.start({
    server: env.server,
    database: SAGAFLOW_DB,
    kafkaBrokers: env.kafkaBrokers,
    redisUrl: env.redisUrl,
    stepTimeout: options.stepTimeout,
    orchestrators: options.orchestrators,
    profileFile: options.profile ? PROFILE_FILE : null,
  });
  try {
    const target = await SagaflowTarget.connect(stack.env);
    const probes: Probe[] = [
      { label: 'driver (StartSaga)', pids: [process.pid] },
      ...stack.processes().map((p) => ({ label: p.label, pids: [p.pid] })),
      databaseBackends('postgres (bench db)', env.server, SAGAFLOW_DB),
      ...(env.kafkaPid ? [{ label: 'kafka broker', pids: [env.kafkaPid] }] : []),
      ...(env.redisPid ? [{ label: 'redis-server (whole server)', pids: [env.redisPid] }] : []),
    ];
    const meter = new ResourceMeter(probes, [
      { label: 'sagaflow', server: env.server, database: SAGAFLOW_DB },
    ]);
    const timeoutMs = parseStepTimeout(options.stepTimeout);
    return { stack, target, meter, warmupMs: timeoutMs ? timeoutMs + 5000 : 0 };
  } catch (error) {
    await stack.stop({ keepDatabase: options.keepDatabases });
    throw error;
  }
}

export async function closeSession(session: SagaflowSession, options: BenchOptions): Promise<void> {
  await session.stack.stop({ keepDatabase: options.keepDatabases });
  await session.target.close();
}

/** The closed loop at full speed: W in flight, after a warm-up. */
export async function measurePeak(
  s: SagaflowSession,
  options: Pick<BenchOptions, 'sagas' | 'inFlight' | 'warmup'>,
  phase: string,
  profile: boolean = false,
): Promise<{ result: PhaseResult; profile: ProfileSummary | null }> {
  const orchestrator = s.stack.orchestrators[0]!;
  if (profile) rmSync(PROFILE_FILE, { force: true });
  const window = await closedLoop(
    s.target.phase(phase),
    {
      inFlight: options.inFlight,
      warmup: options.warmup,
      warmupMs: s.warmupMs,
      count: options.sagas,
    },
    {
      onOpen: async () => {
        if (profile) orchestrator.child.kill('SIGUSR2');
        await s.meter.open();
      },
      onClose: async () => {
        if (profile) orchestrator.child.kill('SIGUSR2');
        await s.meter.close();
      },
    },
  );
  const result = await resultOf(s, phase, window);
  return { result, profile: profile ? await profileOf(() => orchestrator.output) : null };
}

/** Arrivals at half the peak rate: the latency a system shows when it is not saturated. */
export async function measureHalfRate(
  s: SagaflowSession,
  peakPerSecond: number,
  seconds: number,
): Promise<PhaseResult> {
  const rate = peakPerSecond / 2;
  const hooks = { onOpen: () => s.meter.open(), onClose: () => s.meter.close() };
  const warmupSeconds = Math.max(3, s.warmupMs / 1000);
  const window = await openLoop(s.target.phase('half'), { rate, warmupSeconds, seconds }, hooks);
  return resultOf(s, 'half-rate', window, { targetRate: Math.round(rate) });
}

async function resultOf(
  s: SagaflowSession,
  phase: string,
  window: WindowResult,
  extra: { targetRate?: number } = {},
): Promise<PhaseResult> {
  const latencies = await s.target.committedLatencies(window.runs);
  return phaseResult('sagaflow', phase, window, s.meter.usage(), latencies, extra);
}

/** Waits for the orchestrator to write the profile it was told to stop, then summarises it. */
async function profileOf(output: () => string): Promise<ProfileSummary | null> {
  for (let i = 0; i < 100 && !/cpu profile written/.test(output()); i++)
    await new Promise((r) => setTimeout(r, 100));
  return existsSync(PROFILE_FILE) ? summariseProfile(PROFILE_FILE) : null;
}
