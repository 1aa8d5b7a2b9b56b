import {
  CommandProcessor,
  handle,
  ParticipantService,
  ProcessedCommandStore,
} from '@sagaflow/participant';
import { createKafka } from '@sagaflow/messaging';
import { defineCommand } from '@sagaflow/saga-dsl';
import { Client, Pool } from 'pg';
import { z } from 'zod';
import { forwardCommand } from '../support/commands';
import {
  createTestDatabase,
  eventually,
  KAFKA_BROKERS,
  SERVER_URL,
} from '../support/infrastructure';

const Stamp = defineCommand({
  type: 'loss.stamp',
  topic: 'loss.commands',
  payload: z.object({ n: z.number() }),
  reply: z.object({ pid: z.number() }),
});

/** A kit service over the pool, never started: constructing it is what guards the pool. */
function guard(pool: Pool): ParticipantService {
  return new ParticipantService({
    kafka: createKafka({ brokers: KAFKA_BROKERS, clientId: 'conn-loss' }),
    pool,
    schema: 'loss_participant',
    groupId: 'unused',
    topics: [],
    handlers: [],
  });
}

const NAMES = { sagaType: 'loss', step: 'stamp', replyTopic: 'loss.replies' };

/*
 * The server ends a participant's database connection (a restart, a terminated backend) while
 * the connection sits idle in the pool or while a handler holds it between two queries. pg
 * reports both as an 'error' event, and an 'error' with no listener ends the process: the kit
 * must survive both, answer the interrupted command with a retryable failure, and go on.
 * (CI once lost a whole suite to the idle case: a test database dropped right after its pool
 * ended, before the server had read the pool's goodbye.)
 */
describe('participant kit: database connections the server ends', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let admin: Client;
  const store = new ProcessedCommandStore('loss_participant');

  beforeAll(async () => {
    db = await createTestDatabase('sagaflow_conn_loss');
    admin = new Client({ connectionString: `${SERVER_URL}/postgres` });
    await admin.connect();
  });

  afterAll(async () => {
    await admin?.end();
    await db?.drop();
  });

  async function terminate(pids: readonly number[]): Promise<void> {
    await admin.query('SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid', [pids]);
  }

  async function idlePids(): Promise<number[]> {
    const { rows } = await admin.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity WHERE datname = $1 AND state = 'idle'`,
      [db.name],
    );
    return rows.map((r) => r.pid);
  }

  it('a handler whose connection is ended between two queries gets a retryable failure, and the next command is served', async () => {
    const pool = new Pool({ connectionString: db.url, max: 2 });
    guard(pool);
    try {
      const client = await pool.connect();
      await store.ensureSchema(client).finally(() => client.release());
      let stall: Promise<void> | null = null;
      let heldPid = 0;
      const processor = new CommandProcessor(pool, store, [
        handle(Stamp, async (_payload, { tx }) => {
          const { rows } = await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
          heldPid = rows[0]!.pid;
          if (stall) await stall;
          await tx.query('SELECT 1');
          return { pid: heldPid };
        }),
      ]);

      let release!: () => void;
      stall = new Promise((r) => (release = r));
      const interrupted = processor.process(forwardCommand(Stamp, { n: 1 }, NAMES));
      await eventually('the handler to hold its connection', async () => heldPid || undefined);
      const killedPid = heldPid;
      await terminate([killedPid]);
      await new Promise((r) => setTimeout(r, 200)); // the FATAL reaches the idle-between-queries client
      release();
      const first = await interrupted;
      expect(first).toMatchObject({ outcome: 'failure', failure: { retryable: true } });

      // The broken connection was discarded, not handed out again.
      stall = null;
      const second = await processor.process(forwardCommand(Stamp, { n: 2 }, NAMES));
      expect(second.outcome).toBe('success');
      expect(second.outcome === 'success' && second.data).not.toEqual({ pid: killedPid });
    } finally {
      await pool.end();
    }
  });

  it('an idle pooled connection the server ends does not take the process down', async () => {
    const pool = new Pool({ connectionString: db.url, max: 3 });
    guard(pool);
    try {
      expect(pool.listenerCount('error')).toBe(1);
      const clients = await Promise.all([pool.connect(), pool.connect(), pool.connect()]);
      clients.forEach((c) => c.release());
      const idle = await eventually('three idle connections', async () => {
        const pids = await idlePids();
        return pids.length === 3 ? pids : undefined;
      });
      await terminate(idle);
      await eventually('the pool to drop them', async () =>
        pool.totalCount === 0 ? true : undefined,
      );
      const { rows } = await pool.query<{ one: number }>('SELECT 1 AS one');
      expect(rows[0]!.one).toBe(1);
    } finally {
      await pool.end();
    }
  });

  it('leaves a pool that already has an error listener alone', () => {
    const pool = new Pool({ connectionString: db.url, max: 1 });
    const mine = () => undefined;
    pool.on('error', mine);
    guard(pool);
    expect(pool.listeners('error')).toEqual([mine]);
    return pool.end();
  });
});
