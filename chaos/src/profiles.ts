import { PlanRates } from './plan';

/** How often the simulated participants misbehave (per command, decided by a seeded hash). */
export interface ParticipantFaultRates {
  /** First attempts answered with a retryable failure. */
  readonly transient: number;
  /** Commands handled after a pause of up to `slowMaxMs`. */
  readonly slow: number;
  readonly slowMaxMs: number;
  /** Replies held back past the step's timeout (`lateReplyMs`): the step times out and is retried. */
  readonly lateReply: number;
  readonly lateReplyMs: number;
  /** Replies sent twice. */
  readonly duplicateReply: number;
  /** Commands after which the process kills itself, applied but not answered. */
  readonly crashAfterApply: number;
  /** At most this many such crashes in a run (all participants together). */
  readonly crashBudget: number;
}

/** Kinds of message the nemesis puts on the reply topic, and what must become of each. */
export const INJECTION_KINDS = [
  'duplicate', // a copy of an applied reply, same message id: dropped as a duplicate
  'late', // a new reply for a saga that has ended: ignored (late)
  'stale', // a reply for an attempt never sent: parked (unmatched-reply), or ignored (stale) if the saga moved on
  'forged', // an inReplyTo that names no command sent: parked (unmatched-reply)
  'not-json', // parked (malformed)
  'wrong-protocol', // parked (malformed)
  'bad-saga-id', // parked (malformed)
  'nul-char', // parked (malformed)
  'missing-field', // parked (malformed)
  'unknown-saga', // parked (unknown-saga)
  'unknown-step', // parked (unknown-step)
  'invalid-data', // parked (invalid-reply), or ignored if the saga moved on; never applied
] as const;
export type InjectionKind = (typeof INJECTION_KINDS)[number];

export interface NemesisPlan {
  /** SIGKILLs of one orchestrator at a random time. */
  readonly randomKills: number;
  /** Both orchestrators SIGKILLed at once (no orchestrator for a few seconds). */
  readonly doubleKills: number;
  /** Lives started with each orchestrator crash point set. */
  readonly crashPointsEach: number;
  /** Lives of the admin API started with each operator crash point set. */
  readonly adminCrashPointsEach: number;
  readonly kafkaCleanRestarts: number;
  readonly kafkaHardKills: number;
  readonly pgCuts: number;
  readonly pgCutMs: number;
  /**
   * How a PostgreSQL outage is made: `cut` refuses and terminates the connections to the run's
   * database only (safe on a server others use); `restart` stops the whole server (fast
   * shutdown) and starts it again after `pgCutMs` — only where nobody else uses it (`--pg-restart`).
   */
  readonly pgOutage: 'cut' | 'restart';
  readonly redisFlushes: number;
  /**
   * How Redis is lost: `flush` deletes the run's BullMQ keys only (safe on a server others use);
   * `restart` shuts the whole server down without saving, keeps it down a moment and starts it
   * again with the same settings — every key and connection gone (`--redis-restart`).
   */
  readonly redisOutage: 'flush' | 'restart';
  /** SIGKILLs of a participant process from outside (besides their own crashes). */
  readonly participantKills: number;
  readonly operatorBursts: number;
  readonly injections: Readonly<Record<InjectionKind, number>>;
}

export interface Profile {
  readonly name: 'smoke' | 'long';
  readonly sagas: number;
  readonly startsPerSecond: number;
  /** Share of starts sent a second time with the same idempotency key. */
  readonly duplicateStarts: number;
  readonly plan: PlanRates;
  readonly participants: ParticipantFaultRates;
  readonly nemesis: NemesisPlan;
  /** How long the drain may take before the run is declared stuck. */
  readonly drainTimeoutMs: number;
  readonly sessionTimeoutMs: number;
  readonly timerSweepMs: number;
  /** Below these the verdict is inconclusive, not a pass (RELIABILITY.md invariant 12). */
  readonly floor: { readonly happyCompletedShare: number; readonly sagasPerSecond: number };
}

