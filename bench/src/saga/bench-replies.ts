import { randomUUID } from 'node:crypto';

/**
 * The participants' whole work: answer at once with a fresh id. DBOS steps call the same
 * functions, so both engines orchestrate exactly the same trivial work.
 */
export const BENCH_REPLIES: Readonly<Record<string, () => Record<string, string>>> = {
  'bench.reserve': () => ({ reservationId: `r-${randomUUID()}` }),
  'bench.release': () => ({}),
  'bench.charge': () => ({ chargeId: `c-${randomUUID()}` }),
  'bench.confirm': () => ({ confirmedAt: new Date().toISOString() }),
};

export function benchReply(commandType: string): Record<string, string> {
  const reply = BENCH_REPLIES[commandType];
  if (!reply) throw new Error(`the bench participant has no reply for ${commandType}`);
  return reply();
}
