import { createServer } from 'node:net';
import { AppName, AppProcess, READY } from './processes';
import {
  createTestDatabase,
  deleteTopics,
  KAFKA_BROKERS,
  uniqueTopicPrefix,
} from './infrastructure';

/** A free TCP port on loopback (the OS picks it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

/**
 * The whole system as separate processes, on a fresh database and topic prefix:
 * orchestrator (which migrates), sample participants and admin API.
 */
export class ProcessStack {
  readonly apps = new Map<AppName, AppProcess>();

  private constructor(
    readonly env: Record<string, string>,
    readonly apiUrl: string,
    private readonly cleanup: () => Promise<void>,
  ) {}

  static async create(extraEnv: Record<string, string> = {}): Promise<ProcessStack> {
    const db = await createTestDatabase();
    const prefix = uniqueTopicPrefix();
    const apiPort = await freePort();
    const env = {
      DATABASE_URL: db.url,
      KAFKA_BROKERS: KAFKA_BROKERS.join(','),
      SAGAFLOW_TOPIC_PREFIX: prefix,
      SAGAFLOW_CONSUMER_SESSION_TIMEOUT_MS: '6000',
      ORCHESTRATOR_PORT: String(await freePort()),
      ADMIN_API_PORT: String(apiPort),
      ...extraEnv,
    };
    const stack = new ProcessStack(env, `http://127.0.0.1:${apiPort}`, async () => {
      await db.drop();
      await deleteTopics(prefix);
    });
    await stack.start('orchestrator');
    await Promise.all([stack.start('sample-participants'), stack.start('admin-api')]);
    return stack;
  }

  async start(name: AppName, env: Record<string, string> = {}): Promise<AppProcess> {
    const app = AppProcess.start(name, { ...this.env, ...env });
    this.apps.set(name, app);
    await app.waitFor(READY[name]);
    return app;
  }

  app(name: AppName): AppProcess {
    return this.apps.get(name)!;
  }

  async stop(): Promise<void> {
    await Promise.all([...this.apps.values()].map((a) => a.stop()));
    await this.cleanup();
  }
}