const injections = (n: number): Record<InjectionKind, number> =>
  Object.fromEntries(INJECTION_KINDS.map((k) => [k, n])) as Record<InjectionKind, number>;

const PLAN: PlanRates = {
  rejectCredit: 0.03,
  rejectInventory: 0.05,
  declinePayment: 0.08,
  rejectConfirm: 0.03,
  permanentCompensationFailure: 0.15,
};

/** For CI: a few hundred sagas, a handful of each fault, about 5 to 10 minutes. */
export const SMOKE: Profile = {
  name: 'smoke',
  sagas: 300,
  startsPerSecond: 1.5,
  duplicateStarts: 0.02,
  plan: PLAN,
  participants: {
    transient: 0.05,
    slow: 0.1,
    slowMaxMs: 400,
    lateReply: 0.004,
    lateReplyMs: 35_000,
    duplicateReply: 0.03,
    crashAfterApply: 0.01,
    crashBudget: 4,
  },
  nemesis: {
    randomKills: 2,
    doubleKills: 1,
    crashPointsEach: 1,
    adminCrashPointsEach: 1,
    kafkaCleanRestarts: 1,
    kafkaHardKills: 0,
    pgCuts: 1,
    pgCutMs: 4000,
    pgOutage: 'cut',
    redisFlushes: 2,
    redisOutage: 'flush',
    participantKills: 1,
    operatorBursts: 4,
    injections: injections(3),
  },
  drainTimeoutMs: 8 * 60_000,
  sessionTimeoutMs: 6000,
  timerSweepMs: 1000,
  floor: { happyCompletedShare: 0.5, sagasPerSecond: 0.5 },
};

/** On demand: 20 thousand sagas, 60 orchestrator kills, every dependency restarted. */
export const LONG: Profile = {
  ...SMOKE,
  name: 'long',
  sagas: 20_000,
  startsPerSecond: 6,
  participants: { ...SMOKE.participants, crashBudget: 40 },
  nemesis: {
    randomKills: 36,
    doubleKills: 8,
    crashPointsEach: 4,
    adminCrashPointsEach: 3,
    kafkaCleanRestarts: 3,
    kafkaHardKills: 2,
    pgCuts: 5,
    pgCutMs: 5000,
    pgOutage: 'cut',
    redisFlushes: 8,
    redisOutage: 'flush',
    participantKills: 8,
    operatorBursts: 40,
    injections: injections(30),
  },
  drainTimeoutMs: 20 * 60_000,
  floor: { happyCompletedShare: 0.5, sagasPerSecond: 2 },
};

export const PROFILES = { smoke: SMOKE, long: LONG } as const;

/**
 * The profile scaled by `scale` (sagas and every fault count; the rate is kept), for a reduced
 * long run: `--profile long --scale 0.1` is 2000 sagas and 6 kills.
 */
export function scaled(profile: Profile, scale: number): Profile {
  if (scale === 1) return profile;
  const s = (n: number) => (n === 0 || scale === 0 ? 0 : Math.max(1, Math.round(n * scale)));
  const n = profile.nemesis;
  return {
    ...profile,
    sagas: s(profile.sagas),
    participants: { ...profile.participants, crashBudget: s(profile.participants.crashBudget) },
    nemesis: {
      ...n,
      randomKills: s(n.randomKills),
      doubleKills: s(n.doubleKills),
      crashPointsEach: s(n.crashPointsEach),
      adminCrashPointsEach: s(n.adminCrashPointsEach),
      kafkaCleanRestarts: s(n.kafkaCleanRestarts),
      kafkaHardKills: s(n.kafkaHardKills),
      pgCuts: s(n.pgCuts),
      redisFlushes: s(n.redisFlushes),
      participantKills: s(n.participantKills),
      operatorBursts: s(n.operatorBursts),
      injections: Object.fromEntries(
        Object.entries(n.injections).map(([k, v]) => [k, s(v)]),
      ) as Record<InjectionKind, number>,
    },
  };
}
