import { Kafka, logLevel } from 'kafkajs';
import { Pool } from 'pg';
import { check, CheckResult } from './check/checker';
import { sabotage } from './check/sabotage';
import { Quiescence, runGroups, settle } from './check/settle';
import { AdminClient } from './driver/admin-client';
import { Driver } from './driver/driver';
import { Resolver } from './driver/resolver';
import { resilientPool } from './infra/chaos-database';
import { Topology } from './infra/topology';
import { describe, log, sleep } from './log';
import { Nemesis } from './nemesis/nemesis';
import { OperatorChaos } from './nemesis/operator-chaos';
import { RecoveryProbe } from './nemesis/recovery-probe';
import { ReplyInjector } from './nemesis/reply-injector';
import { drawSchedule, NemesisEvent } from './nemesis/schedule';
import { Profile } from './profiles';
import { Rng } from './random';

/** Faults still due this long after the last start run; the rest are dropped. */
const NEMESIS_GRACE_MS = 20_000;

/**
 * One run on a topology: the load with the nemesis, the drain, the tail, the checks. Every
 * random choice comes from the seed, through one forked stream per part, so adding draws to
 * one part does not change the others.
 */
export class ChaosRun {
  readonly pool: Pool;
  readonly kafka: Kafka;
  readonly client: AdminClient;
  readonly resolver: Resolver;
  readonly driver: Driver;
  readonly injector: ReplyInjector;
  readonly probe: RecoveryProbe;
  readonly nemesis: Nemesis;
  readonly schedule: NemesisEvent[];
  loadStartedAt = 0;
  endedAt = 0;
  drain: { drainedInMs: number | null; stuck: string[] } = { drainedInMs: null, stuck: [] };
  quiet: Quiescence | null = null;
  /** With `--sabotage`: the invariants broken in the store before the checks. */
  broken: string[] = [];

  constructor(
    readonly topology: Topology,
    readonly profile: Profile,
    seed: number,
  ) {
    const rng = new Rng(seed);
    this.pool = resilientPool(topology.database.url);
    // Quiet: the harness's own client sees every broker restart it causes.
    this.kafka = new Kafka({
      clientId: 'sagaflow-chaos',
      brokers: [topology.broker.address],
      logLevel: logLevel.NOTHING,
      retry: { initialRetryTime: 200, retries: 5 },
    });
    const replyTopic = `${topology.prefix}sagaflow.replies`;
    this.client = new AdminClient(topology.apiUrl, topology.keys);
    this.resolver = new Resolver(this.client, this.pool);
    const runId = topology.options.runId;
    this.driver = new Driver(
      this.client,
      this.pool,
      profile,
      rng.fork('plans'),
      runId,
      this.resolver,
    );
    this.injector = new ReplyInjector(this.kafka, this.pool, replyTopic, rng.fork('injections'));
    const operators = new OperatorChaos(this.client, this.pool, rng.fork('operators'));
    this.probe = new RecoveryProbe(
      this.kafka,
      replyTopic,
      `${topology.prefix}sagaflow-orchestrator`,
    );
    this.nemesis = new Nemesis(topology, this.injector, operators, this.probe, rng.fork('nemesis'));
    const loadMs = (profile.sagas / profile.startsPerSecond) * 1000;
    this.schedule = drawSchedule(rng.fork('schedule'), profile.nemesis, loadMs);
  }

  /** The sagas started at the profile's rate while the nemesis runs its schedule. */
  async load(): Promise<void> {
    log(`nemesis: ${this.schedule.length} events scheduled over the load`);
    // The on-call operator resolves failed sagas during the load too, as they come.
    let loading = true;
    const resolving = (async () => {
      while (loading) {
        await this.resolver.tick().catch((e: unknown) => log(`resolver: ${describe(e)}`));
        await sleep(5000);
      }
    })();
    this.loadStartedAt = Date.now();
    const faulting = this.nemesis.run(this.schedule, this.loadStartedAt);
    await this.driver.load();
    // Faults after the last start would mostly hit an idle system (and stretch the run).
    await Promise.race([faulting, sleep(NEMESIS_GRACE_MS)]);
    this.nemesis.stop();
    await faulting;
    loading = false;
    await resolving;
  }

  /** Everything back up, every saga to an end, then the tail of the work. */
  async drainAndSettle(): Promise<void> {
    log('load done; restoring every process and dependency for the drain');
    await this.nemesis.restore();
    this.drain = await this.driver.drain(this.profile.drainTimeoutMs);
    log(
      this.drain.drainedInMs !== null
        ? `drained in ${(this.drain.drainedInMs / 1000).toFixed(0)} s`
        : `drain timed out: ${this.drain.stuck.length} sagas open`,
    );
    this.quiet = await settle(this.pool, this.kafka, runGroups(this.topology.prefix));
    this.endedAt = Date.now();
    await this.probe.close();
    await this.injector.close();
  }

  async judge(withSabotage: boolean): Promise<CheckResult> {
    if (withSabotage) {
      this.broken = await sabotage(this.pool);
      log(`sabotage: broke invariants ${this.broken.join(', ')} in the store`);
    }
    const result = await check({
      pool: this.pool,
      kafka: this.kafka,
      profile: this.profile,
      starts: this.driver.starts,
      requests: this.client.requests,
      injections: this.injector.injections,
      faults: this.nemesis.faults,
      crashLives: this.nemesis.crashLives,
      kills: this.probe.kills,
      orchestratorDeaths: this.nemesis.deaths
        .filter((d) => d.label.startsWith('orchestrator'))
        .map((d) => d.at),
      resolver: this.resolver,
      quiet: this.quiet!,
      loadStartedAt: this.loadStartedAt,
      endedAt: this.endedAt,
    });
    result.figures.nemesisEvents = {
      scheduled: this.schedule.length,
      executed: this.nemesis.faults.length,
    };
    await this.pool.end().catch(() => undefined);
    return result;
  }

  /** Everything the report keeps besides the verdicts and figures. */
  record(): Record<string, unknown> {
    return {
      loadMs: this.driver.loadEndedAt - this.driver.loadStartedAt,
      drain: this.drain,
      database: this.topology.database.name,
      schedule: this.schedule,
      faults: this.nemesis.faults,
      crashLives: this.nemesis.crashLives,
      kills: this.probe.kills,
      deaths: this.nemesis.deaths,
      injections: this.injector.injections,
    };
  }
}
