import { Death, ManagedProcess } from '../infra/managed-process';
import {
  canRestartRedis,
  deleteRunKeys,
  ensureRedisRunning,
  restartRedis,
} from '../infra/run-redis';
import { REDIS_URL, Topology } from '../infra/topology';
import { describe, log, sleep } from '../log';
import { Rng } from '../random';
import {
  allowConnections,
  canRestartPostgres,
  cutPostgres,
  ensurePostgresRunning,
  restartKafka,
  restartPostgres,
} from './dependency-faults';
import { OperatorChaos } from './operator-chaos';
import { RecoveryProbe } from './recovery-probe';
import { ReplyInjector } from './reply-injector';
import { INFRA_KINDS, NemesisEvent } from './schedule';

/** One fault the nemesis caused, for the report. */
export interface FaultRecord {
  readonly at: number;
  readonly kind: string;
  readonly detail: Record<string, unknown>;
  durationMs: number | null;
  ok: boolean;
  note: string | null;
}

/** A life started with a crash point set, and what became of it. */
export interface CrashPointLife {
  readonly process: string;
  readonly point: string;
  readonly after: number | null;
  readonly armedAt: number;
  /** `reached`, `not-reached` (killed after the wait), `interrupted` (died otherwise). */
  outcome: 'pending' | 'reached' | 'not-reached' | 'interrupted';
  at: number | null;
}

const CRASH_POINT_WAIT_MS = 60_000;
const QUIET_BEFORE_FLUSH_MS = 15_000;
const QUIET_AFTER_FLUSH_MS = 20_000;
/** How long a restarted Redis stays down: longer than a sweep period, so some timers fall due in it. */
const REDIS_DOWN_MS = 2000;

/**
 * Runs the fault schedule against the topology on two lanes, each one event after another:
 * processes and dependencies (kills, crash points, broker restarts, PostgreSQL cuts, Redis
 * flushes) on one, messages and operators (reply injections, operator bursts, admin API crash
 * points) on the other. Every orchestrator death, whatever its cause, is measured by the
 * recovery probe.
 */
export class Nemesis {
  readonly faults: FaultRecord[] = [];
  readonly crashLives: CrashPointLife[] = [];
  readonly deaths: Array<Death & { cause: string }> = [];
  private stopping = false;
  private readonly causes = new Map<string, string>();
  private readonly watchers = new Set<Promise<void>>();
  private readonly watching = new Map<string, Set<Promise<void>>>();
  private lastInfraEnd = 0;

  /** Set once a real server restart ran: the drain makes sure the server is up. */
  private restartedPostgres = false;
  private restartedRedis = false;

  constructor(
    private readonly topology: Topology,
    private readonly injector: ReplyInjector,
    private readonly operators: OperatorChaos,
    readonly probe: RecoveryProbe,
    private readonly rng: Rng,
  ) {
    for (const p of topology.all) p.onDeath = (death) => this.onDeath(p, death);
  }

  /** Runs every event at its time (ms after `start`) unless `stop()` was called. */
  async run(schedule: readonly NemesisEvent[], start: number): Promise<void> {
    const lane = async (events: NemesisEvent[]) => {
      for (const event of events) {
        if (this.stopping) return;
        await this.pause(start + event.at - Date.now());
        if (event.kind === 'redis-flush') await this.quietBefore();
        if (this.stopping) return;
        await this.execute(event);
        if (INFRA_KINDS.has(event.kind)) this.lastInfraEnd = Date.now();
        // Nothing else disturbs the orchestrators while the flush's timers come due, so their
        // lateness is the sweep's doing alone (checked by 8b).
        if (event.kind === 'redis-flush') await this.pause(QUIET_AFTER_FLUSH_MS);
      }
    };
    await Promise.all([
      lane(schedule.filter((e) => INFRA_KINDS.has(e.kind))),
      lane(schedule.filter((e) => !INFRA_KINDS.has(e.kind))),
    ]);
  }

  /** Waits until no crash-point life is pending and the last infrastructure fault is a while back. */
  private async quietBefore(): Promise<void> {
    const lastDeath = () =>
      Math.max(
        0,
        ...this.deaths.filter((d) => d.label.startsWith('orchestrator')).map((d) => d.at),
      );
    while (!this.stopping) {
      if (this.watchers.size > 0) await this.pause(500);
      else {
        const wait = Math.max(this.lastInfraEnd, lastDeath()) + QUIET_BEFORE_FLUSH_MS - Date.now();
        if (wait <= 0) return;
        await this.pause(wait);
      }
    }
  }

