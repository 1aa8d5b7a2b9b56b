import { DefinitionRegistry, ReplyBatchProcessor } from '@sagaflow/runtime';
import { defineSaga } from '@sagaflow/saga-dsl';
import { countRows } from '../support/fixtures';
import {
  fail,
  HarnessInput,
  ok,
  rawReply,
  SagaHarness,
  TOPICS,
  undo,
  work,
} from '../support/saga-harness';

/*
 * The ReplyBatchProcessor's inbox on a real PostgreSQL: a reply id is used up when the reply is
 * applied or ignored, never when it is parked — so a corrected reply, or a parked one replayed
 * by an operator, gets through with the same id.
 */

const twoSteps = defineSaga({ name: 'inbox-two-steps', version: 1, input: HarnessInput })
  .step('a', { ...work, compensate: undo })
  .pivot('b', work)
  .build();

describe('reply batches and the inbox (PostgreSQL)', () => {
  let h: SagaHarness;

  beforeAll(async () => {
    h = await SagaHarness.create([twoSteps], { prefix: 'sagaflow_inbox' });
  });

  afterAll(async () => {
    await h?.close();
  });

  const inboxRows = (messageId: string) =>
    countRows(h.dataSource, `SELECT 1 FROM inbox_message WHERE message_id = $1`, [messageId]);
  const parkedRows = (sagaId: string) =>
    h.dataSource.query(`SELECT reason_code FROM parked_message WHERE saga_id = $1 ORDER BY id`, [
      sagaId,
    ]) as Promise<Array<{ reason_code: string }>>;

  it('a parked reply does not use up its message id: the corrected reply with the same id is applied', async () => {
    const saga = await h.start('inbox-two-steps');
    const id = `reply:${saga.id}:a:forward:1`;

    const wrong = rawReply(saga.id, 'a', 1, ok({ ref: 42 }));
    expect(await h.feed(wrong)).toEqual({ applied: 0, duplicates: 0, ignored: 0, parked: 1 });
    expect(await parkedRows(saga.id)).toEqual([{ reason_code: 'invalid-reply' }]);
    expect(await inboxRows(id)).toBe(0);
    expect(await h.load(saga.id)).toEqual(saga);

    const right = rawReply(saga.id, 'a', 1, ok({ ref: 'r-1' }));
    expect(await h.feed(right)).toEqual({ applied: 1, duplicates: 0, ignored: 0, parked: 0 });
    expect(await h.load(saga.id)).toMatchObject({ version: 2, stage: 1 });
    expect(await inboxRows(id)).toBe(1);

    // Once applied, the id is used up: a copy is a duplicate.
    expect(await h.feed(right)).toEqual({ applied: 0, duplicates: 1, ignored: 0, parked: 0 });
  });

  it('an ignored reply uses up its id (a copy is a duplicate, not journaled again)', async () => {
    const saga = await h.start('inbox-two-steps');
    await h.reply(saga.id, 'a', 1, ok());
    const stale = rawReply(saga.id, 'a', 1, ok(), { messageId: `stale-${saga.id}` });
    expect(await h.feed(stale)).toMatchObject({ ignored: 1 });
    expect(await h.feed(stale)).toMatchObject({ ignored: 0, duplicates: 1 });
    const ignoredLines = (await h.journal(saga.id)).filter((e) => e.type === 'reply.ignored');
    expect(ignoredLines).toHaveLength(1);
  });

  it('a reply parked by an orchestrator without the definition is applied when replayed to one that has it', async () => {
    const saga = await h.start('inbox-two-steps');
    const elsewhere = new ReplyBatchProcessor(h.dataSource, new DefinitionRegistry([]), TOPICS);
    const reply = rawReply(saga.id, 'a', 1, fail('out-of-stock', false));
    expect(await elsewhere.process([reply])).toMatchObject({ parked: 1 });
    expect(await parkedRows(saga.id)).toEqual([{ reason_code: 'unknown-definition' }]);

    expect(await h.feed(reply)).toMatchObject({ applied: 1, duplicates: 0 });
    expect(await h.load(saga.id)).toMatchObject({
      status: 'compensated',
      cause: { step: 'a', type: 'out-of-stock' },
    });
  });

  // When a wrong reply and its correction (same message id) arrive in one batch — likely, as
  // the consumer fetches everything available — the parked one must not settle the id.
  it('a wrong reply and its correction with the same id in one batch: the correction is applied', async () => {
    const saga = await h.start('inbox-two-steps');
    const result = await h.feed(
      rawReply(saga.id, 'a', 1, ok({ ref: 42 })),
      rawReply(saga.id, 'a', 1, ok({ ref: 'r-1' })),
    );
    expect(result).toEqual({ applied: 1, duplicates: 0, ignored: 0, parked: 1 });
    expect(await h.load(saga.id)).toMatchObject({ version: 2, stage: 1 });
  });
});
