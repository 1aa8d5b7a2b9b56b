import { writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Pool } from 'pg';
import { Broker, kafkaSh } from '../support/own-broker';
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

const BATCH = 30;
const SESSION_TIMEOUT_MS = 6000;

interface Readiness {
  readonly code: number;
  readonly body: {
    status?: string;
    details?: Record<string, { status: string; error?: string }>;
  };
}

async function readiness(baseUrl: string): Promise<Readiness> {
  const res = await fetch(`${baseUrl}/health/ready`, { signal: AbortSignal.timeout(5000) });
  return { code: res.status, body: (await res.json()) as Readiness['body'] };
}

/**
 * Polls `GET /health/ready` until `accept` says yes; returns that answer. A timeout names the
 * last answer (or the last error), so a failure says what the process reported instead.
 */
async function readinessUntil(
  what: string,
  baseUrl: string,
  accept: (r: Readiness) => boolean,
  timeoutMs = 30_000,
): Promise<Readiness> {
  let last: Readiness | string = 'no answer yet';
  try {
    return await eventually(
      what,
      async () => {
        const r = await readiness(baseUrl).catch((error: unknown) => {
          last = String(error);
          throw error;
        });
        last = r;
        return accept(r) ? r : undefined;
      },
      timeoutMs,
      100,
    );
  } catch (error) {
    throw new Error(`${String(error)}\nlast readiness answer: ${JSON.stringify(last)}`);
  }
}

/** Nest colours its log lines; the failure message is plain text. */
const ANSI_COLOURS = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');

const isReady = (r: Readiness) => r.code === 200 && r.body.status === 'ok';
const downNaming = (dependency: string) => (r: Readiness) =>
  r.code === 503 && r.body.details?.[dependency]?.status === 'down';

/**
 * Dependency outages while sagas run. The whole system runs on a Kafka broker of this file's
 * own (other ports, a temporary data dir), so stopping it disturbs no other test; PostgreSQL is
 * the machine's shared server, so its outage is simulated on this file's database only (below).
 * In both cases the orchestrator must say so on `GET /health/ready` (503 naming the dependency),
 * come back by itself when the dependency does, and finish every saga with the right outcome and
 * no effect applied twice.
 */
