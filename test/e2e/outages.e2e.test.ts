import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Pool } from 'pg';
import { eventually, SERVER_URL } from '../support/infrastructure';
import {
  expectAllFinished,
  expectContiguousVersions,
  expectEffectsExactlyOnce,
  freePort,
  OrderOutcome,
  ProcessStack,
  startOrders,
  unfinishedCount,
} from '../support/stack';

const ROOT = join(__dirname, '..', '..');
const BATCH = 30;

interface Broker {
  readonly port: number;
  readonly controllerPort: number;
  readonly dir: string;
}

/**
 * `scripts/kafka.sh start|stop` for this file's own broker: its own ports and data dir, and
 * KAFKA_BROKERS removed from the environment (with it set, kafka.sh starts and stops nothing).
 */
function kafkaSh(command: 'start' | 'stop', broker: Broker): Promise<string> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    KAFKA_PORT: String(broker.port),
    KAFKA_CONTROLLER_PORT: String(broker.controllerPort),
    KAFKA_DATA_DIR: broker.dir,
    KAFKA_WAIT_SECONDS: '60',
  };
  delete env.KAFKA_BROKERS;
  return new Promise((resolve, reject) => {
    execFile(
      'bash',
      [join(ROOT, 'scripts', 'kafka.sh'), command],
      { env, cwd: ROOT, timeout: 90_000 },
      (error, stdout, stderr) =>
        error
          ? reject(new Error(`kafka.sh ${command} failed: ${error.message}\n${stdout}${stderr}`))
          : resolve(stdout),
    );
  });
}

interface Readiness {
  readonly code: number;
  readonly body: {
    status?: string;
    checks?: Record<string, { status: string; error?: string }>;
  };
}

async function readiness(baseUrl: string): Promise<Readiness> {
  const res = await fetch(`${baseUrl}/health/ready`, { signal: AbortSignal.timeout(5000) });
  return { code: res.status, body: (await res.json()) as Readiness['body'] };
}

/** Polls `GET /health/ready` until `accept` says yes; returns that answer. */
function readinessUntil(
  what: string,
  baseUrl: string,
  accept: (r: Readiness) => boolean,
  timeoutMs = 30_000,
): Promise<Readiness> {
  return eventually(
    what,
    async () => {
      const r = await readiness(baseUrl);
      return accept(r) ? r : undefined;
    },
    timeoutMs,
    100,
  );
}

/** Nest colours its log lines; the failure message is plain text. */
const ANSI_COLOURS = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');

const isReady = (r: Readiness) => r.code === 200 && r.body.status === 'ready';
const downNaming = (dependency: string) => (r: Readiness) =>
  r.code === 503 && r.body.checks?.[dependency]?.status === 'down';

/**
 * Dependency outages while sagas run. The whole system runs on a Kafka broker of this file's
 * own (other ports, a temporary data dir), so stopping it disturbs no other test; PostgreSQL is
 * the machine's shared server, so its outage is simulated on this file's database only (below).
 * In both cases the orchestrator must say so on `GET /health/ready` (503 naming the dependency),
 * come back by itself when the dependency does, and finish every saga with the right outcome and
 * no effect applied twice.
 */
// Opt-in until they have proven stable over many runs (they take 60–85 s): set
// SAGAFLOW_OUTAGE_TESTS=1. See docs/architecture.md, "Outages and scale-out".
const describeOutages = process.env.SAGAFLOW_OUTAGE_TESTS === '1' ? describe : describe.skip;

