import { Pool } from 'pg';
import { StartRecord } from '../driver/driver';
import {
  COMPENSATABLE,
  expectedForwards,
  expectedStatus,
  ORDER_STEPS,
  OrderStep,
  planOf,
} from '../plan';
import { OperatorLine, Snapshot } from './snapshot';
import { verdict, Verdict } from './verdict';

/** Operator lines by saga, split by who acted. */
export function operatorIndex(
  snapshot: Snapshot,
): Map<string, { nemesis: OperatorLine[]; drain: OperatorLine[] }> {
  const index = new Map<string, { nemesis: OperatorLine[]; drain: OperatorLine[] }>();
  for (const line of snapshot.operatorLines) {
    const entry = index.get(line.sagaId) ?? { nemesis: [], drain: [] };
    (line.reason.startsWith('[drain]') ? entry.drain : entry.nemesis).push(line);
    index.set(line.sagaId, entry);
  }
  return index;
}

/** 1. Termination: after the drain every saga is completed or compensated. */
export function termination(snapshot: Snapshot): Verdict {
  const byStatus = countBy([...snapshot.instances.values()], (i) => i.status);
  const open = [...snapshot.instances.values()].filter(
    (i) => !['completed', 'compensated'].includes(i.status),
  );
  return verdict(
    '1',
    'termination: no saga active or failed after the drain',
    open.length === 0,
    `${snapshot.instances.size} sagas: ${JSON.stringify(byStatus)}`,
    open.map((i) => ({ id: i.id, status: i.status, cause: i.cause })),
  );
}

/** 2. Nothing lost: one instance per start key, every accepted start has its instance. */
export function nothingLost(snapshot: Snapshot, starts: readonly StartRecord[]): Verdict {
  const byKey = new Map<string, string[]>();
  for (const i of snapshot.instances.values())
    if (i.key) byKey.set(i.key, [...(byKey.get(i.key) ?? []), i.id]);
  const problems: unknown[] = [];
  const known = new Set(starts.map((s) => s.key));
  for (const s of starts) {
    const ids = byKey.get(s.key) ?? [];
    if (s.sagaId && (ids.length !== 1 || ids[0] !== s.sagaId))
      problems.push({ key: s.key, accepted: s.sagaId, instances: ids });
    if (s.gaveUp) problems.push({ key: s.key, gaveUp: s.gaveUp });
    if (s.repeat && !s.repeat.sameSaga) problems.push({ key: s.key, repeat: s.repeat });
  }
  const strangers = [...byKey.keys()].filter((k) => !known.has(k));
  if (strangers.length > 0) problems.push({ instancesWithUnknownKeys: strangers.slice(0, 5) });
  const accepted = starts.filter((s) => s.sagaId).length;
  const repeats = starts.filter((s) => s.repeat).length;
  return verdict(
    '2',
    'nothing lost: one instance per start key, every accepted start has it',
    problems.length === 0,
    `${accepted}/${starts.length} starts accepted, ${snapshot.instances.size} instances, ${repeats} repeated starts answered with the same saga`,
    problems,
  );
}

/** 3. No duplicate effects: at most one forward and one compensation per (saga, step). */
export function noDuplicateEffects(snapshot: Snapshot): Verdict {
  const total = [...snapshot.effects.values()].reduce((n, list) => n + list.length, 0);
  return verdict(
    '3',
    'no duplicate effects (per participant, saga, step and kind)',
    snapshot.duplicates.length === 0,
    `${total} effects applied, ${snapshot.duplicates.length} duplicates`,
    snapshot.duplicates,
  );
}

/**
 * 4. Atomic outcome: completed = every forward effect once and no compensation; compensated =
 * every applied compensatable forward undone exactly once, nothing at or past the pivot.
 * Operator actions loosen it where they must: a skipped step may or may not have taken effect
 * (its command was out), and a compensation marked done by the nemesis may not have run.
 */
