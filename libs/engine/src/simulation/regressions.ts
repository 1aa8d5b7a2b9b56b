import { KnownBug } from './model';
import { SimCase } from './moves';
import { StepShape } from './shape';

/**
 * Failing cases the simulation found, replayed before every property run. Each keeps the
 * shrunk counterexample itself (a seed only reproduces while the generators stay the same) and
 * the seed and path it was found with.
 *
 * While the engine still has the bug, `skip` names it: the strict replay is skipped, and a
 * tolerant replay checks the case still runs into it — that one fails once the engine is
 * fixed, to say it is time to remove the bug from KNOWN_BUGS and the `skip` here.
 */
export interface Regression {
  readonly name: string;
  /** The bug it guards against: what went wrong. */
  readonly bug: string;
  /** How it was found: the property, seed and path (generators of the time), or by hand. */
  readonly foundWith:
    { readonly property?: string; readonly seed: number; readonly path: string } | 'by hand';
  readonly case: SimCase;
  /** Set while the engine still has the bug. */
  readonly skip?: KnownBug;
}

export const REGRESSIONS: readonly Regression[] = [
  {
    name: 'a retry of a parked parallel member keeps the stage failed by another member',
    bug: 'retry-drops-stage-failure: operator retry (and skip) of a failed saga rebuild the stage with stageFailure null, so a member that failed for good is forgotten and the saga completes without it',
    foundWith: {
      seed: 399023692,
      path: '3:3:2:7:5:6:6:6:6:6:6:6:2:2:2:2:2:4:4:4:4:4:4:4:4:4:4:4:2:2:2:2:2:2:2:2:2:2:2:2:1:2:1:1:5:2:6:7:8:2:1:1:3:6:10:10:10:11:9:2:4:3:3',
    },
    case: {
      shape: {
        deadlineMs: null,
        stages: [
          {
            name: 'g0',
            parallel: true,
            steps: [step('g0m0'), step('g0m1', { timeoutMs: 50, onTimeout: 'park' }), step('g0m2')],
          },
        ],
      },
      skipMask: 0,
      // g0m0 is refused, g0m1 times out (park): failed; the drain retries, g0m1 and g0m2 succeed.
      moves: [{ t: 'reply', pick: 0, outcome: 'fail', failType: 0 }, { t: 'fireNext' }],
      drain: ['ok'],
    },
  },
  {
    name: 'past the pivot, a failure entering a stage resumes where this decision began',
    bug: 'entering-failure-resumes-too-late: advance() fails the saga with resume.stage = the stage that failed, but the stages passed on the way in the same decision (local steps, notifications, skipped steps) were discarded with it, so a retry never runs them: their data changes and messages are lost',
    foundWith: {
      seed: 399357045,
      path: '11:2:1:1:1:1:1:1:1:1:1:1:1:1:1:1:1:1:1:2:2:2:2:2:2:2:3:3:3:3:3:2:2:2:2:2:2:2:2:2:2:3:2:2:2:2:2:2:3:2:2:4:4:3:2',
    },
    case: {
      shape: {
        deadlineMs: null,
        stages: [
          {
            name: 's0',
            parallel: false,
            steps: [step('s0', { kind: 'pivot', compensation: null })],
          },
          {
            name: 'l1',
            parallel: false,
            steps: [step('l1', { kind: 'local', compensation: null })],
          },
          {
            name: 's2',
            parallel: false,
            steps: [step('s2', { kind: 'retriable', fault: 'payload', compensation: null })],
          },
        ],
      },
      skipMask: 0,
      // The pivot succeeds; l1 runs, s2's payload throws: failed. The fix is deployed, then retry.
      moves: [],
      drain: ['ok'],
    },
  },
  {
    name: 'a retried pivot whose onReply threw is not completed twice',
    bug: 'retry-keeps-completed-step: after onReply threw on a pivot (or retriable step), retry and skip send it again but leave its entry in completed, so it is completed and pending at once, then completed twice',
    foundWith: {
      seed: 399393414,
      path: '2:2:2:2:2:2:0:0:0:0:0:0:0:0:1:0:0:0:0:0:0:0:3:1:1:3:1:5:5:5:1:1',
    },
    case: {
      shape: {
        deadlineMs: null,
        stages: [
          {
            name: 's0',
            parallel: false,
            steps: [step('s0', { kind: 'pivot', fault: 'onReply', compensation: null })],
          },
        ],
      },
      skipMask: 0,
      // The pivot's reply makes onReply throw: failed; the drain retries and the pivot answers again.
      moves: [{ t: 'reply', pick: 0, outcome: 'poison', failType: 0 }],
      drain: ['ok'],
    },
  },
  {
    name: 'resume does not send members the stage abandoned on the way',
    bug: "resume-sends-abandoned-member: sendAll() in operator.ts keeps sending while the saga is running; when one member's send fails for good, the stage abandons the members waiting to retry, yet the next one is still sent — its effect is never awaited nor compensated",
    // Suspected from the code, then found by the simulation (SAGAFLOW_SIM_STRICT=1) and reduced by hand.
    foundWith: {
      property: 'backoff focus',
      seed: 5,
      path: '175:1:1:1:1:1:1:1:2:1:1:1:1:1:8:6:6:7:6:9:12:13:15:15:20:21:21:21:27:27:27:33:36:33:35:16:16:16',
    },
    case: {
      shape: {
        deadlineMs: null,
        stages: [
          {
            name: 'g0',
            parallel: true,
            steps: [
              step('g0m0'),
              step('g0m1', { fault: 'payloadAfterSibling' }),
              step('g0m2'),
              step('g0m3'),
            ],
          },
        ],
      },
      skipMask: 0,
      // g0m0 succeeds; g0m1 and g0m2 fail transiently (1 s backoff); g0m3 still awaited. Resume:
      // g0m1's payload now throws (its sibling completed), so the stage fails and g0m2 is dropped.
      moves: [
        { t: 'reply', pick: 0, outcome: 'ok', failType: 0 },
        { t: 'reply', pick: 0, outcome: 'transient', failType: 0 },
        { t: 'reply', pick: 0, outcome: 'transient', failType: 0 },
        { t: 'operator', action: 'resume', pick: 0, valid: true, legal: false },
      ],
      drain: ['ok'],
    },
  },
];

/** A compensatable step with the DSL's defaults, unless told otherwise. */
function step(name: string, overrides: Partial<StepShape> = {}): StepShape {
  return {
    name,
    kind: 'compensatable',
    conditional: false,
    fault: null,
    timeoutMs: null,
    onTimeout: null,
    retry: null,
    compensation: { timeoutMs: null, retry: null },
    ...overrides,
  };
}
