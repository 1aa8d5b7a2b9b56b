import { execFile } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

/** A Kafka broker of a test's own (ports and data dir), so restarting it disturbs nobody. */
export interface Broker {
  readonly port: number;
  readonly controllerPort: number;
  readonly dir: string;
}

/**
 * `scripts/kafka.sh start|stop` for a test's own broker: its own ports and data dir, and
 * KAFKA_BROKERS removed from the environment (with it set, kafka.sh starts and stops nothing).
 */
export function kafkaSh(command: 'start' | 'stop', broker: Broker): Promise<string> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    KAFKA_PORT: String(broker.port),
    KAFKA_CONTROLLER_PORT: String(broker.controllerPort),
    KAFKA_DATA_DIR: broker.dir,
    KAFKA_WAIT_SECONDS: '60',
  };
  delete env.KAFKA_BROKERS;
  return new Promise((resolve, reject) => {
    execFile(
      'bash',
      [join(ROOT, 'scripts', 'kafka.sh'), command],
      { env, cwd: ROOT, timeout: 90_000 },
      (error, stdout, stderr) =>
        error
          ? reject(new Error(`kafka.sh ${command} failed: ${error.message}\n${stdout}${stderr}`))
          : resolve(stdout),
    );
  });
}