  /** A sleep that `stop()` cuts short. */
  private async pause(ms: number): Promise<void> {
    const until = Date.now() + ms;
    while (!this.stopping && Date.now() < until) await sleep(Math.min(250, until - Date.now()));
  }

  stop(): void {
    this.stopping = true;
  }

  /**
   * Back to a healthy system for the drain: the broker up, connections allowed, no crash point
   * armed, every process ready, unanswered operator calls repeated with their keys.
   */
  async restore(): Promise<void> {
    await Promise.all(this.watchers);
    await this.topology.broker.start();
    if (this.restartedPostgres) await ensurePostgresRunning();
    if (this.restartedRedis) await ensureRedisRunning(REDIS_URL);
    await allowConnections(this.topology.database.name);
    await this.topology.whenAllReady();
    const repeated = await this.operators.repeatUnanswered();
    if (repeated > 0)
      log(`nemesis: repeated ${repeated} unanswered operator calls with their keys`);
  }

  private async execute(event: NemesisEvent): Promise<void> {
    const { at: _at, kind, ...detail } = event;
    const fault: FaultRecord = {
      at: Date.now(),
      kind,
      detail,
      durationMs: null,
      ok: true,
      note: null,
    };
    this.faults.push(fault);
    try {
      fault.note = (await this.apply(event)) ?? null;
    } catch (error) {
      fault.ok = false;
      fault.note = describe(error);
      log(`nemesis: ${kind} failed: ${fault.note}`);
    }
    fault.durationMs = Date.now() - fault.at;
  }

  private async apply(event: NemesisEvent): Promise<string | void> {
    const orchestrators = this.topology.orchestrators;
    switch (event.kind) {
      case 'kill-orchestrator': {
        // Spare a process living with a crash point if the other one is not: that life must
        // get its chance to reach the point.
        const target =
          [event.target, 1 - event.target]
            .map((i) => orchestrators[i]!)
            .find((o) => (this.watching.get(o.label)?.size ?? 0) === 0) ??
          orchestrators[event.target]!;
        target.delayNextRestart(event.restartAfterMs);
        await this.kill(target, 'random');
        return;
      }
      case 'kill-both-orchestrators':
        // No crash-point life cut short, both up, then both killed at the same instant: no
        // orchestrator at all for a while.
        await Promise.race([Promise.all([...this.watchers]), this.pause(CRASH_POINT_WAIT_MS)]);
        await Promise.all(orchestrators.map((o) => o.whenReady(60_000).catch(() => undefined)));
        for (const o of orchestrators) o.delayNextRestart(event.restartAfterMs);
        await Promise.all(orchestrators.map((o) => this.kill(o, 'double')));
        return;
      case 'crash-point': {
        // One crash-point life at a time per process: the other one if this one is armed.
        const free = [event.target, 1 - event.target]
          .map((i) => orchestrators[i]!)
          .find((o) => (this.watching.get(o.label)?.size ?? 0) === 0);
        if (!free) return 'skipped: both orchestrators are living with a crash point';
        return this.armCrashPoint(free, event.point, event.after);
      }
      case 'admin-crash-point':
        return this.adminCrashPoint(event.point);
      case 'kafka-restart':
        return restartKafka(this.topology.broker, event.mode, event.downMs);
      case 'pg-cut':
        if (event.mode === 'cut' || !(await canRestartPostgres()))
          return cutPostgres(this.topology.database.name, event.ms);
        this.restartedPostgres = true;
        return restartPostgres(event.ms);
      case 'redis-flush': {
        const refused = event.mode === 'restart' ? await canRestartRedis(REDIS_URL) : 'flush';
        if (refused === null) {
          this.restartedRedis = true;
          return restartRedis(REDIS_URL, REDIS_DOWN_MS);
        }
        if (refused !== 'flush')
          log(`nemesis: cannot restart Redis here (${refused}); deleting the run's keys instead`);
        return `deleted ${await deleteRunKeys(REDIS_URL, this.topology.prefix)} keys`;
      }
      case 'kill-participant':
        await this.kill(this.topology.participants.get(event.service)!, 'random');
        return;
      case 'inject': {
        const injection = await this.injector.inject(event.injection);
        return injection.sent ? injection.id : (injection.note ?? 'not sent');
      }
      case 'operator-burst':
        await this.operators.burst(this.rng.int(3, 6));
        return;
    }
  }

  /**
   * SIGKILLs the process once it is up (a process still starting would make the kill a
   * no-op, and an armed crash-point life would be overwritten).
   */
  private async kill(target: ManagedProcess, cause: string): Promise<void> {
    await target.whenReady(60_000).catch(() => undefined);
    if (!target.isRunning) return;
    this.causes.set(target.label, cause);
    log(`nemesis: SIGKILL ${target.label} (${cause})`);
    await target.kill();
  }

