import { Duration, toMs } from './duration';
import { RetryOptions } from './retry-options';
import { RawStartOn, SagaDraftOptions, StageDraft, StepDraft } from './saga-draft';
import { StandardSchemaV1 } from './standard-schema';
import { validate } from './validation';

const SAGA_NAME = /^[a-z][a-z0-9]*(?:[.-][a-z][a-z0-9]*)*$/;
const STEP_NAME = /^[a-z][a-zA-Z0-9]*$/;
const TIMEOUT_ACTIONS = ['retry', 'compensate', 'park'];
/** Kafka's own rule for topic names (as for command topics), minus the reserved "." and "..". */
const TOPIC = /^[a-zA-Z0-9._-]{1,200}$/;

/**
 * Everything `build()` checks that the types cannot (or that plain JavaScript bypasses).
 * Each message names the step and says how to fix it.
 */
export function findProblems(options: SagaDraftOptions, stages: readonly StageDraft[]): string[] {
  const problems = sagaProblems(options);
  if (stages.length === 0)
    problems.push('it has no steps: add at least one with .step(), .pivot() or .retriable().');
  const seen = new Set<string>();
  const groupNames = stages.filter((s) => s.parallel).map((s) => s.name);
  const stepNames = stages.flatMap((s) => s.steps.map((step) => step.name));
  let pivotSeen = false;
  for (const stage of stages) {
    if (stage.parallel)
      problems.push(...groupProblems(stage, pivotSeen, [...stepNames, ...groupNames]));
    for (const draft of stage.steps) {
      problems.push(...stepProblems(draft, seen, pivotSeen));
      seen.add(draft.name);
    }
    pivotSeen ||= stage.steps.some((s) => s.kind === 'pivot');
  }
  return [...new Set(problems)];
}

function sagaProblems(options: SagaDraftOptions): string[] {
  const problems: string[] = [];
  if (typeof options.name !== 'string' || !SAGA_NAME.test(options.name)) {
    problems.push(
      `name "${String(options.name)}" is invalid: use lower-case words joined by "-" or ".", e.g. "order" or "order.fulfilment".`,
    );
  }
  if (!Number.isInteger(options.version) || options.version < 1)
    problems.push(`version ${String(options.version)} is invalid: use a positive integer.`);
  if (typeof options.input?.['~standard']?.validate !== 'function') {
    problems.push(
      '"input" must be a Standard Schema (for example a zod, valibot or arktype schema).',
    );
  }
  problems.push(...durationProblems('deadline', options.deadline, 'the saga'));
  problems.push(...sensitiveProblems(options.sensitive));
  problems.push(...startOnProblems(options.startOn));
  return problems;
}

function startOnProblems(startOn: RawStartOn | undefined): string[] {
  if (startOn === undefined) return [];
  if (startOn === null || typeof startOn !== 'object')
    return ['"startOn" must be an object with topic, event, eventId and input, or be left out.'];
  const problems: string[] = [];
  const topic = startOn.topic;
  if (typeof topic !== 'string' || !TOPIC.test(topic) || topic === '.' || topic === '..') {
    problems.push(
      `startOn.topic "${String(topic)}" is invalid: use up to 200 letters, digits, ".", "_" or "-", e.g. "orders.order-placed" (the orchestrator adds the deployment's prefix).`,
    );
  }
  if (typeof startOn.event?.['~standard']?.validate !== 'function') {
    problems.push(
      '"startOn.event" must be a Standard Schema of the event body (for example a zod, valibot or arktype schema).',
    );
  }
  if (typeof startOn.eventId !== 'function')
    problems.push(
      '"startOn.eventId" must be a function of the event returning its unique id: one saga starts per id.',
    );
  if (typeof startOn.input !== 'function')
    problems.push('"startOn.input" must be a function mapping the event to the saga input.');
  if (startOn.businessKey !== undefined && typeof startOn.businessKey !== 'function')
    problems.push(
      '"startOn.businessKey" must be a function of the event returning the business key, or be left out.',
    );
  return problems;
}

/** `names`: every step and group name in the saga (a group's own name included once). */
function groupProblems(stage: StageDraft, pivotSeen: boolean, names: readonly string[]): string[] {
  const where = `parallel group "${stage.name}"`;
  const problems: string[] = [];
  if (!STEP_NAME.test(stage.name))
    problems.push(`${where}: the name must be a camelCase identifier such as "reserveAll".`);
  if (names.filter((n) => n === stage.name).length > 1)
    problems.push(
      `${where}: the name is used more than once; give every step and group its own name.`,
    );
  if (stage.steps.length < 2)
    problems.push(`${where}: a parallel group needs at least two steps; use a plain step for one.`);
  const expected = pivotSeen ? 'retriable' : 'compensatable';
  for (const step of stage.steps.filter((s) => s.kind !== expected)) {
    problems.push(
      `${where}: step "${step.name}" must be ${expected} ${pivotSeen ? 'after' : 'before'} the pivot.`,
    );
  }
  return problems;
}

function stepProblems(draft: StepDraft, seen: ReadonlySet<string>, pivotSeen: boolean): string[] {
  const where = `step "${draft.name}"`;
  const problems: string[] = [];
  if (typeof draft.name !== 'string' || !STEP_NAME.test(draft.name))
    problems.push(`${where}: the name must be a camelCase identifier such as "reserveCredit".`);
  if (seen.has(draft.name))
    problems.push(`${where}: the name is used twice; give every step its own name.`);
  problems.push(...placementProblems(draft, pivotSeen).map((p) => `${where}: ${p}`));
  problems.push(...shapeProblems(draft).map((p) => `${where}: ${p}`));
  problems.push(...policyProblems(draft).map((p) => `${where}: ${p}`));
  return problems;
}

