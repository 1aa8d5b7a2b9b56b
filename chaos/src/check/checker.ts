import { Kafka } from 'kafkajs';
import { Pool } from 'pg';
import { RequestRecord } from '../driver/admin-client';
import { StartRecord } from '../driver/driver';
import { Resolver } from '../driver/resolver';
import { CrashPointLife, FaultRecord } from '../nemesis/nemesis';
import { KillRecord } from '../nemesis/recovery-probe';
import { Injection } from '../nemesis/reply-injector';
import { planOf } from '../plan';
import { Profile } from '../profiles';
import { auditMatchesRequests, operatorActionsOnce } from './audit-checks';
import {
  faultFigures,
  firstProgress,
  killFigures,
  participantFaults,
  participantFigures,
  requestFigures,
  sagaFigures,
} from './figures';
import { messagesAccountedFor } from './message-checks';
import {
  atomicOutcome,
  compensationOrder,
  contiguousVersions,
  noDuplicateEffects,
  nothingLost,
  operatorIndex,
  outboxDrained,
  planConformance,
  termination,
  terminalIsFinal,
} from './saga-checks';
import { Quiescence } from './settle';
import { loadSnapshot } from './snapshot';
import { timers } from './timer-checks';
import { inconclusive, verdict, Verdict } from './verdict';

export interface CheckInput {
  readonly pool: Pool;
  readonly kafka: Kafka;
  readonly profile: Profile;
  readonly starts: readonly StartRecord[];
  readonly requests: readonly RequestRecord[];
  readonly injections: readonly Injection[];
  readonly faults: readonly FaultRecord[];
  readonly crashLives: readonly CrashPointLife[];
  readonly kills: KillRecord[];
  /** When each orchestrator life ended, whatever the cause. */
  readonly orchestratorDeaths: readonly number[];
  readonly resolver: Resolver;
  readonly quiet: Quiescence;
  readonly loadStartedAt: number;
  readonly endedAt: number;
}

export interface CheckResult {
  readonly verdicts: Verdict[];
  readonly figures: Record<string, unknown>;
}

/** Reads the store, the ledgers and the parked messages, and judges every invariant. */
export async function check(input: CheckInput): Promise<CheckResult> {
  const { pool } = input;
  const snapshot = await loadSnapshot(pool);
  const ops = operatorIndex(snapshot);
  const conformance = planConformance(snapshot, ops);
  const messages = await messagesAccountedFor(pool, input.injections, input.quiet);
  const timerResult = await timers(
    pool,
    input.profile.timerSweepMs,
    input.faults,
    input.orchestratorDeaths,
  );
  await firstProgress(pool, input.kills);
  const sagas = sagaFigures(snapshot, input.loadStartedAt, input.endedAt);
  const verdicts: Verdict[] = [
    termination(snapshot),
    nothingLost(snapshot, input.starts),
    noDuplicateEffects(snapshot),
    atomicOutcome(snapshot, ops),
    conformance.verdict,
    await compensationOrder(pool, snapshot),
    await terminalIsFinal(pool),
    await contiguousVersions(pool),
    ...timerResult.verdicts,
    messages.verdict,
    await auditMatchesRequests(
      pool,
      input.requests,
      input.faults
        .filter((f) => f.kind === 'pg-cut')
        .map((f) => ({ from: f.at, to: f.at + (f.durationMs ?? 0) })),
    ),
    await operatorActionsOnce(pool, snapshot.operatorLines),
    await outboxDrained(pool),
    progress(input, snapshot.instances, ops, sagas.sagasPerSecond),
  ];
  return {
    verdicts,
    figures: {
      sagas,
      expectedByPlan: expectedCounts(input.starts),
      participants: await participantFigures(pool),
      participantFaults: await participantFaults(pool),
      faults: faultFigures(input.faults, input.crashLives),
      kills: killFigures(input.kills),
      injections: messages.figures,
      timers: timerResult.figures,
      operatorRequests: requestFigures(input.requests),
      drainResolutions: {
        applied: input.resolver.applied,
        failedCauses: Object.fromEntries(input.resolver.causes),
      },
      nemesisActionsApplied: snapshot.operatorLines.filter((l) => l.reason.startsWith('[nemesis]'))
        .length,
      deviationsExplained: conformance.explained.length,
      settle: input.quiet,
    },
  };
}

/** 12. Progress: enough happy-path sagas completed, fast enough, or the run proves little. */
function progress(
  input: CheckInput,
  instances: Awaited<ReturnType<typeof loadSnapshot>>['instances'],
  ops: ReturnType<typeof operatorIndex>,
  perSecond: number,
): Verdict {
  const happy = [...instances.values()].filter(
    (i) => planOf(i.orderId).flags.size === 0 && (ops.get(i.id)?.nemesis.length ?? 0) === 0,
  );
  const completed = happy.filter((i) => i.status === 'completed').length;
  const share = happy.length === 0 ? 0 : completed / happy.length;
  const { happyCompletedShare, sagasPerSecond } = input.profile.floor;
  const detail = `${completed}/${happy.length} happy-path sagas completed (floor ${happyCompletedShare * 100} %), ${perSecond} sagas/s start to drained (floor ${sagasPerSecond})`;
  const name = 'progress: happy-path completions and throughput above the floor';
  if (share >= happyCompletedShare && perSecond >= sagasPerSecond)
    return verdict('12', name, true, detail);
  return inconclusive('12', name, detail);
}

function expectedCounts(starts: readonly StartRecord[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of starts) {
    const flags = [...s.plan.flags].sort().join('.') || 'ok';
    out[flags] = (out[flags] ?? 0) + 1;
  }
  return out;
}
