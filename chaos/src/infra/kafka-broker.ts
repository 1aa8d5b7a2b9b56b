import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sleep } from '../log';

/**
 * The run's own Kafka broker: `scripts/kafka.sh` with ports and a data dir of its own, so
 * stopping it disturbs nobody (the shared broker on 19092 is never touched). KAFKA_BROKERS is
 * removed from kafka.sh's environment: with it set, kafka.sh starts and stops nothing.
 */
export class KafkaBroker {
  constructor(
    private readonly root: string,
    readonly port: number,
    readonly controllerPort: number,
    readonly dataDir: string,
  ) {}

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  start(): Promise<string> {
    return this.script('start');
  }

  /** Controlled shutdown (SIGTERM; kafka.sh sends SIGKILL after 30 s). */
  stop(): Promise<string> {
    return this.script('stop');
  }

  /** SIGKILL of the broker JVM (this run's own, from its pid file): a hard bounce. */
  async hardKill(): Promise<void> {
    const pid = Number(readFileSync(join(this.dataDir, 'kafka.pid'), 'utf8').trim());
    if (!Number.isInteger(pid) || pid <= 1) throw new Error(`no broker pid in ${this.dataDir}`);
    process.kill(pid, 'SIGKILL');
    while (alive(pid)) await sleep(50);
  }

  private script(command: 'start' | 'stop'): Promise<string> {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      KAFKA_PORT: String(this.port),
      KAFKA_CONTROLLER_PORT: String(this.controllerPort),
      KAFKA_DATA_DIR: this.dataDir,
      KAFKA_WAIT_SECONDS: '90',
    };
    delete env.KAFKA_BROKERS;
    return new Promise((resolve, reject) => {
      execFile(
        'bash',
        [join(this.root, 'scripts', 'kafka.sh'), command],
        { env, cwd: this.root, timeout: 180_000 },
        (error, stdout, stderr) =>
          error
            ? reject(new Error(`kafka.sh ${command} failed: ${error.message}\n${stdout}${stderr}`))
            : resolve(stdout),
      );
    });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