function placementProblems(draft: StepDraft, pivotSeen: boolean): string[] {
  const o = draft.options;
  if (draft.kind === 'compensatable' && !o.compensate)
    return [
      'a compensatable step needs "compensate"; if it cannot be undone, make it the pivot or a retriable step after the pivot.',
    ];
  if (draft.kind === 'compensatable' && pivotSeen)
    return ['compensatable steps must come before the pivot; move it up or make it retriable.'];
  if (draft.kind === 'pivot' && pivotSeen) return ['a saga has at most one pivot.'];
  if (draft.kind === 'retriable' && !pivotSeen)
    return [
      'retriable steps come after the pivot; add a pivot before it or make it compensatable.',
    ];
  if (draft.kind !== 'compensatable' && o.compensate)
    return [
      `a ${draft.kind} step cannot be compensated; remove "compensate", or make it a compensatable step before the pivot.`,
    ];
  return [];
}

function shapeProblems(draft: StepDraft): string[] {
  const o = draft.options;
  if (draft.kind === 'local')
    return typeof draft.transform === 'function'
      ? []
      : ['a local step needs a function of the saga data.'];
  const problems: string[] = [];
  if (typeof o.command?.type !== 'string')
    problems.push('"command" must be made with defineCommand().');
  if (typeof o.payload !== 'function')
    problems.push('"payload" must be a function of the saga data.');
  if (o.onReply !== undefined && typeof o.onReply !== 'function')
    problems.push('"onReply" must be a function (data, reply) => data.');
  if (o.when !== undefined && typeof o.when !== 'function')
    problems.push('"when" must be a function of the saga data returning a boolean.');
  // A skipped pivot would let the irreversible steps after it run while the saga could still
  // compensate: the point of no return must always be passed for real.
  if (draft.kind === 'pivot' && o.when !== undefined)
    problems.push(
      'a pivot cannot have "when": the point of no return is always taken; make the condition part of an earlier step or split the saga.',
    );
  if (o.compensate && typeof o.compensate.command?.type !== 'string')
    problems.push('"compensate.command" must be made with defineCommand().');
  if (o.compensate && typeof o.compensate.payload !== 'function')
    problems.push('"compensate.payload" must be a function (data, log) => payload.');
  const undoReply = (o.compensate?.command as { reply?: StandardSchemaV1 } | undefined)?.reply;
  if (undoReply && !validate(undoReply, {}).ok) {
    problems.push(
      `the reply schema of ${o.compensate!.command!.type} must accept {}: participants answer {} when there was nothing to undo.`,
    );
  }
  return problems;
}

function policyProblems(draft: StepDraft): string[] {
  const o = draft.options;
  const problems = [
    ...durationProblems('timeout', o.timeout, ''),
    ...retryProblems('retry', o.retry),
    ...durationProblems('compensate.timeout', o.compensate?.timeout, ''),
    ...retryProblems('compensate.retry', o.compensate?.retry),
  ];
  if (o.onTimeout !== undefined && !TIMEOUT_ACTIONS.includes(o.onTimeout))
    problems.push(
      `onTimeout must be one of ${TIMEOUT_ACTIONS.join(', ')}, got "${String(o.onTimeout)}".`,
    );
  if (o.onTimeout !== undefined && o.timeout === undefined)
    problems.push('"onTimeout" has no effect without "timeout"; add a timeout such as "30s".');
  if (o.onTimeout === 'compensate' && draft.kind === 'retriable')
    problems.push('onTimeout "compensate" is impossible after the pivot; use "retry" or "park".');
  return problems;
}

function retryProblems(label: string, retry: RetryOptions | undefined): string[] {
  if (retry === undefined) return [];
  const problems: string[] = [];
  if (
    retry.maxAttempts !== undefined &&
    (!Number.isInteger(retry.maxAttempts) || retry.maxAttempts < 1)
  )
    problems.push(
      `${label}.maxAttempts must be a positive integer, got ${String(retry.maxAttempts)}.`,
    );
  if (retry.multiplier !== undefined && !(retry.multiplier >= 1))
    problems.push(`${label}.multiplier must be at least 1, got ${String(retry.multiplier)}.`);
  if (retry.jitter !== undefined && !(retry.jitter >= 0 && retry.jitter <= 1))
    problems.push(`${label}.jitter must be between 0 and 1, got ${String(retry.jitter)}.`);
  problems.push(
    ...durationProblems(`${label}.initialDelay`, retry.initialDelay, ''),
    ...durationProblems(`${label}.maxDelay`, retry.maxDelay, ''),
  );
  const both = (retry.retryOn ?? []).filter((t) => (retry.neverRetryOn ?? []).includes(t));
  if (both.length > 0)
    problems.push(
      `${label}: ${both.join(', ')} in both retryOn and neverRetryOn; keep each type in one list.`,
    );
  return problems;
}

function durationProblems(label: string, value: Duration | undefined, owner: string): string[] {
  if (value === undefined) return [];
  const parsed = toMs(value, `${owner ? `${owner} ` : ''}${label}`);
  if (!parsed.ok) return [parsed.problem];
  return parsed.ms === 0 && (label.endsWith('timeout') || label === 'deadline')
    ? [`${label} must be longer than 0.`]
    : [];
}

function sensitiveProblems(fields: readonly string[] | undefined): string[] {
  if (fields === undefined) return [];
  if (!Array.isArray(fields)) return ['sensitive must be an array of field names'];
  return fields
    .filter((f) => typeof f !== 'string' || !/^[A-Za-z_$][\w$-]*$/.test(f))
    .map(
      (f) =>
        `sensitive field ${JSON.stringify(f)} is not a field name: use a plain property name such as "cardNumber" (it matches at any depth)`,
    );
}
