/**
 * Runs `work` again and again: at once while it reports a full batch, after `idleMs` when it
 * did less, after `errorBackoffMs` when it threw (dependencies come back; the loop goes on).
 */
export class PollingLoop {
  private running = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;

  constructor(
    private readonly work: () => Promise<number>,
    private readonly options: {
      readonly batchSize: number;
      readonly idleMs: number;
      readonly errorBackoffMs?: number;
      readonly onError?: (error: unknown) => void;
    },
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        const done = await this.work();
        if (done < this.options.batchSize) await this.sleep(this.options.idleMs);
      } catch (error) {
        try {
          this.options.onError?.(error);
        } catch {
          // a failing error reporter must not end the loop
        }
        await this.sleep(this.options.errorBackoffMs ?? 1000);
      }
    }
  }

  /** Waits, unless stop() wakes it early. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        this.wake = null;
        resolve();
      };
      const timer = setTimeout(finish, ms);
      this.wake = finish;
    });
  }
}
