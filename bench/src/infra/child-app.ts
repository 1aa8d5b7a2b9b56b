import { ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';

export const ROOT = join(__dirname, '..', '..', '..', '..');

/**
 * A compiled script (`dist/...`) running as a child process like the apps run in production:
 * `node -r tsconfig-paths/register`, output to a log file and kept in memory for ready lines.
 */
export class ChildApp {
  output = '';
  /** Standard output alone (`output` has both streams). */
  stdout = '';
  private readonly exited: Promise<number | null>;

  private constructor(
    readonly label: string,
    readonly child: ChildProcess,
  ) {
    this.exited = new Promise((resolve) => child.once('close', (code) => resolve(code)));
  }

  /** `script` is relative to dist/, e.g. `bench/src/apps/participant-main.js`. */
  static start(
    label: string,
    script: string,
    env: Record<string, string>,
    args: readonly string[] = [],
  ): ChildApp {
    const logDir = join(ROOT, '.sagaflow', 'bench');
    mkdirSync(logDir, { recursive: true });
    const child = spawn(
      process.execPath,
      ['-r', 'tsconfig-paths/register', join(ROOT, 'dist', script), ...args],
      {
        cwd: ROOT,
        env: {
          ...process.env,
          TS_NODE_BASEURL: join(ROOT, 'dist'),
          KAFKAJS_NO_PARTITIONER_WARNING: '1',
          ...env,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const app = new ChildApp(label, child);
    const log = createWriteStream(join(logDir, `${label}.log`));
    const keep = (d: Buffer) => {
      log.write(d);
      if (app.output.length < 1_000_000) app.output += d.toString();
    };
    child.stdout!.on('data', (d: Buffer) => {
      keep(d);
      if (app.stdout.length < 1_000_000) app.stdout += d.toString();
    });
    child.stderr!.on('data', keep);
    return app;
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Waits for a line matching `pattern`; fails early, with the output, if the process exits. */
  async waitFor(pattern: RegExp, timeoutMs = 90_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(this.output)) {
      if (this.child.exitCode !== null || this.child.signalCode !== null)
        throw new Error(`${this.label} exited before printing ${pattern}:\n${this.output}`);
      if (Date.now() > deadline)
        throw new Error(
          `${this.label} did not print ${pattern} within ${timeoutMs} ms:\n${this.output}`,
        );
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Resolves with the process's exit code. */
  wait(): Promise<number | null> {
    return this.exited;
  }

  /** SIGTERM (shutdown hooks run: a CPU profile is written then), SIGKILL after 15 s. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    await this.exited;
    clearTimeout(timer);
  }
}
