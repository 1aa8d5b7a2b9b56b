import { ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, WriteStream } from 'node:fs';
import { join } from 'node:path';
import { describe, log, sleep } from '../log';

export interface ProcessSpec {
  /** Unique name in the run, e.g. `orchestrator-2`; also the log file's name. */
  readonly label: string;
  /** The compiled entry point, relative to the repository root (e.g. `dist/apps/…/main.js`). */
  readonly script: string;
  readonly env: Readonly<Record<string, string>>;
  /** The line the process prints once it serves. */
  readonly ready: RegExp;
  /** Pause before the supervisor starts a dead process again. */
  readonly restartDelayMs: number;
}

/** One end of one life of a process. */
export interface Death {
  readonly label: string;
  readonly life: number;
  readonly at: number;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Killed by the harness (nemesis or shutdown), as opposed to dying by itself. */
  readonly byHarness: boolean;
  /** The crash point it reported reaching, if it died at one. */
  readonly crashPoint: string | null;
  /** The crash point set for this life (reached or not). */
  readonly armedCrashPoint: string | null;
  /** The life had printed its ready line (else it died starting, e.g. the database was away). */
  readonly wasReady: boolean;
}

const READY_TIMEOUT_MS = 120_000;
const TAIL_CHARS = 64 * 1024;

/**
 * A child process the harness keeps alive: whenever it dies (SIGKILLed by the nemesis, or by
 * itself at a crash point) the supervisor starts it again after `restartDelayMs`, with the
 * environment of the run plus, for one life only, whatever `armNextLife` set (a crash point).
 * Output goes to a log file per process; the tail stays in memory for the ready line.
 */
export class ManagedProcess {
  lives = 0;
  readonly deaths: Death[] = [];
  private child: ChildProcess | null = null;
  private life = { env: {} as Record<string, string>, ready: false, byHarness: false };
  private nextLife: Record<string, string> | null = null;
  private nextDelayMs: number | null = null;
  private tail = '';
  private supervising = false;
  private restarting: Promise<void> | null = null;
  private readonly out: WriteStream;
  /** Told about every death, after it is recorded. */
  onDeath: ((death: Death) => void) | null = null;

  constructor(
    readonly spec: ProcessSpec,
    private readonly root: string,
    logDir: string,
  ) {
    this.out = createWriteStream(join(logDir, `${spec.label}.log`), { flags: 'a' });
  }

  get label(): string {
    return this.spec.label;
  }

  get isReady(): boolean {
    return this.child !== null && this.life.ready;
  }

  get isRunning(): boolean {
    return this.child !== null;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts the first life and supervises from then on. */
  async start(): Promise<void> {
    this.supervising = true;
    await this.spawnLife();
  }

  /** The next life (only) runs with these extra variables, e.g. `SAGAFLOW_CRASH_POINT`. */
  armNextLife(env: Record<string, string>): void {
    this.nextLife = env;
  }

  /** The supervisor waits this long (once) before the next restart. */
  delayNextRestart(ms: number): void {
    this.nextDelayMs = ms;
  }

  /** SIGKILL, exactly like a crash; the supervisor restarts it. Resolves once it is dead. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.life.byHarness = true;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  /** Waits until the current (or next) life printed its ready line. */
  async whenReady(timeoutMs = READY_TIMEOUT_MS): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.isReady) {
      if (Date.now() > deadline)
        throw new Error(`${this.label} not ready within ${timeoutMs} ms; tail:\n${this.tail}`);
      await sleep(100);
    }
  }

  /** Stops for good: SIGTERM (SIGKILL after 10 s), no restart. */
  async stop(): Promise<void> {
    this.supervising = false;
    const child = this.child;
    if (child) {
      this.life.byHarness = true;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const force = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(force);
    }
    await this.restarting?.catch(() => undefined);
    await new Promise((resolve) => this.out.end(resolve));
  }

  /** Starts one life; one that does not get ready in time is killed (and so started again). */
  private async spawnLife(): Promise<void> {
    const env = this.nextLife ?? {};
    this.nextLife = null;
    this.startChild(env);
    try {
      await this.whenReady(READY_TIMEOUT_MS);
    } catch (error) {
      // Died while starting: the exit handler has already scheduled the next life.
      if (!this.supervising || !this.child) return;
      log(`${this.label}: ${describe(error).split('\n')[0]}; killing it and starting again`);
      await this.kill();
    }
  }

  private startChild(extra: Record<string, string>): void {
    this.lives++;
    this.tail = '';
    this.life = { env: extra, ready: false, byHarness: false };
    const note = Object.keys(extra).length > 0 ? ` with ${JSON.stringify(extra)}` : '';
    this.out.write(`\n===== ${new Date().toISOString()} life ${this.lives}${note} =====\n`);
    const child = spawn(
      process.execPath,
      ['-r', 'tsconfig-paths/register', join(this.root, this.spec.script)],
      {
        cwd: this.root,
        env: {
          ...process.env,
          TS_NODE_BASEURL: join(this.root, 'dist'),
          KAFKAJS_NO_PARTITIONER_WARNING: '1',
          ...this.spec.env,
          ...extra,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    this.child = child;
    const life = this.life;
    const onOutput = (chunk: Buffer) => {
      const text = chunk.toString();
      this.out.write(text);
      this.tail = (this.tail + text).slice(-TAIL_CHARS);
      if (!life.ready && this.spec.ready.test(this.tail)) life.ready = true;
    };
    child.stdout!.on('data', onOutput);
    child.stderr!.on('data', onOutput);
    child.once('exit', (code, signal) => this.onExit(child, life, code, signal));
  }

  private onExit(
    child: ChildProcess,
    life: { env: Record<string, string>; byHarness: boolean; ready: boolean },
    code: number | null,
    signal: NodeJS.Signals | null,
  ): void {
    if (this.child === child) this.child = null;
    const reached = /crash point "([^"]+)" reached/.exec(this.tail)?.[1] ?? null;
    const death: Death = {
      label: this.label,
      life: this.lives,
      at: Date.now(),
      code,
      signal,
      byHarness: life.byHarness,
      crashPoint: reached,
      armedCrashPoint: life.env.SAGAFLOW_CRASH_POINT ?? null,
      wasReady: life.ready,
    };
    this.deaths.push(death);
    this.out.write(`\n===== ${new Date().toISOString()} exited (${code ?? signal}) =====\n`);
    this.onDeath?.(death);
    // A life that died before it was ready (its database was cut, say) never ran its extra
    // variables: the next life gets them instead, unless something else was armed meanwhile.
    if (!life.ready && !life.byHarness && !reached && Object.keys(life.env).length > 0)
      this.nextLife ??= life.env;
    if (!this.supervising) return;
    const delay = this.nextDelayMs ?? this.spec.restartDelayMs;
    this.nextDelayMs = null;
    this.restarting = sleep(delay)
      .then(() => (this.supervising ? this.spawnLife() : undefined))
      .catch((error: unknown) => log(`${this.label}: restart failed: ${describe(error)}`))
      .finally(() => (this.restarting = null));
  }
}