export function atomicOutcome(snapshot: Snapshot, ops: ReturnType<typeof operatorIndex>): Verdict {
  const broken: unknown[] = [];
  let checked = 0;
  for (const saga of snapshot.instances.values()) {
    if (saga.status !== 'completed' && saga.status !== 'compensated') continue;
    checked++;
    const effects = snapshot.effects.get(saga.id) ?? [];
    const count = (step: OrderStep, kind: 'forward' | 'compensate') =>
      effects.filter((e) => e.step === step && e.kind === kind).length;
    const lines = [...(ops.get(saga.id)?.nemesis ?? []), ...(ops.get(saga.id)?.drain ?? [])];
    const skipped = new Set(lines.filter((l) => l.action === 'skip').map((l) => l.step));
    const marked = lines.some(
      (l) => l.action === 'markCompensated' && l.reason.startsWith('[nemesis]'),
    );
    const wrong: string[] = [];
    if (saga.status === 'completed') {
      for (const step of ORDER_STEPS) {
        const n = count(step, 'forward');
        if (n !== 1 && !(skipped.has(step) && n === 0)) wrong.push(`${step} forward ×${n}`);
      }
      if (effects.some((e) => e.kind === 'compensate')) wrong.push('compensated a completed saga');
    } else {
      for (const step of ORDER_STEPS.slice(2))
        if (count(step, 'forward') > 0) wrong.push(`${step} applied in a compensated saga`);
      for (const step of COMPENSATABLE) {
        const forward = count(step, 'forward');
        const undo = count(step, 'compensate');
        const ok = forward === 0 ? undo === 0 : undo === 1 || (marked && undo === 0);
        if (!ok) wrong.push(`${step}: forward ×${forward}, compensation ×${undo}`);
      }
    }
    if (wrong.length > 0)
      broken.push({ id: saga.id, status: saga.status, orderId: saga.orderId, wrong });
  }
  return verdict(
    '4',
    'atomic outcome: effects match the final status, nothing undone past the pivot',
    broken.length === 0,
    `${checked} terminal sagas checked against their ledgers, ${broken.length} inconsistent`,
    broken,
  );
}

/** 5. Order: compensations run in the reverse order of the steps they undo (journal and ledgers). */
export async function compensationOrder(pool: Pool, snapshot: Snapshot): Promise<Verdict> {
  const { rows } = await pool.query<{ saga_id: string; steps: string[] }>(
    `SELECT saga_id, array_agg(step ORDER BY id) AS steps FROM saga_journal
      WHERE type = 'command.sent' AND kind = 'compensate' GROUP BY saga_id`,
  );
  const broken: unknown[] = [];
  for (const r of rows) {
    const credit = r.steps.indexOf('reserveCredit');
    const inventory = r.steps.indexOf('reserveInventory');
    if (credit >= 0 && inventory >= 0 && credit < inventory)
      broken.push({ id: r.saga_id, sent: r.steps });
  }
  let ledgerPairs = 0;
  for (const [id, effects] of snapshot.effects) {
    const at = (step: OrderStep) =>
      effects.find((e) => e.step === step && e.kind === 'compensate' && e.source === 'participant')
        ?.appliedAt;
    const credit = at('reserveCredit');
    const inventory = at('reserveInventory');
    if (!credit || !inventory) continue;
    ledgerPairs++;
    if (credit < inventory) broken.push({ id, ledger: { credit, inventory } });
  }
  return verdict(
    '5',
    'order: compensations in reverse order of the forward steps',
    broken.length === 0,
    `${rows.length} sagas sent compensations; ${ledgerPairs} undid both reservations`,
    broken,
  );
}

/** 6. Terminal is final: after completed/compensated, only ignored replies reach the journal. */
export async function terminalIsFinal(pool: Pool): Promise<Verdict> {
  const { rows } = await pool.query(
    `WITH term AS (
       SELECT saga_id, min(instance_version) AS v FROM saga_journal
        WHERE type IN ('saga.completed', 'saga.compensated') GROUP BY saga_id)
     SELECT j.saga_id, j.type, j.instance_version, t.v AS terminal_version
       FROM saga_journal j JOIN term t USING (saga_id)
      WHERE j.instance_version > t.v AND j.type <> 'reply.ignored'
      LIMIT 20`,
  );
  const ignored = await pool.query<{ reason: string; n: number }>(
    `SELECT detail->>'reason' AS reason, count(*)::int AS n FROM saga_journal
      WHERE type = 'reply.ignored' GROUP BY 1`,
  );
  const counts = Object.fromEntries(ignored.rows.map((r) => [r.reason, r.n]));
  return verdict(
    '6',
    'terminal is final: late replies and timers change nothing',
    rows.length === 0,
    `replies ignored: ${JSON.stringify(counts)}; transitions after the end: ${rows.length}`,
    rows,
  );
}

