import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

export type AppName = 'orchestrator' | 'admin-api' | 'sample-participants';

/** A compiled app (`npm run build` first) running as a child process, with its output kept. */
export class AppProcess {
  output = '';
  private exited: Promise<number | null>;

  private constructor(
    readonly name: AppName,
    readonly child: ChildProcess,
  ) {
    child.stdout!.on('data', (d: Buffer) => (this.output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (this.output += d.toString()));
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  static start(name: AppName, env: Record<string, string>): AppProcess {
    const child = spawn(
      process.execPath,
      ['-r', 'tsconfig-paths/register', join(ROOT, 'dist', 'apps', name, 'src', 'main.js')],
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
    return new AppProcess(name, child);
  }

  /** Waits for a line of output matching `pattern`; fails early if the process exits. */
  async waitFor(pattern: RegExp, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(this.output)) {
      if (this.child.exitCode !== null || this.child.signalCode !== null) {
        throw new Error(
          `${this.name} exited (${this.child.exitCode ?? this.child.signalCode}) before printing ${pattern}:\n${this.output}`,
        );
      }
      if (Date.now() > deadline)
        throw new Error(
          `${this.name} did not print ${pattern} within ${timeoutMs} ms:\n${this.output}`,
        );
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** SIGKILL: no shutdown hooks, no flushing, exactly like a crash. */
  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
  }

  /** The exit code, once the process has exited by itself (fails after `timeoutMs`). */
  async exitCode(timeoutMs = 60_000): Promise<number | null> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(new Error(`${this.name} still running after ${timeoutMs} ms:\n${this.output}`)),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([this.exited, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
      await this.exited;
      clearTimeout(timer);
    }
  }
}

/** The ready lines each app prints. */
export const READY: Record<AppName, RegExp> = {
  orchestrator: /orchestrator listening/,
  'admin-api': /admin API listening/,
  'sample-participants': /sample participants ready/,
};
