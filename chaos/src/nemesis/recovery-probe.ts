import { Admin, Kafka } from 'kafkajs';
import { sleep } from '../log';

/** One orchestrator death and how long the system took to get over it. */
export interface KillRecord {
  readonly at: number;
  readonly label: string;
  /** `random`, `double`, `crash-point:<name>`, `arming` (killed to start a crash-point life). */
  readonly cause: string;
  /** Orchestrators still alive right after it (0: no orchestrator at all for a while). */
  readonly survivors: number;
  /** The restarted process printed its ready line. */
  readyMs: number | null;
  /**
   * Every reply that was on the reply topic at the moment of the kill had been consumed and
   * its offset committed by the orchestrators' group: the backlog the dead process left is gone.
   */
  catchUpMs: number | null;
  /** The first reply applied or timer fired after the kill, by any orchestrator (the checker fills it in). */
  firstProgressMs: number | null;
}

const CATCH_UP_LIMIT_MS = 180_000;

/**
 * Measures how fast the orchestrators' consumer group catches up after a kill: the reply
 * topic's end offsets at the kill, then the group's committed offsets polled until they reach
 * them. It needs the broker: a measurement that cannot read offsets (the broker is away) is
 * retried until it can, within the limit.
 */
export class RecoveryProbe {
  readonly kills: KillRecord[] = [];
  private admin: Admin | null = null;
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly kafka: Kafka,
    private readonly replyTopic: string,
    private readonly groupId: string,
  ) {}

  record(
    kill: Omit<KillRecord, 'readyMs' | 'catchUpMs' | 'firstProgressMs'>,
    whenReady: Promise<void>,
  ): void {
    const record: KillRecord = { ...kill, readyMs: null, catchUpMs: null, firstProgressMs: null };
    this.kills.push(record);
    const work = Promise.all([
      whenReady.then(() => (record.readyMs = Date.now() - record.at)).catch(() => undefined),
      this.catchUp(record),
    ]).then(() => undefined);
    this.pending.add(work);
    void work.finally(() => this.pending.delete(work));
  }

  async close(): Promise<void> {
    await Promise.all(this.pending);
    await this.admin?.disconnect().catch(() => undefined);
  }

  private async catchUp(record: KillRecord): Promise<void> {
    let ends: Map<number, bigint> | null = null;
    while (Date.now() - record.at < CATCH_UP_LIMIT_MS) {
      try {
        const admin = await this.connected();
        ends ??= new Map(
          (await admin.fetchTopicOffsets(this.replyTopic)).map((p) => [
            p.partition,
            BigInt(p.high),
          ]),
        );
        const [group] = await admin.fetchOffsets({
          groupId: this.groupId,
          topics: [this.replyTopic],
        });
        const committed = new Map(
          (group?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]),
        );
        if ([...ends].every(([p, end]) => end === 0n || (committed.get(p) ?? -1n) >= end)) {
          record.catchUpMs = Date.now() - record.at;
          return;
        }
      } catch {
        await this.admin?.disconnect().catch(() => undefined);
        this.admin = null;
      }
      await sleep(250);
    }
  }

  private async connected(): Promise<Admin> {
    if (this.admin) return this.admin;
    const admin = this.kafka.admin({ retry: { retries: 1 } });
    await admin.connect();
    this.admin = admin;
    return admin;
  }
}
