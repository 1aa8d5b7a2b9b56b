import { defineCommand, defineSaga, RetryOptions, SagaDefinition } from '@sagaflow/saga-dsl';
import { z } from 'zod';
import { RetryShape, SagaShape, StageShape, StepShape } from './shape';

/** The saga data: the input, plus one field per completed step (the reply's id, or `local`). */
export type SimData = { readonly order: string; readonly skip: readonly string[] } & Readonly<
  Record<string, unknown>
>;

export const SimInput = z.object({ order: z.string(), skip: z.array(z.string()) });

export const Forward = defineCommand({
  type: 'sim.forward',
  topic: 'sim.commands',
  payload: z.object({ step: z.string(), order: z.string() }),
  reply: z.object({ id: z.string() }),
});
export const Undo = defineCommand({
  type: 'sim.undo',
  topic: 'sim.commands',
  payload: z.object({ step: z.string(), id: z.string().optional() }),
  reply: z.object({ undone: z.boolean().optional() }),
});
export const Notice = defineCommand({
  type: 'sim.notice',
  topic: 'sim.notices',
  payload: z.object({ step: z.string() }),
  reply: z.object({}),
});

/** Reply data each schema accepts, and data none of them does. */
export const VALID_FORWARD_REPLY = (id: string) => ({ id });
export const VALID_UNDO_REPLY = { undone: true };
export const MALFORMED_FORWARD_REPLY = { id: 42 };
export const MALFORMED_UNDO_REPLY = { undone: 'yes' };
/** Not an object: refused by every reply schema, accepted where there is none (local steps). */
export const MALFORMED_SKIP_DATA = 'not-an-object';

/*
 * The builder is type-state for authors; a generated definition is assembled at run time, so it
 * is driven through this structural view. `build()` still runs every check of the DSL.
 */
interface Chain {
  step(name: string, options: object): Chain;
  pivot(name: string, options: object): Chain;
  retriable(name: string, options: object): Chain;
  parallel(name: string, group: (g: Group) => Group): Chain;
  local(name: string, transform: (data: SimData) => SimData): Chain;
  notify(name: string, options: object): Chain;
  build(): SagaDefinition;
}
interface Group {
  step(name: string, options: object): Group;
  retriable(name: string, options: object): Group;
}

/** Builds the shape through the real DSL (`defineSaga` … `build()`), with trivial zod schemas. */
export function buildSaga(shape: SagaShape, name = 'sim'): SagaDefinition {
  let chain = defineSaga({
    name,
    version: 1,
    input: SimInput,
    ...(shape.deadlineMs === null ? {} : { deadline: shape.deadlineMs }),
  }) as unknown as Chain;
  for (const stage of shape.stages) chain = addStage(chain, stage);
  return chain.build();
}

function addStage(chain: Chain, stage: StageShape): Chain {
  if (stage.parallel)
    return chain.parallel(stage.name, (group) =>
      stage.steps.reduce(
        (g, step) =>
          step.kind === 'retriable'
            ? g.retriable(step.name, forwardOptions(step, stage))
            : g.step(step.name, forwardOptions(step, stage)),
        group,
      ),
    );
  const step = stage.steps[0]!;
  switch (step.kind) {
    case 'compensatable':
      return chain.step(step.name, forwardOptions(step));
    case 'pivot':
      return chain.pivot(step.name, forwardOptions(step));
    case 'retriable':
      return chain.retriable(step.name, forwardOptions(step));
    case 'notification':
      return chain.notify(step.name, {
        command: Notice,
        payload: payload(step, () => ({ step: step.name })),
        ...condition(step),
      });
    case 'local':
      return chain.local(step.name, (data) =>
        step.fault === 'local' ? bug('local step') : { ...data, [step.name]: 'local' },
      );
  }
}

const bug = (what: string): never => {
  throw new Error(`${what} bug`);
};

/** The payload function, or its fault: it throws, or builds a payload its schema refuses. */
function payload(
  step: StepShape,
  build: (data: SimData) => object,
  stage?: StageShape,
): (data: SimData) => object {
  if (step.fault === 'payload') return () => bug('payload');
  if (step.fault === 'invalidPayload') return (data) => ({ ...build(data), step: 42 });
  if (step.fault === 'payloadAfterSibling') {
    const siblings = (stage?.steps ?? []).filter((s) => s !== step).map((s) => s.name);
    return (data) => (siblings.some((n) => n in data) ? bug('payload') : build(data));
  }
  return build;
}

function forwardOptions(step: StepShape, stage?: StageShape): object {
  return {
    command: Forward,
    payload: payload(step, (data) => ({ step: step.name, order: data.order }), stage),
    onReply: (data: SimData, reply: { id: string }) =>
      step.fault === 'onReply' && reply.id.startsWith('bad')
        ? bug('onReply')
        : { ...data, [step.name]: reply.id },
    ...(step.timeoutMs === null ? {} : { timeout: step.timeoutMs }),
    ...(step.onTimeout === null ? {} : { onTimeout: step.onTimeout }),
    ...(step.retry === null ? {} : { retry: retryOptions(step.retry) }),
    ...condition(step),
    ...(step.compensation
      ? {
          compensate: {
            command: Undo,
            payload: (_data: SimData, log: { id: string } | undefined) =>
              step.fault === 'compensationPayload'
                ? bug('compensation payload')
                : { step: step.fault === 'invalidCompensation' ? 42 : step.name, id: log?.id },
            ...(step.compensation.timeoutMs === null
              ? {}
              : { timeout: step.compensation.timeoutMs }),
            ...(step.compensation.retry === null
              ? {}
              : { retry: retryOptions(step.compensation.retry) }),
          },
        }
      : {}),
  };
}

function condition(step: StepShape): object {
  if (!step.conditional) return {};
  return {
    when: (data: SimData) =>
      step.fault === 'condition' ? bug('condition') : !data.skip.includes(step.name),
  };
}

function retryOptions(retry: RetryShape): RetryOptions {
  return {
    maxAttempts: retry.maxAttempts,
    initialDelay: retry.initialDelayMs,
    multiplier: retry.multiplier,
    maxDelay: retry.maxDelayMs,
    jitter: retry.jitter,
    retryOn: retry.retryOn,
    neverRetryOn: retry.neverRetryOn,
  };
}
