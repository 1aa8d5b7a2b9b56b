import { Pool } from 'pg';
import { describe, log, sleep } from '../log';
import { drawPlan, orderInput, SagaPlan } from '../plan';
import { Profile } from '../profiles';
import { Rng } from '../random';
import { AdminClient } from './admin-client';
import { Resolver } from './resolver';

/** One saga the driver started (or tried to). */
export interface StartRecord {
  readonly n: number;
  /** The start's idempotency key (`saga_instance.idempotency_key`). */
  readonly key: string;
  readonly orderId: string;
  readonly plan: SagaPlan;
  sagaId: string | null;
  acceptedAt: number | null;
  attempts: number;
  /** Sent again with the same key after it was accepted: the answer must name the same saga. */
  repeat: { status: number | null; sameSaga: boolean } | null;
  gaveUp: string | null;
}

const IN_FLIGHT = 24;
const GIVE_UP_MS = 5 * 60_000;

/**
 * Starts the run's sagas through the admin API at a steady rate (each start retried with the
 * same idempotency key until it is accepted, as a careful client would), then drains: waits
 * until no saga is active, resolving `failed` ones the way an operator would (the Resolver).
 */
export class Driver {
  readonly starts: StartRecord[] = [];
  loadStartedAt = 0;
  loadEndedAt = 0;

  constructor(
    private readonly client: AdminClient,
    private readonly pool: Pool,
    private readonly profile: Profile,
    private readonly rng: Rng,
    private readonly runId: string,
    readonly resolver: Resolver,
  ) {}

  /** Starts every saga at the profile's rate; resolves when each was accepted or given up. */
  async load(): Promise<void> {
    this.loadStartedAt = Date.now();
    const gap = 1000 / this.profile.startsPerSecond;
    const running = new Set<Promise<void>>();
    for (let n = 0; n < this.profile.sagas; n++) {
      const due = this.loadStartedAt + n * gap;
      if (due > Date.now()) await sleep(due - Date.now());
      while (running.size >= IN_FLIGHT) await Promise.race(running);
      const plan = drawPlan(this.rng, this.profile.plan);
      const input = orderInput(this.runId, n, plan, this.rng);
      const record: StartRecord = {
        n,
        key: `${this.runId}-start-${n}`,
        orderId: input.orderId,
        plan,
        sagaId: null,
        acceptedAt: null,
        attempts: 0,
        repeat: null,
        gaveUp: null,
      };
      this.starts.push(record);
      const repeat = this.rng.chance(this.profile.duplicateStarts);
      const p = this.start(record, input, repeat).finally(() => running.delete(p));
      running.add(p);
      if (n > 0 && n % 100 === 0) log(`driver: ${n} of ${this.profile.sagas} sagas started`);
    }
    await Promise.all(running);
    this.loadEndedAt = Date.now();
    log(
      `driver: all ${this.profile.sagas} starts sent in ${((this.loadEndedAt - this.loadStartedAt) / 1000).toFixed(0)} s`,
    );
  }

  /**
   * Waits until no saga is running or compensating and none is failed (the resolver fixes
   * those), checked twice a few seconds apart. Returns the ids still active on timeout.
   */
  async drain(timeoutMs: number): Promise<{ drainedInMs: number | null; stuck: string[] }> {
    const begun = Date.now();
    let quietSince: number | null = null;
    while (Date.now() - begun < timeoutMs) {
      await this.resolver.tick().catch((e: unknown) => log(`resolver: ${describe(e)}`));
      const open = await this.openSagas().catch(() => null);
      if (open && open.length === 0) {
        quietSince ??= Date.now();
        if (Date.now() - quietSince >= 3000) return { drainedInMs: Date.now() - begun, stuck: [] };
      } else quietSince = null;
      await sleep(1000);
    }
    return { drainedInMs: null, stuck: (await this.openSagas().catch(() => [])) ?? [] };
  }

  private async openSagas(): Promise<string[]> {
    const { rows } = await this.pool.query<{ id: string }>(
      `SELECT id FROM saga_instance WHERE status IN ('running', 'compensating', 'failed')`,
    );
    return rows.map((r) => r.id);
  }

  private async start(record: StartRecord, input: object, repeat: boolean): Promise<void> {
    const body = {
      sagaType: 'order',
      idempotencyKey: record.key,
      businessKey: record.orderId,
      input,
    };
    const first = Date.now();
    while (record.sagaId === null) {
      if (Date.now() - first > GIVE_UP_MS) {
        record.gaveUp = 'not accepted within 5 minutes';
        return;
      }
      record.attempts++;
      // The header is this request's own id: the audit log keeps it (detail.idempotencyKey).
      const sent = await this.client.post('driver', 'start', '/sagas', body, {
        idempotencyKey: `${record.key}-req-${record.attempts}`,
        auditGroup: record.key,
      });
      if (sent.status === 201 || sent.status === 200) {
        record.sagaId = (sent.body as { id: string }).id;
        record.acceptedAt = Date.now();
      } else if (
        sent.status !== null &&
        sent.status >= 400 &&
        sent.status < 500 &&
        sent.status !== 429
      ) {
        record.gaveUp = `answered ${sent.status}: ${JSON.stringify(sent.body)}`;
        return;
      } else await sleep(1000 + Math.floor(Math.random() * 1000));
    }
    if (repeat) await this.repeat(record, body);
  }

  /** The same start again, until it is answered: it must name the same saga (200, not 201). */
  private async repeat(record: StartRecord, body: object): Promise<void> {
    await sleep(500 + Math.floor(Math.random() * 3000));
    for (let attempt = 1; attempt <= 60; attempt++) {
      const again = await this.client.post('driver', 'start', '/sagas', body, {
        idempotencyKey: `${record.key}-repeat-${attempt}`,
        auditGroup: record.key,
      });
      record.repeat = {
        status: again.status,
        sameSaga: again.status === 200 && (again.body as { id?: string }).id === record.sagaId,
      };
      if (again.status !== null && again.status < 500) return;
      await sleep(2000);
    }
  }
}
