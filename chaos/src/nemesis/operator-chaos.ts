import { Pool } from 'pg';
import { AdminClient, RequestRecord } from '../driver/admin-client';
import { SKIP_REPLIES } from '../driver/resolver';
import { patiently } from '../infra/chaos-database';
import { RunKeys } from '../infra/topology';
import { ORDER_STEPS } from '../plan';
import { Rng } from '../random';

type Action =
  | 'retry'
  | 'resume'
  | 'compensate'
  | 'cancel'
  | 'skip'
  | 'mark-compensated'
  | 'compensate?dryRun=true';

const BY_STATUS: Record<string, Action[]> = {
  running: ['cancel', 'compensate', 'skip', 'resume', 'compensate?dryRun=true'],
  compensating: ['mark-compensated', 'resume', 'retry'],
  failed: ['retry', 'skip', 'compensate', 'mark-compensated', 'cancel'],
};

export const SCENARIOS = [
  'single',
  'same-key-sequential',
  'same-key-concurrent',
  'race',
  'same-key-two-principals',
  'denied',
  'stale-if-match',
] as const;
type Scenario = (typeof SCENARIOS)[number];

interface Target {
  readonly id: string;
  readonly status: string;
  readonly version: number;
  readonly step: string;
}

interface Call {
  readonly principal: keyof RunKeys;
  readonly path: string;
  readonly body: object;
  readonly key: string;
  readonly ifMatch?: string;
}

/**
 * Concurrent operator actions through the admin API on sagas that are running, compensating
 * or failed: one action, the same request twice with one Idempotency-Key (one after the other,
 * and at once), two different actions racing, one key from two principals, a viewer's denied
 * call, a stale If-Match. Whatever the answers, the checker holds the store to them: at most one
 * transition per key, one audit record per request.
 */
export class OperatorChaos {
  readonly scenarios: Record<Scenario, number> = Object.fromEntries(
    SCENARIOS.map((s) => [s, 0]),
  ) as Record<Scenario, number>;
  private readonly unanswered: Call[] = [];
  private counter = 0;

  constructor(
    private readonly client: AdminClient,
    private readonly pool: Pool,
    private readonly rng: Rng,
  ) {}

  async burst(size: number): Promise<void> {
    // Patient: a burst may fall in the PostgreSQL outage the other lane is causing.
    const { rows } = await patiently(() =>
      this.pool.query<{
        id: string;
        status: string;
        version: number;
        current_step: number | null;
        last_error: { step: string } | null;
      }>(
        `SELECT id, status, version, current_step, last_error FROM saga_instance
        WHERE status IN ('running', 'compensating', 'failed') ORDER BY random() LIMIT $1`,
        [size],
      ),
    );
    const targets = rows.map((r) => ({
      id: r.id,
      status: r.status,
      version: r.version,
      step:
        r.current_step !== null
          ? ORDER_STEPS[r.current_step]!
          : (r.last_error?.step ?? 'reserveCredit'),
    }));
    await Promise.all(targets.map((t) => this.scenario(t)));
  }

  /** Repeats, with the same key, every call that got no answer (the admin API died under it). */
  async repeatUnanswered(): Promise<number> {
    const calls = this.unanswered.splice(0);
    await Promise.all(calls.map((c) => this.send(c)));
    return calls.length;
  }

  private async scenario(t: Target): Promise<void> {
    const scenario = this.rng.pick(SCENARIOS);
    this.scenarios[scenario]++;
    const action = this.rng.pick(BY_STATUS[t.status] ?? ['retry']);
    const call = (a: Action, principal: keyof RunKeys = 'nemesis'): Call =>
      this.call(t, a, principal);
    switch (scenario) {
      case 'single':
        await this.send(call(action));
        return;
      case 'same-key-sequential': {
        const c = call(action);
        await this.send(c);
        await this.send(c);
        return;
      }
      case 'same-key-concurrent': {
        const c = call(action);
        await Promise.all([this.send(c), this.send(c)]);
        return;
      }
      case 'race': {
        const others = (BY_STATUS[t.status] ?? []).filter((a) => a !== action);
        const other = others.length > 0 ? this.rng.pick(others) : 'retry';
        await Promise.all([this.send(call(action)), this.send(call(other))]);
        return;
      }
      case 'same-key-two-principals': {
        const c = call(action);
        await Promise.all([this.send(c), this.send({ ...c, principal: 'nemesis2' })]);
        return;
      }
      case 'denied':
        await this.send(call(action, 'viewer'));
        return;
      case 'stale-if-match':
        await this.send({ ...call(action), ifMatch: `"${Math.max(1, t.version - 1)}"` });
        return;
    }
  }

  private call(t: Target, action: Action, principal: keyof RunKeys): Call {
    const key = `nemesis-${++this.counter}-${action.split('?')[0]}`;
    const reason = `[nemesis] ${action} key=${key}`;
    const body =
      action === 'skip'
        ? { reason, step: t.step, reply: SKIP_REPLIES[t.step] ?? {} }
        : action === 'mark-compensated'
          ? { reason, evidence: `chaos nemesis says it was undone (${key})` }
          : { reason };
    return { principal, path: `/sagas/${t.id}/${action}`, body, key };
  }

  private async send(c: Call): Promise<RequestRecord> {
    const sent = await this.client.post(c.principal, 'nemesis', c.path, c.body, {
      idempotencyKey: c.key,
      ...(c.ifMatch ? { ifMatch: c.ifMatch } : {}),
    });
    if (sent.fate !== 'responded') this.unanswered.push(c);
    return sent;
  }
}
