import { Pool } from 'pg';
import { ledgerSchema } from '../plan';
import { Verdict } from './verdict';

/**
 * `--sabotage`: a test of the checker itself. After the drain, the harness breaks the store in
 * one known way per invariant, then checks as usual: every invariant it broke must FAIL. A
 * checker that passes a broken store would pass a broken engine too.
 *
 * Each tampering touches a different saga, so one does not hide another.
 */
export async function sabotage(pool: Pool): Promise<string[]> {
  const pick = async (sql: string, skip: number): Promise<string> => {
    const { rows } = await pool.query<{ id: string }>(`${sql} ORDER BY id OFFSET $1 LIMIT 1`, [
      skip,
    ]);
    if (!rows[0]) throw new Error(`sabotage: no saga for ${sql}`);
    return rows[0].id;
  };
  const completed = (n: number) =>
    pick(`SELECT id FROM saga_instance WHERE status = 'completed'`, n);
  const run = (sql: string, params: unknown[]) => pool.query(sql, params);
  const broken: string[] = [];
  const breakIt = async (id: string, work: () => Promise<unknown>) => {
    await work();
    broken.push(id);
  };
  // 1: a saga left running after the drain.
  const s1 = await completed(0);
  await breakIt('1', () =>
    run(
      `UPDATE saga_instance SET status = 'running', current_step = 3, attempt = 1 WHERE id = $1`,
      [s1],
    ),
  );
  // 2: an accepted start whose instance no longer carries its key.
  const s2 = await completed(1);
  await breakIt('2', () =>
    run(`UPDATE saga_instance SET idempotency_key = 'sabotaged' WHERE id = $1`, [s2]),
  );
  // 3: a duplicate effect.
  const s3 = await completed(2);
  await breakIt('3', () =>
    run(
      `INSERT INTO ${ledgerSchema('credit')}.effect_duplicate (saga_id, step, kind, command_type, source)
       VALUES ($1, 'reserveCredit', 'forward', 'credit.reserve', 'participant')`,
      [s3],
    ),
  );
  // 4: a completed saga whose charge never happened.
  const s4 = await completed(3);
  await breakIt('4', () =>
    run(`DELETE FROM ${ledgerSchema('payment')}.effect_ledger WHERE saga_id = $1`, [s4]),
  );
  // 5: credit undone before inventory.
  const s5 = await pick(
    `SELECT i.saga_id AS id FROM ${ledgerSchema('inventory')}.effect_ledger i
       JOIN ${ledgerSchema('credit')}.effect_ledger c ON c.saga_id = i.saga_id
      WHERE i.kind = 'compensate' AND c.kind = 'compensate'
        AND i.source = 'participant' AND c.source = 'participant'`,
    0,
  ).catch(() => null);
  if (s5)
    await breakIt('5', () =>
      run(
        `UPDATE ${ledgerSchema('credit')}.effect_ledger SET applied_at = '2000-01-01' WHERE saga_id = $1 AND kind = 'compensate'`,
        [s5],
      ),
    );
  // 6 and 7: a transition after the end (which is also a version past the instance's).
  const s6 = await completed(4);
  await breakIt('6', () =>
    run(
      `INSERT INTO saga_journal (saga_id, instance_version, type, actor)
       SELECT id, version + 1, 'command.sent', 'sabotage' FROM saga_instance WHERE id = $1`,
      [s6],
    ),
  );
  broken.push('7');
  // 8: a timer nobody fired.
  const s8 = await completed(5);
  await breakIt('8', () =>
    run(
      `INSERT INTO saga_timer (timer_key, saga_id, due_at, event)
       VALUES ($1::text || ':sabotage', $1::uuid, now() - interval '1 hour', '{"type": "deadlineReached"}')`,
      [s8],
    ),
  );
  // 9: a message parked that nobody injected.
  await breakIt('9', () =>
    run(
      `INSERT INTO parked_message (topic, headers, body, reason_code, reason) VALUES ('sabotage', '{}', '{}', 'malformed', 'sabotage')`,
      [],
    ),
  );
  // 10: an answered request without its audit record.
  await breakIt('10', () =>
    run(
      `DELETE FROM audit_record WHERE id = (SELECT min(id) FROM audit_record WHERE path = '/sagas')`,
      [],
    ),
  );
  // 10b: an operator action journaled without its audit record.
  const s10 = await completed(6);
  await breakIt('10b', () =>
    run(
      `INSERT INTO saga_journal (saga_id, instance_version, type, actor, detail)
       VALUES ($1, 1, 'operator.action', 'sabotage', '{"action": "retry", "reason": "[nemesis] retry key=sabotage-key"}')`,
      [s10],
    ),
  );
  // 11: an unsent command.
  await breakIt('11', () =>
    run(
      `INSERT INTO outbox_message (message_id, topic, message_key, headers, body) VALUES ('sabotage', 'sabotage', 'k', '{}', '{}')`,
      [],
    ),
  );
  return broken;
}

/** Which sabotaged invariants the checker caught (FAIL) and which it missed. */
export function sabotageOutcome(broken: readonly string[], verdicts: readonly Verdict[]) {
  const failed = new Set(verdicts.filter((v) => v.status === 'FAIL').map((v) => v.id));
  return {
    caught: broken.filter((id) => failed.has(id)),
    missed: broken.filter((id) => !failed.has(id)),
  };
}