// On by default; SAGAFLOW_OUTAGE_TESTS=0 skips them (they take about a minute and start a
// broker of their own). See docs/infrastructure.md, "Outages".
const describeOutages = process.env.SAGAFLOW_OUTAGE_TESTS === '0' ? describe.skip : describe;

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
      // Every consumer group (orchestrator and sample participants) gets over a member that
      // crashed in 6 s instead of 30: after a broker restart the group waits that long for it.
      SAGAFLOW_CONSUMER_SESSION_TIMEOUT_MS: String(SESSION_TIMEOUT_MS),
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
          /Crash:|Restarting the consumer|sagaflow reply consumer|sagaflow participant|connection lost|exited|outbox relay:/.test(
            l,
          ),
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
    const exits = [...stack.apps]
      .filter(([, app]) => app.child.exitCode !== null || app.child.signalCode !== null)
      .map(([label, app]) => `${label} exited (${app.child.exitCode ?? app.child.signalCode})`);
    return (
      `stuck sagas: ${JSON.stringify(rows)}\n${exits.join('\n')}\n` +
      `consumer crashes, relay errors:\n${crashes.join('\n')}`
    );
  }

  /** Every saga finished as expected, each effect once, versions contiguous; returns the duplicates (0). */
  async function expectCleanOutcome(expected: Map<string, OrderOutcome>): Promise<number> {
    return withClient(async (c) => {
      try {
        await expectAllFinished(c, expected, 120_000);
        const duplicates = await expectEffectsExactlyOnce(c, expected);
        await expectContiguousVersions(c, [...expected.keys()]);
        return duplicates;
      } catch (error) {
        throw new Error(`${String(error)}\n${await diagnosis([...expected.keys()])}`);
      }
    });
  }

  /** Where each app's output stands now, so recoveryCounts can count from here. */
  function outputMark(): Map<string, number> {
    return new Map([...stack.apps].map(([label, app]) => [label, app.output.length]));
  }

  /** Crashes and replaced clients the apps logged since `mark`, by kind: the figures show how recovery went. */
  function recoveryCounts(mark: Map<string, number>): Record<string, number> {
    const kinds: Record<string, RegExp> = {
      kafkajsRestarts: /Restarting the consumer/,
      orchestratorConsumerRebuilds: /sagaflow reply consumer .*rebuilding it/,
      relayProducersReplaced: /fenced the producer; replacing it/,
      participantConsumerRebuilds: /sagaflow participant .*consumer crashed; rebuilding it/,
      participantProducersReplaced: /sagaflow participant .*replaced the reply producer/,
    };
    const lines = [...stack.apps].flatMap(([label, app]) =>
      app.output.slice(mark.get(label) ?? 0).split('\n'),
    );
    return Object.fromEntries(
      Object.entries(kinds).map(([kind, pattern]) => [
        kind,
        lines.filter((l) => pattern.test(l)).length,
      ]),
    );
  }

  /** Fails, with the process's last output, if an app exited: every app must ride an outage out. */
  function expectAllAlive(during: string): void {
    for (const [label, app] of stack.apps) {
      if (app.child.exitCode === null && app.child.signalCode === null) continue;
      const tail = app.output.replace(ANSI_COLOURS, '').split('\n').slice(-20).join('\n');
      throw new Error(
        `${label} exited (${app.child.exitCode ?? app.child.signalCode}) during ${during}; its last output:\n${tail}`,
      );
    }
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
    const mark = outputMark();
    const expected = await startOrders(stack, 'pg', BATCH);
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
    // Every process rides it out, the sample participants too: their pool and its clients have
    // 'error' listeners (apps/sample-participants/src/main.ts, survivePoolErrors).
    await new Promise((r) => setTimeout(r, 500));
    expectAllAlive('the PostgreSQL outage');
    expect(outage.downReport).not.toBeNull();
    expect(outage.downReport!.body.details!.kafka!.status).toBe('up');
    expect(outage.downReport!.body.details!.postgresql!.error).toEqual(expect.any(String));
    expect(adminDown).not.toBeNull();
    expect(outage.terminated).toBeGreaterThan(0);

    const duplicates = await expectCleanOutcome(expected);
    const finishedAfterMs = Date.now() - restoredAt;

    process.stdout.write(
      `postgresql outage figures: ${JSON.stringify({
        sagas: expected.size,
        refusedForMs: outage.refusedMs,
        backendsTerminated: outage.terminated,
        postgresqlError: outage.downReport!.body.details!.postgresql!.error,
        adminApiError: adminDown?.body.details?.postgresql?.error,
        readyAfterRestoreMs: readyAfterMs,
        allFinishedAfterRestoreMs: finishedAfterMs,
        duplicates,
        recoveries: recoveryCounts(mark),
      })}\n`,
    );
    expectAllAlive('the PostgreSQL outage');
  });

  /*
   * Kafka: this file's own broker is stopped (controlled shutdown) for a few seconds and started
   * again. Every consumer crashes and comes back (kafkajs restarts it, or the ReplyConsumer and
   * the participant kit rebuild it); a producer the restarted broker fenced
   * (OUT_OF_ORDER_SEQUENCE_NUMBER) is replaced by the relay and by the participant kit. The
   * groups wait up to a session timeout for members that crashed and could not leave.
   */
  it('Kafka stopped and started again in the middle of a batch', async () => {
    const orchestrator = stack.orchestratorUrl();
    await readinessUntil('readiness before the outage', orchestrator, isReady, 30_000);

    const mark = outputMark();
    const expected = await startOrders(stack, 'kafka-a', BATCH);
    await progress([...expected.keys()], 3);
    const stopAt = Date.now();
    await kafkaSh('stop', broker);
    const stoppedAt = Date.now();
    const unfinished = await withClient((c) => unfinishedCount(c, [...expected.keys()]));
    if (unfinished === 0)
      throw new Error(
        `all ${expected.size} sagas finished before the broker was down (stopping took ${stoppedAt - stopAt} ms): the outage would test nothing`,
      );

    const down = await readinessUntil(
      'readiness to report kafka down',
      orchestrator,
      downNaming('kafka'),
      15_000,
    );
    const reportedDownAfterMs = Date.now() - stoppedAt;
    expect(down.body.details!.postgresql!.status).toBe('up');
    expect(down.body.details!.kafka!.error).toEqual(expect.any(String));

    // Starts are still accepted while Kafka is away (they only write PostgreSQL)...
    const during = await startOrders(stack, 'kafka-b', 15);
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
        kafkaError: down.body.details!.kafka!.error,
        readyAfterBrokerBackMs: readyAfterMs,
        allFinishedAfterBrokerBackMs: finishedAfterMs,
        duplicates,
        recoveries: recoveryCounts(mark),
      })}\n`,
    );
    expectAllAlive('the Kafka outage');
  });
});
