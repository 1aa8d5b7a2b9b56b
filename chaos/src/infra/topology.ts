import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createDataSource, withTransaction } from '@sagaflow/persistence';
import { ApiKeyRepository } from '../../../apps/admin-api/src/auth/api-key.repository';
import { Role } from '../../../apps/admin-api/src/auth/principal';
import { createTestDatabase, freePort } from '../../../test/support/infrastructure';
import { ChaosService, SERVICES } from '../plan';
import { Profile } from '../profiles';
import { log } from '../log';
import { installChaosSchema } from './chaos-database';
import { KafkaBroker } from './kafka-broker';
import { ManagedProcess, ProcessSpec } from './managed-process';
import { deleteRunKeys } from './run-redis';

export interface TopologyOptions {
  readonly root: string;
  readonly runId: string;
  readonly seed: number;
  readonly profile: Profile;
  /** Where process logs go. */
  readonly logDir: string;
  /** Scratch space: the broker's data dir lives here. */
  readonly workDir: string;
}

/** The run's API keys, each a principal of its own. */
export interface RunKeys {
  /** Starts sagas and resolves failed ones at the end, as the on-call operator would. */
  readonly driver: string;
  /** Fires the nemesis' operator actions. */
  readonly nemesis: string;
  /** A second operator: the same Idempotency-Key from another principal is another request. */
  readonly nemesis2: string;
  /** May read but not act: its actions are denied (and audited). */
  readonly viewer: string;
}

export const ORCHESTRATORS = ['orchestrator-1', 'orchestrator-2'] as const;
export const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';

/**
 * Everything one run needs, its own: a fresh database, a topic prefix, a Kafka broker on free
 * ports with its own data dir, two orchestrators, the admin API and one process per simulated
 * participant, all supervised (restarted whenever they die).
 */
export class Topology {
  readonly orchestrators: ManagedProcess[] = [];
  readonly participants = new Map<ChaosService, ManagedProcess>();
  adminApi!: ManagedProcess;
  keys!: RunKeys;
  apiUrl = '';

  private constructor(
    readonly options: TopologyOptions,
    readonly broker: KafkaBroker,
    readonly database: { url: string; name: string; drop: () => Promise<void> },
    readonly prefix: string,
  ) {}

  static async start(options: TopologyOptions): Promise<Topology> {
    const brokerDir = join(options.workDir, 'kafka');
    mkdirSync(brokerDir, { recursive: true });
    const broker = new KafkaBroker(options.root, await freePort(), await freePort(), brokerDir);
    log(`starting the run's Kafka broker on ${broker.address} (data in ${brokerDir})`);
    await broker.start();
    const database = await createTestDatabase('sagaflow_chaos');
    log(`database ${database.name}`);
    const topology = new Topology(options, broker, database, `chaos_${options.runId}.`);
    try {
      await topology.startProcesses();
    } catch (error) {
      await topology.stop({ keep: true }).catch(() => undefined);
      throw error;
    }
    return topology;
  }

  get all(): ManagedProcess[] {
    return [...this.orchestrators, this.adminApi, ...this.participants.values()].filter(Boolean);
  }

  /** The environment every Sagaflow process of the run shares. */
  get env(): Record<string, string> {
    const p = this.options.profile;
    return {
      DATABASE_URL: this.database.url,
      REDIS_URL,
      KAFKA_BROKERS: this.broker.address,
      SAGAFLOW_TOPIC_PREFIX: this.prefix,
      SAGAFLOW_CONSUMER_SESSION_TIMEOUT_MS: String(p.sessionTimeoutMs),
      SAGAFLOW_TIMER_POLL_MS: String(p.timerSweepMs),
    };
  }

  /** Waits until every process is up and ready again (after the nemesis stopped). */
  async whenAllReady(timeoutMs = 180_000): Promise<void> {
    await Promise.all(this.all.map((p) => p.whenReady(timeoutMs)));
  }

  async stop({ keep }: { keep: boolean }): Promise<void> {
    await Promise.allSettled(this.all.map((p) => p.stop()));
    await this.broker.stop().catch((e: unknown) => log(`broker stop: ${String(e)}`));
    await deleteRunKeys(REDIS_URL, this.prefix).catch(() => undefined);
    if (keep) {
      log(`kept database ${this.database.name} and broker data ${this.broker.dataDir}`);
      return;
    }
    await this.database.drop().catch((e: unknown) => log(`database drop: ${String(e)}`));
    rmSync(this.options.workDir, { recursive: true, force: true });
  }

  private async startProcesses(): Promise<void> {
    const first = await this.orchestrator(ORCHESTRATORS[0]);
    // The first orchestrator migrates the store and creates the topics; the rest need both.
    await first.start();
    await installChaosSchema(this.database.url);
    this.keys = {
      driver: await this.createKey('chaos-driver', 'operator'),
      nemesis: await this.createKey('chaos-nemesis', 'operator'),
      nemesis2: await this.createKey('chaos-nemesis-2', 'operator'),
      viewer: await this.createKey('chaos-viewer', 'viewer'),
    };
    const second = await this.orchestrator(ORCHESTRATORS[1]);
    const apiPort = await freePort();
    this.apiUrl = `http://127.0.0.1:${apiPort}`;
    this.adminApi = this.process({
      label: 'admin-api',
      script: 'dist/apps/admin-api/src/main.js',
      env: {
        ...this.env,
        ADMIN_API_PORT: String(apiPort),
        // The driver alone starts several sagas a second; the limits are not under test here.
        SAGAFLOW_RATE_LIMIT_WRITES_PER_MINUTE: '1000000',
        SAGAFLOW_RATE_LIMIT_READS_PER_MINUTE: '1000000',
      },
      ready: /admin API listening/,
      restartDelayMs: 1000,
    });
    for (const service of SERVICES) {
      this.participants.set(
        service,
        this.process({
          label: `participant-${service}`,
          script: 'dist/chaos/src/participant/main.js',
          env: {
            ...this.env,
            CHAOS_SERVICE: service,
            CHAOS_SEED: String(this.options.seed),
            CHAOS_PARTICIPANT_FAULTS: JSON.stringify(this.options.profile.participants),
          },
          ready: /chaos participant ready/,
          restartDelayMs: 1000,
        }),
      );
    }
    await Promise.all([
      second.start(),
      this.adminApi.start(),
      ...[...this.participants.values()].map((p) => p.start()),
    ]);
    log(
      `topology up: 2 orchestrators, admin API on ${this.apiUrl}, ${SERVICES.length} participants`,
    );
  }

  private async orchestrator(label: string): Promise<ManagedProcess> {
    const process = this.process({
      label,
      script: 'dist/apps/orchestrator/src/main.js',
      env: { ...this.env, ORCHESTRATOR_PORT: String(await freePort()) },
      ready: /orchestrator listening/,
      restartDelayMs: 1000,
    });
    this.orchestrators.push(process);
    return process;
  }

  private process(spec: ProcessSpec): ManagedProcess {
    return new ManagedProcess(spec, this.options.root, this.options.logDir);
  }

  private async createKey(name: string, role: Role): Promise<string> {
    const dataSource = createDataSource({
      url: this.database.url,
      poolSize: 1,
      applicationName: 'sagaflow-chaos-keys',
    });
    await dataSource.initialize();
    try {
      return await withTransaction(dataSource, async (sql) => {
        const created = await new ApiKeyRepository().create(sql, {
          name,
          role,
          createdBy: 'chaos',
        });
        return created.key;
      });
    } finally {
      await dataSource.destroy();
    }
  }
}