describeOutages('outages', () => {
  let broker: Broker;
  let brokerStarted = false;
  let stack: ProcessStack;
  let db: Pool;

  beforeAll(async () => {
    broker = {
      port: await freePort(),
      controllerPort: await freePort(),
      dir: await mkdtemp(join(tmpdir(), 'sagaflow-outage-kafka-')),
    };
    brokerStarted = true;
    await kafkaSh('start', broker);
    stack = await ProcessStack.create({
      KAFKA_BROKERS: `127.0.0.1:${broker.port}`,
      // Fail over and reconnect quickly; the defaults are tuned for production.
      SAGAFLOW_CONSUMER_SESSION_TIMEOUT_MS: '6000',
    });
    // A pool, not a client: the PostgreSQL outage below terminates this file's connections too.
    db = new Pool({ connectionString: stack.env.DATABASE_URL, max: 2 });
    db.on('error', () => undefined);
  });

  afterAll(async () => {
    // OUTAGES_LOG_DIR=<dir> keeps every app's output (kafkajs, Nest) for a look afterwards.
    if (process.env.OUTAGES_LOG_DIR && stack)
      for (const [label, app] of stack.apps)
        writeFileSync(join(process.env.OUTAGES_LOG_DIR, `${label}.log`), app.output);
    await db?.end().catch(() => undefined);
    await stack?.stop();
    if (brokerStarted) await kafkaSh('stop', broker).catch(() => undefined);
    if (broker) await rm(broker.dir, { recursive: true, force: true });
  });

  /** Waits until `n` sagas of the batch have had at least two transitions. */
  async function progress(ids: readonly string[], n: number): Promise<void> {
    await eventually(
      `${n} sagas to make progress`,
      async () => {
        const { rows } = await db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM saga_instance WHERE id = ANY($1::uuid[]) AND version >= 3`,
          [ids],
        );
        return rows[0]!.n >= n ? true : undefined;
      },
      30_000,
      20,
    ).catch(async (error: unknown) => {
      throw new Error(`${String(error)}\n${await diagnosis(ids)}`);
    });
  }

  async function withClient<T>(work: (c: Client) => Promise<T>): Promise<T> {
    const client = new Client({ connectionString: stack.env.DATABASE_URL });
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end();
    }
  }

  /** Where unfinished sagas wait, and every consumer crash the apps logged: for a failure message. */
  async function diagnosis(ids: readonly string[]): Promise<string> {
    const { rows } = await db.query<{ step: string; status: string; n: number }>(
      `SELECT coalesce(current_step::text, '-') AS step, status, count(*)::int AS n FROM saga_instance
        WHERE id = ANY($1::uuid[]) AND status IN ('running', 'compensating') GROUP BY 1, 2`,
      [ids],
    );
    const crashes = [...stack.apps].flatMap(([label, app]) =>
      app.output
        .split('\n')
        .filter((l) =>
          /Crash:|Restarting the consumer|sagaflow reply consumer|exited|outbox relay:/.test(l),
        )
        .slice(-15)
        .map(
          (l) =>
            `${label}: ${l
              .replace(ANSI_COLOURS, '')
              .replace(/"stack":"[^"]*",?/, '')
              .slice(0, 300)}`,
        ),
    );
    return `stuck sagas: ${JSON.stringify(rows)}\nconsumer crashes, relay errors:\n${crashes.join('\n')}`;
  }

  async function expectCleanOutcome(expected: Map<string, OrderOutcome>): Promise<number> {
    return withClient(async (c) => {
      try {
        await expectAllFinished(c, expected, 120_000);
      } catch (error) {
        throw new Error(`${String(error)}\n${await diagnosis([...expected.keys()])}`);
      }
      const duplicates = await expectEffectsExactlyOnce(c, expected);
      await expectContiguousVersions(c, [...expected.keys()]);
      return duplicates;
    });
  }

  /*
   * PostgreSQL: the server is shared by every test and CI job on the machine, so restarting it
   * would break them. What a restart does to a client is simulated on this file's database
   * instead: every connection to it is terminated (what a client sees when the server goes down:
   * "terminating connection due to administrator command"), and while new connections are
   * refused (ALLOW_CONNECTIONS false — REVOKE CONNECT would not do: the apps connect as a
   * superuser, which privileges do not bind) the termination is repeated every 200 ms, so any
   * connection that slipped through dies too. Then connections are allowed again: the server
   * is back.
   */
  it('PostgreSQL connections cut and refused for a few seconds in the middle of a batch', async () => {
    const orchestrator = stack.orchestratorUrl();
    await readinessUntil('readiness before the outage', orchestrator, isReady, 30_000);
    const dbName = new URL(stack.env.DATABASE_URL!).pathname.slice(1);
    const admin = new Client({ connectionString: `${SERVER_URL}/postgres` });
    await admin.connect();
    const expected = await startOrders(stack.apiUrl, 'pg', BATCH);
    const ids = [...expected.keys()];
    let outage = { refusedMs: 0, terminated: 0, downReport: null as Readiness | null };
    let adminDown: Readiness | null = null;
    try {
      await progress(ids, 3);
      const cutAt = Date.now();
      await admin.query(`ALTER DATABASE "${dbName}" ALLOW_CONNECTIONS false`);
      let terminated = 0;
      let downReport: Readiness | null = null;
      while (Date.now() - cutAt < 4000 || !downReport || !adminDown) {
        const { rows } = await admin.query<{ n: number }>(
          `SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))::int AS n
             FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`,
          [dbName],
        );
        terminated += rows[0]!.n;
        if (!downReport) {
          const r = await readiness(orchestrator).catch(() => null);
          if (r && downNaming('postgresql')(r)) downReport = r;
        }
        if (!adminDown) {
          const r = await readiness(stack.apiUrl).catch(() => null);
          if (r && downNaming('postgresql')(r)) adminDown = r;
        }
        if (Date.now() - cutAt > 20_000) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      outage = { refusedMs: Date.now() - cutAt, terminated, downReport };
    } finally {
      await admin.query(`ALTER DATABASE "${dbName}" ALLOW_CONNECTIONS true`);
      await admin.end();
    }
    const restoredAt = Date.now();
    await readinessUntil('readiness to report ready again', orchestrator, isReady, 30_000);
    const readyAfterMs = Date.now() - restoredAt;
    // The orchestrator and the admin API must survive on their own. The sample participants
    // (apps/sample-participants, outside the engine) do not yet: their pg Pool has no 'error'
    // listener, so a terminated idle connection is an unhandled 'error' event and the process
    // exits. A supervisor would restart it; so does this test, and it says so.
    const participants = stack.app('sample-participants');
    await new Promise((r) => setTimeout(r, 500));
    const participantsDied =
      participants.child.exitCode !== null || participants.child.signalCode !== null;
    if (participantsDied) {
      process.stdout.write(
        `outages: the sample participants exited during the PostgreSQL outage (unhandled pg Pool 'error'); restarting them\n`,
      );
      await stack.start('sample-participants');
    }
    expect(outage.downReport).not.toBeNull();
    expect(outage.downReport!.body.checks!.kafka!.status).toBe('up');
    expect(outage.downReport!.body.checks!.postgresql!.error).toEqual(expect.any(String));
    expect(adminDown).not.toBeNull();
    expect(outage.terminated).toBeGreaterThan(0);

    const duplicates = await expectCleanOutcome(expected);
    const finishedAfterMs = Date.now() - restoredAt;

    process.stdout.write(
      `postgresql outage figures: ${JSON.stringify({
        sagas: expected.size,
        refusedForMs: outage.refusedMs,
        backendsTerminated: outage.terminated,
        postgresqlError: outage.downReport!.body.checks!.postgresql!.error,
        adminApiError: adminDown?.body.checks?.postgresql?.error,
        sampleParticipantsRestarted: participantsDied,
        readyAfterRestoreMs: readyAfterMs,
        allFinishedAfterRestoreMs: finishedAfterMs,
        duplicates,
      })}\n`,
    );
    for (const name of ['orchestrator', 'sample-participants', 'admin-api'])
      expect({ name, exit: stack.app(name).child.exitCode }).toEqual({ name, exit: null });
  });

  /*
   * Kafka: this file's own broker is stopped (controlled shutdown) for a few seconds and started
   * again. Known gap, not fixed here (outbox-relay.ts): in about one run in three the restarted
   * broker answers the relay's idempotent producer with OUT_OF_ORDER_SEQUENCE_NUMBER for good,
   * and the sagas stay where they are; the failure message then shows those relay errors.
   */
  it('Kafka stopped and started again in the middle of a batch', async () => {
    const orchestrator = stack.orchestratorUrl();
    await readinessUntil('readiness before the outage', orchestrator, isReady, 30_000);

    const expected = await startOrders(stack.apiUrl, 'kafka-a', BATCH);
    await progress([...expected.keys()], 3);
    const stopAt = Date.now();
    await kafkaSh('stop', broker);
    const stoppedAt = Date.now();
    const unfinished = await withClient((c) => unfinishedCount(c, [...expected.keys()]));
    expect(unfinished).toBeGreaterThan(0);

    const down = await readinessUntil(
      'readiness to report kafka down',
      orchestrator,
      downNaming('kafka'),
      15_000,
    );
    const reportedDownAfterMs = Date.now() - stoppedAt;
    expect(down.body.checks!.postgresql!.status).toBe('up');
    expect(down.body.checks!.kafka!.error).toEqual(expect.any(String));

    // Starts are still accepted while Kafka is away (they only write PostgreSQL)...
    const during = await startOrders(stack.apiUrl, 'kafka-b', 15);
    during.forEach((v, k) => expected.set(k, v));
    await new Promise((r) => setTimeout(r, 3000));

    const restartAt = Date.now();
    await kafkaSh('start', broker);
    const backAt = Date.now();
    await readinessUntil('readiness to report ready again', orchestrator, isReady, 60_000);
    const readyAfterMs = Date.now() - backAt;
    // ...and every saga, started before or during the outage, finishes.
    const duplicates = await expectCleanOutcome(expected);
    const finishedAfterMs = Date.now() - backAt;

    process.stdout.write(
      `kafka outage figures: ${JSON.stringify({
        sagas: expected.size,
        startedDuringOutage: during.size,
        unfinishedAtStop: unfinished,
        brokerStopMs: stoppedAt - stopAt,
        brokerDownMs: backAt - stoppedAt,
        brokerStartMs: backAt - restartAt,
        notReadyReportedAfterMs: reportedDownAfterMs,
        kafkaError: down.body.checks!.kafka!.error,
        readyAfterBrokerBackMs: readyAfterMs,
        allFinishedAfterBrokerBackMs: finishedAfterMs,
        duplicates,
      })}\n`,
    );
    for (const name of ['orchestrator', 'sample-participants', 'admin-api'])
      expect({ name, exit: stack.app(name).child.exitCode }).toEqual({ name, exit: null });
  });
});
