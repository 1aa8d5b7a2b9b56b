import { CompiledStep, SagaDefinition } from '@sagaflow/saga-dsl';
import { SagaSimulation } from './saga-simulation';

/** The faults the matrix injects into one step. */
export type Fault = 'fail' | 'timeout' | 'duplicate' | 'late';
export const FAULTS: readonly Fault[] = ['fail', 'timeout', 'duplicate', 'late'];

export interface MatrixOptions {
  /** The start input for every case. */
  readonly input: unknown;
  /** Success reply data for each step that awaits a reply, from the command payload it got. */
  readonly replies: Readonly<Record<string, (payload: never) => unknown>>;
}

export interface MatrixExpectation {
  readonly status: 'completed' | 'compensated' | 'failed';
  /** Steps compensated, in the order their compensations were sent. */
  readonly compensated: readonly string[];
}

export interface MatrixResult extends MatrixExpectation {
  /** Every command sent, as `step:kind#attempt`. */
  readonly path: readonly string[];
  /** Replies and timers the engine ignored (duplicates, late replies, stale timers). */
  readonly ignored: number;
}

export interface MatrixCase {
  readonly name: string;
  readonly step: string;
  readonly fault: Fault;
  /** Null when the case applies; otherwise why it does not (e.g. the step has no timeout). */
  readonly notApplicable: string | null;
  readonly expected: MatrixExpectation;
  run(): MatrixResult;
}

/**
 * Generates the failure matrix of a definition: for every step that awaits a reply, fail it,
 * time it out, duplicate its reply, and deliver its reply late — each case run by the real
 * engine core on a virtual clock, with an expected outcome from an independent model of the
 * saga rules. Other steps succeed at once; compensations succeed.
 *
 * @example
 * for (const c of failureMatrix(orderSaga, { input, replies })) {
 *   it(c.name, () => expect(c.run()).toMatchObject(c.expected));
 * }
 */
export function failureMatrix(definition: SagaDefinition, options: MatrixOptions): MatrixCase[] {
  const happy = drive(definition, options, null, null);
  if (happy.status !== 'completed')
    throw new Error(
      `the happy path of "${definition.compiled.name}" ends ${happy.status}, not completed: check the replies given to failureMatrix()`,
    );
  const order = completionOrder(happy.path);
  const awaiting = definition.compiled.steps.filter(
    (s) => ['compensatable', 'pivot', 'retriable'].includes(s.kind) && order.includes(s.name),
  );
  return awaiting.flatMap((step) =>
    FAULTS.map((fault) => ({
      name: `${step.name}: ${fault}`,
      step: step.name,
      fault,
      notApplicable:
        (fault === 'timeout' || fault === 'late') && step.timeoutMs === null
          ? 'the step has no timeout: it would wait for ever'
          : null,
      expected: expectation(definition, order, step, fault),
      run: () => drive(definition, options, step.name, fault),
    })),
  );
}

/** Runs every applicable case; throws one error listing each case whose outcome differs. */
export function assertFailureMatrix(
  definition: SagaDefinition,
  options: MatrixOptions,
): MatrixCase[] {
  const cases = failureMatrix(definition, options).filter((c) => c.notApplicable === null);
  const wrong = cases.flatMap((c) => {
    const got = c.run();
    const same =
      got.status === c.expected.status && got.compensated.join() === c.expected.compensated.join();
    return same
      ? []
      : [
          `${c.name}: expected ${c.expected.status} [${c.expected.compensated.join(', ')}], got ${got.status} [${got.compensated.join(', ')}]`,
        ];
  });
  if (wrong.length > 0)
    throw new Error(`failure matrix of "${definition.compiled.name}":\n- ${wrong.join('\n- ')}`);
  return cases;
}

/** The reference model: what the saga rules say each fault must lead to. */
function expectation(
  definition: SagaDefinition,
  order: readonly string[],
  step: CompiledStep,
  fault: Fault,
): MatrixExpectation {
  const completed = { status: 'completed' as const, compensated: [] };
  const failed = { status: 'failed' as const, compensated: [] };
  const retriesThroughTimeout = step.onTimeout === 'retry' && step.retry.maxAttempts >= 2;
  if (fault === 'duplicate' || (fault === 'late' && retriesThroughTimeout)) return completed;
  if (step.kind === 'retriable') return failed;
  const givenUp = fault === 'timeout' || fault === 'late';
  if (givenUp && (step.onTimeout === 'park' || step.kind === 'pivot')) return failed;
  const stageOf = (name: string) => definition.compiled.steps.find((s) => s.name === name)!.stage;
  // Members of earlier stages, then the other members of the faulted step's stage, complete
  // before the step is given up on; an unknown outcome (a timeout) is compensated too, first.
  const before = order.filter(
    (n) => stageOf(n) < step.stage || (stageOf(n) === step.stage && n !== step.name),
  );
  const done = givenUp ? [...before, step.name] : before;
  const kinds = new Map(definition.compiled.steps.map((s) => [s.name, s.kind]));
  return {
    status: 'compensated',
    compensated: [...done].reverse().filter((n) => kinds.get(n) === 'compensatable'),
  };
}

/** Plays one case to its end: replies at once to everything but the faulted step. */
function drive(
  definition: SagaDefinition,
  options: MatrixOptions,
  target: string | null,
  fault: Fault | null,
): MatrixResult {
  const sim = new SagaSimulation(definition).start(options.input);
  let duplicated = false;
  let late = false;
  for (
    let turn = 0;
    turn < 10_000 && (sim.status === 'running' || sim.status === 'compensating');
    turn++
  ) {
    const awaited = sim.awaited();
    const next = awaited.find((a) => a.step !== target || a.kind === 'compensate') ?? awaited[0];
    if (!next) {
      if (!sim.fireNextTimer()) break;
      continue;
    }
    const data = () => successData(sim, options, next.step);
    if (next.kind === 'compensate')
      sim.replySuccess(next.step, {}, { kind: 'compensate', attempt: next.attempt });
    else if (next.step !== target) sim.replySuccess(next.step, data(), { attempt: next.attempt });
    else if (fault === 'fail') sim.replyFailure(next.step, { retryable: false });
    else if (fault === 'timeout') sim.fireNextTimer();
    else if (fault === 'duplicate' && !duplicated) {
      duplicated = true;
      sim
        .replySuccess(next.step, data(), { attempt: next.attempt })
        .replySuccess(next.step, data(), { attempt: next.attempt });
    } else if (fault === 'late' && !late) {
      late = true;
      sim.fireNextTimer();
      sim.replySuccess(next.step, data(), { attempt: next.attempt });
    } else sim.replySuccess(next.step, data(), { attempt: next.attempt });
  }
  const path = sim.sent.map((c) => `${c.step}:${c.kind}#${c.attempt}`);
  const compensated = [
    ...new Set(sim.sent.filter((c) => c.kind === 'compensate').map((c) => c.step)),
  ];
  const status =
    sim.status === 'running' || sim.status === 'compensating' || sim.status === 'not-started'
      ? 'failed'
      : sim.status;
  return { status, compensated, path, ignored: sim.ignored.length };
}

function successData(sim: SagaSimulation, options: MatrixOptions, step: string): unknown {
  const reply = options.replies[step];
  if (!reply)
    throw new Error(`failureMatrix needs reply data for step "${step}": add it to "replies"`);
  return reply(sim.lastSent(step)!.payload as never);
}

/** Forward steps in the order their (last) attempts were sent on the happy path. */
function completionOrder(path: readonly string[]): string[] {
  return [...new Set(path.filter((p) => p.includes(':forward#')).map((p) => p.split(':')[0]!))];
}
