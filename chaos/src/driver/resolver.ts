import { Pool } from 'pg';
import { log } from '../log';
import { ledgerSchema, OrderStep, SERVICE_OF } from '../plan';
import { recordEffect } from '../participant/ledger';
import { AdminClient } from './admin-client';

type Resolution = 'retry' | 'skip' | 'mark-compensated' | 'compensate';

interface FailedSaga {
  readonly id: string;
  readonly version: number;
  readonly cause: { step: OrderStep; kind: 'forward' | 'compensate'; type: string };
}

/** What each skipped step would have replied (its reply schema). */
export const SKIP_REPLIES: Record<string, object> = {
  reserveCredit: { reservationId: 'operator-credit' },
  reserveInventory: { reservationId: 'operator-inventory' },
  chargePayment: { chargeId: 'operator-charge' },
  confirmOrder: { confirmedAt: '2026-01-01T00:00:00.000Z' },
};

/**
 * The operator on call: finds `failed` sagas and resolves each as a human would, through the
 * admin API with an Idempotency-Key per (saga, version, action):
 *
 * - a compensation refused for good (the participant's tagged permanent failure): undo it by
 *   hand — the harness writes the compensation to the participant's ledger, source `operator`
 *   — and mark it compensated;
 * - a confirmation rejected past the pivot: skip it with the reply data;
 * - anything else (a pivot parked after its timeout, retries run out): retry.
 *
 * A refused action (409) falls back to the next one that could apply.
 */
export class Resolver {
  /** Resolutions applied (200), by action. */
  readonly applied: Record<Resolution, number> = {
    retry: 0,
    skip: 0,
    'mark-compensated': 0,
    compensate: 0,
  };
  /** Failed sagas seen, by cause (`<step>/<kind>/<type>`). */
  readonly causes = new Map<string, number>();
  private readonly seen = new Set<string>();
  private readonly tries = new Map<string, number>();
  private readonly doneByHand = new Set<string>();

  constructor(
    private readonly client: AdminClient,
    private readonly pool: Pool,
  ) {}

  async tick(): Promise<void> {
    const { rows } = await this.pool.query<{
      id: string;
      version: number;
      last_error: FailedSaga['cause'];
    }>(
      `SELECT id, version, last_error FROM saga_instance WHERE status = 'failed' ORDER BY updated_at LIMIT 100`,
    );
    for (const row of rows)
      await this.resolve({ id: row.id, version: row.version, cause: row.last_error });
  }

  private async resolve(saga: FailedSaga): Promise<void> {
    const seenKey = `${saga.id}:v${saga.version}`;
    if (!this.seen.has(seenKey)) {
      this.seen.add(seenKey);
      const cause = `${saga.cause.step}/${saga.cause.kind}/${saga.cause.type}`;
      this.causes.set(cause, (this.causes.get(cause) ?? 0) + 1);
    }
    const tries = (this.tries.get(saga.id) ?? 0) + 1;
    this.tries.set(saga.id, tries);
    for (const action of this.candidates(saga, tries)) {
      const key = `drain:${saga.id}:v${saga.version}:${action}`;
      if (action === 'mark-compensated') await this.undoByHand(saga);
      const sent = await this.client.post(
        'driver',
        'drain',
        `/sagas/${saga.id}/${action}`,
        this.body(saga, action, key),
        {
          idempotencyKey: key,
        },
      );
      if (sent.status === 200) {
        if (!sent.replayed) this.applied[action]++;
        return;
      }
      if (sent.status !== 409 && sent.status !== 400) return; // down or busy: next tick
    }
    if (tries % 10 === 0)
      log(
        `resolver: saga ${saga.id} still failed after ${tries} tries (${JSON.stringify(saga.cause)})`,
      );
  }

  private candidates(saga: FailedSaga, tries: number): Resolution[] {
    const { step, kind, type } = saga.cause;
    if (kind === 'compensate')
      return type === 'chaos-permanent' || tries > 5
        ? ['mark-compensated']
        : ['retry', 'mark-compensated'];
    if (step === 'confirmOrder' && (type === 'chaos-rejected' || tries > 5)) return ['skip'];
    return tries > 5 ? ['compensate', 'skip'] : ['retry', 'compensate', 'skip'];
  }

  private body(saga: FailedSaga, action: Resolution, key: string): object {
    const reason = `[drain] ${action} key=${key}`;
    if (action === 'skip')
      return { reason, step: saga.cause.step, reply: SKIP_REPLIES[saga.cause.step] ?? {} };
    if (action === 'mark-compensated')
      return { reason, evidence: `undone by hand by the chaos operator (${key})` };
    return { reason };
  }

  /**
   * The operator undoes the step by hand before marking it: one compensation in the
   * participant's ledger, as the participant would have written it (a duplicate is counted).
   */
  private async undoByHand(saga: FailedSaga): Promise<void> {
    const id = `${saga.id}:${saga.cause.step}`;
    if (this.doneByHand.has(id)) return;
    const schema = ledgerSchema(SERVICE_OF[saga.cause.step]);
    await recordEffect(this.pool, schema, {
      sagaId: saga.id,
      step: saga.cause.step,
      kind: 'compensate',
      commandType: 'operator.by-hand',
      messageId: null,
      attempt: null,
      source: 'operator',
    });
    this.doneByHand.add(id);
  }
}
