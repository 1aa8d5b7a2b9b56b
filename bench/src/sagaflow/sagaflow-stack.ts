import { join } from 'node:path';
import { ChildApp, ROOT } from '../infra/child-app';
import { recreateDatabase, dropDatabase } from '../infra/database';
import { freePort } from '../../../test/support/infrastructure';
import { deleteTopics } from '../infra/kafka-topics';

export interface StackSettings {
  readonly server: string;
  readonly database: string;
  readonly kafkaBrokers: string;
  readonly redisUrl: string;
  readonly stepTimeout: string;
  readonly orchestrators: number;
  /** Where the first orchestrator writes its CPU profile when told (SIGUSR2), if profiling. */
  readonly profileFile: string | null;
}

/**
 * The real stack as separate processes on a fresh database and topic prefix: the orchestrator(s)
 * (production module, bench definition; they migrate) and the bench participant.
 */
export class SagaflowStack {
  private constructor(
    readonly env: Record<string, string>,
    readonly orchestrators: readonly ChildApp[],
    readonly participant: ChildApp,
    private readonly settings: StackSettings,
  ) {}

  static async start(settings: StackSettings): Promise<SagaflowStack> {
    await recreateDatabase(settings.server, settings.database);
    const env = {
      DATABASE_URL: `${settings.server}/${settings.database}`,
      KAFKA_BROKERS: settings.kafkaBrokers,
      REDIS_URL: settings.redisUrl,
      SAGAFLOW_TOPIC_PREFIX: `bench-${Date.now().toString(36)}.`,
      BENCH_STEP_TIMEOUT: settings.stepTimeout,
    };
    const orchestrators: ChildApp[] = [];
    for (let i = 0; i < settings.orchestrators; i++) {
      const profile: Record<string, string> =
        i === 0 && settings.profileFile ? { BENCH_CPU_PROFILE: settings.profileFile } : {};
      const app = ChildApp.start(`orchestrator-${i + 1}`, 'bench/src/apps/orchestrator-main.js', {
        ...env,
        ...profile,
        ORCHESTRATOR_PORT: String(await freePort()),
      });
      orchestrators.push(app);
      // The first migrates the fresh database; the others would only wait on its lock.
      await app.waitFor(/orchestrator listening/);
    }
    const participant = ChildApp.start('participant', 'bench/src/apps/participant-main.js', env);
    await participant.waitFor(/bench participant ready/);
    return new SagaflowStack(env, orchestrators, participant, settings);
  }

  /** Every process, for the resource meter. */
  processes(): Array<{ label: string; pid: number }> {
    return [...this.orchestrators, this.participant].map((a) => ({ label: a.label, pid: a.pid }));
  }

  async stop(options: { keepDatabase: boolean }): Promise<void> {
    await Promise.all([...this.orchestrators, this.participant].map((a) => a.stop()));
    await deleteTopics(this.settings.kafkaBrokers.split(','), this.env.SAGAFLOW_TOPIC_PREFIX!);
    if (!options.keepDatabase) await dropDatabase(this.settings.server, this.settings.database);
  }
}

export const LOG_DIR = join(ROOT, '.sagaflow', 'bench');
