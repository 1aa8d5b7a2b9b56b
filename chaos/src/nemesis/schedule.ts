import { ChaosService, SERVICES } from '../plan';
import { INJECTION_KINDS, InjectionKind, NemesisPlan } from '../profiles';
import { Rng } from '../random';

export const ORCHESTRATOR_CRASH_POINTS = [
  'relay.afterPublish',
  'reply.beforeCommit',
  'reply.afterCommitBeforeOffset',
  'timer.beforeCommit',
] as const;
export const ADMIN_CRASH_POINTS = ['operator.beforeCommit', 'operator.afterCommit'] as const;

/** The pass on which each point kills (SAGAFLOW_CRASH_AFTER): early or in the middle of a run. */
const CRASH_AFTER: Record<(typeof ORCHESTRATOR_CRASH_POINTS)[number], [number, number]> = {
  'relay.afterPublish': [1, 40],
  'reply.beforeCommit': [1, 20],
  'reply.afterCommitBeforeOffset': [1, 20],
  'timer.beforeCommit': [1, 4],
};

export type NemesisEvent = { readonly at: number } & (
  | { readonly kind: 'kill-orchestrator'; readonly target: number; readonly restartAfterMs: number }
  | { readonly kind: 'kill-both-orchestrators'; readonly restartAfterMs: number }
  | {
      readonly kind: 'crash-point';
      readonly target: number;
      readonly point: (typeof ORCHESTRATOR_CRASH_POINTS)[number];
      readonly after: number;
    }
  | { readonly kind: 'admin-crash-point'; readonly point: (typeof ADMIN_CRASH_POINTS)[number] }
  | { readonly kind: 'kafka-restart'; readonly mode: 'clean' | 'hard'; readonly downMs: number }
  | { readonly kind: 'pg-cut'; readonly ms: number; readonly mode: 'cut' | 'restart' }
  | { readonly kind: 'redis-flush'; readonly mode: 'flush' | 'restart' }
  | { readonly kind: 'kill-participant'; readonly service: ChaosService }
  | { readonly kind: 'inject'; readonly injection: InjectionKind }
  | { readonly kind: 'operator-burst' }
);
export type NemesisKind = NemesisEvent['kind'];

/** Events that disturb processes and dependencies run one after another on this lane. */
export const INFRA_KINDS: ReadonlySet<NemesisKind> = new Set([
  'kill-orchestrator',
  'kill-both-orchestrators',
  'crash-point',
  'kafka-restart',
  'pg-cut',
  'redis-flush',
  'kill-participant',
]);

/**
 * The run's fault schedule, drawn from the seed: every event of the profile at a random time
 * within the load phase (between 8 % and 92 % of it), ordered by time. `at` is in ms from the
 * start of the load.
 */
export function drawSchedule(rng: Rng, plan: NemesisPlan, loadMs: number): NemesisEvent[] {
  const at = () => Math.round(loadMs * (0.08 + 0.84 * rng.next()));
  // A crash point needs work passing through it: armed while the load still runs.
  const early = () => Math.round(loadMs * (0.08 + 0.6 * rng.next()));
  const events: NemesisEvent[] = [];
  const times = (n: number, make: () => NemesisEvent) => {
    for (let i = 0; i < n; i++) events.push(make());
  };
  times(plan.randomKills, () => ({
    at: at(),
    kind: 'kill-orchestrator',
    target: rng.int(0, 1),
    restartAfterMs: rng.int(500, 3000),
  }));
  times(plan.doubleKills, () => ({
    at: at(),
    kind: 'kill-both-orchestrators',
    restartAfterMs: rng.int(2000, 5000),
  }));
  for (const point of ORCHESTRATOR_CRASH_POINTS) {
    const [low, high] = CRASH_AFTER[point];
    times(plan.crashPointsEach, () => ({
      at: early(),
      kind: 'crash-point',
      target: rng.int(0, 1),
      point,
      after: rng.int(low, high),
    }));
  }
  for (const point of ADMIN_CRASH_POINTS)
    times(plan.adminCrashPointsEach, () => ({ at: at(), kind: 'admin-crash-point', point }));
  times(plan.kafkaCleanRestarts, () => ({
    at: at(),
    kind: 'kafka-restart',
    mode: 'clean',
    downMs: rng.int(2000, 6000),
  }));
  times(plan.kafkaHardKills, () => ({
    at: at(),
    kind: 'kafka-restart',
    mode: 'hard',
    downMs: rng.int(2000, 6000),
  }));
  times(plan.pgCuts, () => ({ at: at(), kind: 'pg-cut', ms: plan.pgCutMs, mode: plan.pgOutage }));
  times(plan.redisFlushes, () => ({ at: at(), kind: 'redis-flush', mode: plan.redisOutage }));
  times(plan.participantKills, () => ({
    at: at(),
    kind: 'kill-participant',
    service: rng.pick(SERVICES),
  }));
  times(plan.operatorBursts, () => ({ at: at(), kind: 'operator-burst' }));
  for (const injection of INJECTION_KINDS)
    times(plan.injections[injection], () => ({ at: at(), kind: 'inject', injection }));
  return events.sort((a, b) => a.at - b.at);
}