/** 7. One writer: instance versions go up by one per transition, no gap, no duplicate. */
export async function contiguousVersions(pool: Pool): Promise<Verdict> {
  const { rows } = await pool.query(
    `SELECT i.id, i.version, array_agg(DISTINCT j.instance_version ORDER BY j.instance_version) AS versions
       FROM saga_instance i LEFT JOIN saga_journal j ON j.saga_id = i.id
      GROUP BY i.id, i.version`,
  );
  const broken = rows.filter(
    (r: { version: number; versions: number[] }) =>
      r.versions.length !== r.version || r.versions.some((v, index) => v !== index + 1),
  );
  return verdict(
    '7',
    'one writer: journal versions contiguous 1..version for every saga',
    broken.length === 0,
    `${rows.length} sagas, ${broken.length} with gaps or extra versions`,
    broken.map((r: { id: string; version: number; versions: number[] }) => ({
      id: r.id,
      version: r.version,
      versions: r.versions,
    })),
  );
}

/** 11. Outbox drained: no unsent row remains. */
export async function outboxDrained(pool: Pool): Promise<Verdict> {
  const n = Number((await pool.query(`SELECT count(*) AS n FROM outbox_message`)).rows[0].n);
  return verdict('11', 'outbox drained: no unsent row', n === 0, `${n} rows left`);
}

/**
 * 4b (ours). Outcome as planned: a saga no nemesis operator touched ends as its injected
 * business faults say. A deviation is explained when the journal shows why the engine had to
 * decide otherwise (a timeout, retries run out, the deadline); an unexplained one fails.
 */
export function planConformance(
  snapshot: Snapshot,
  ops: ReturnType<typeof operatorIndex>,
): {
  verdict: Verdict;
  explained: unknown[];
} {
  const unexplained: unknown[] = [];
  const explained: unknown[] = [];
  let checked = 0;
  for (const saga of snapshot.instances.values()) {
    if ((ops.get(saga.id)?.nemesis.length ?? 0) > 0) continue;
    if (saga.status !== 'completed' && saga.status !== 'compensated') continue;
    checked++;
    const plan = planOf(saga.orderId);
    const want = expectedStatus(plan);
    const forwards = new Set(
      (snapshot.effects.get(saga.id) ?? []).filter((e) => e.kind === 'forward').map((e) => e.step),
    );
    const wantForwards = expectedForwards(plan);
    const sameEffects =
      wantForwards.length === forwards.size && wantForwards.every((s) => forwards.has(s));
    if (saga.status === want && sameEffects) continue;
    const marks = [...(snapshot.journalMarks.get(saga.id) ?? [])];
    const why = marks.filter((m) =>
      /timedOut|deadline|:timeout|:participant-error|:chaos-transient/.test(m),
    );
    const item = {
      id: saga.id,
      orderId: saga.orderId,
      status: saga.status,
      expected: want,
      forwards: [...forwards],
      why: marks,
    };
    (why.length > 0 ? explained : unexplained).push(item);
  }
  return {
    verdict: verdict(
      '4b',
      'outcome as planned for sagas no nemesis operator touched',
      unexplained.length === 0,
      `${checked} sagas checked: ${checked - explained.length - unexplained.length} as planned, ${explained.length} explained by timeouts/retries, ${unexplained.length} unexplained`,
      unexplained,
    ),
    explained,
  };
}

export function countBy<T>(items: readonly T[], key: (item: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of items) out[key(item)] = (out[key(item)] ?? 0) + 1;
  return out;
}