  /**
   * Kills the orchestrator and starts its next life with the crash point set; a watcher kills
   * that life if it has not reached the point in time (its next life is a normal one).
   */
  private async armCrashPoint(
    target: ManagedProcess,
    point: string,
    after: number | null,
  ): Promise<void> {
    const life: CrashPointLife = {
      process: target.label,
      point,
      after,
      armedAt: Date.now(),
      outcome: 'pending',
      at: null,
    };
    this.crashLives.push(life);
    // Up first: a life starting now would take the crash point, and the kill would end it.
    await target.whenReady(60_000).catch(() => undefined);
    target.armNextLife({
      SAGAFLOW_CRASH_POINT: point,
      ...(after ? { SAGAFLOW_CRASH_AFTER: String(after) } : {}),
    });
    target.delayNextRestart(500);
    await this.kill(target, 'arming');
    const armedLife = target.lives + 1;
    const watcher = (async () => {
      const deadline = Date.now() + CRASH_POINT_WAIT_MS;
      while (Date.now() < deadline && life.outcome === 'pending') {
        const death = endOfArmedLife(target, armedLife, point);
        if (death) {
          life.outcome = death.crashPoint === point ? 'reached' : 'interrupted';
          life.at = death.at;
          return;
        }
        await sleep(200);
      }
      if (life.outcome !== 'pending') return;
      life.outcome = 'not-reached';
      if (target.deaths.every((d) => d.life < target.lives))
        await this.kill(target, 'crash-point-not-reached');
    })();
    this.watchers.add(watcher);
    const mine = this.watching.get(target.label) ?? new Set<Promise<void>>();
    mine.add(watcher);
    this.watching.set(target.label, mine);
    void watcher.finally(() => {
      this.watchers.delete(watcher);
      mine.delete(watcher);
    });
    log(`nemesis: ${target.label} restarts with crash point ${point} (pass ${after ?? 1})`);
  }

  /** An admin API life with an operator crash point, then operator calls until it dies. */
  private async adminCrashPoint(point: string): Promise<string> {
    const api = this.topology.adminApi;
    const life: CrashPointLife = {
      process: api.label,
      point,
      after: null,
      armedAt: Date.now(),
      outcome: 'pending',
      at: null,
    };
    this.crashLives.push(life);
    await api.whenReady(60_000).catch(() => undefined);
    api.armNextLife({ SAGAFLOW_CRASH_POINT: point });
    await this.kill(api, 'arming');
    const armedLife = api.lives + 1;
    await api.whenReady();
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && !endOfArmedLife(api, armedLife, point)) {
      await this.operators.burst(3);
      await sleep(500);
    }
    const death = endOfArmedLife(api, armedLife, point);
    life.outcome = death ? (death.crashPoint === point ? 'reached' : 'interrupted') : 'not-reached';
    life.at = death?.at ?? null;
    if (!death) await this.kill(api, 'crash-point-not-reached');
    await api.whenReady();
    const repeated = await this.operators.repeatUnanswered();
    return `${life.outcome}; ${repeated} unanswered calls repeated with their keys`;
  }

  private onDeath(process: ManagedProcess, death: Death): void {
    const cause =
      this.causes.get(process.label) ??
      (death.crashPoint
        ? `crash-point:${death.crashPoint}`
        : !death.wasReady
          ? 'failed-to-start'
          : death.signal === 'SIGKILL'
            ? 'self-kill'
            : 'exit');
    this.causes.delete(process.label);
    this.deaths.push({ ...death, cause });
    // A life that never got ready did no work: its death is not a kill to recover from.
    if (!process.label.startsWith('orchestrator') || (!death.wasReady && !death.crashPoint)) return;
    const survivors = this.topology.orchestrators.filter((o) => o.isRunning).length;
    this.probe.record(
      { at: death.at, label: process.label, cause, survivors },
      process.whenReady(300_000),
    );
  }
}

/**
 * How the life armed with `point` ended, if it did: at the point, or otherwise. A life that
 * died before it was ready passed the point on to the next one (ManagedProcess), so the
 * search goes on there.
 */
function endOfArmedLife(
  process: ManagedProcess,
  armedLife: number,
  point: string,
): Death | undefined {
  for (let life = armedLife; ; life++) {
    const death = process.deaths.find((d) => d.life === life);
    if (!death) return undefined;
    const carriedOn =
      !death.wasReady && !death.byHarness && !death.crashPoint && death.armedCrashPoint === point;
    if (!carriedOn) return death;
  }
}
