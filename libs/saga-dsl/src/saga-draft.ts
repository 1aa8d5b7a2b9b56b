import { SagaDefinition, StepKind } from './compiled-saga';
import { SagaDefinitionError } from './definition-error';
import { findProblems } from './definition-checks';
import { Duration } from './duration';
import { RetryOptions, TimeoutAction } from './retry-options';
import { compileSaga } from './saga-compiler';
import { StandardSchemaV1 } from './standard-schema';

type Fn = (...args: never[]) => unknown;

/** Step options as the untyped implementation sees them (the public interfaces type them). */
export interface RawStepOptions {
  readonly command?: { readonly type: string; readonly topic: string } & object;
  readonly payload?: Fn;
  readonly onReply?: Fn;
  readonly timeout?: Duration;
  readonly onTimeout?: TimeoutAction;
  readonly retry?: RetryOptions;
  readonly when?: Fn;
  readonly compensate?: {
    readonly command?: { readonly type: string; readonly topic: string } & object;
    readonly payload?: Fn;
    readonly retry?: RetryOptions;
    readonly timeout?: Duration;
  };
}

export interface StepDraft {
  readonly name: string;
  readonly kind: StepKind;
  readonly options: RawStepOptions;
  readonly transform?: Fn;
}

export interface StageDraft {
  readonly name: string;
  readonly parallel: boolean;
  readonly steps: readonly StepDraft[];
}

/** `startOn` as the untyped implementation sees it (SagaOptions types it). */
export interface RawStartOn {
  readonly topic?: string;
  readonly event?: StandardSchemaV1;
  readonly eventId?: Fn;
  readonly input?: Fn;
  readonly businessKey?: Fn;
}

export interface SagaDraftOptions {
  readonly name: string;
  readonly version: number;
  readonly input: StandardSchemaV1;
  readonly deadline?: Duration;
  readonly startOn?: RawStartOn;
  readonly sensitive?: readonly string[];
}

/**
 * The one untyped implementation behind SagaBuilder and AfterPivotBuilder (the interfaces
 * carry the type-state). Immutable: every call returns a new draft.
 */
export class SagaDraft {
  private constructor(
    private readonly options: SagaDraftOptions,
    private readonly stages: readonly StageDraft[],
  ) {}

  static start(options: SagaDraftOptions): SagaDraft {
    return new SagaDraft(options, []);
  }

  step(name: string, options: RawStepOptions): SagaDraft {
    return this.single({ name, kind: 'compensatable', options });
  }

  pivot(name: string, options: RawStepOptions): SagaDraft {
    return this.single({ name, kind: 'pivot', options });
  }

  retriable(name: string, options: RawStepOptions): SagaDraft {
    return this.single({ name, kind: 'retriable', options });
  }

  notify(name: string, options: RawStepOptions): SagaDraft {
    return this.single({ name, kind: 'notification', options });
  }

  local(name: string, transform: Fn): SagaDraft {
    return this.single({ name, kind: 'local', options: {}, transform });
  }

  parallel(name: string, build: (group: GroupDraft) => GroupDraft): SagaDraft {
    const group = typeof build === 'function' ? build(new GroupDraft([])) : new GroupDraft([]);
    return new SagaDraft(this.options, [
      ...this.stages,
      { name, parallel: true, steps: group.members },
    ]);
  }

  build(): SagaDefinition {
    const problems = findProblems(this.options, this.stages);
    if (problems.length > 0) throw new SagaDefinitionError(this.options.name, problems);
    return compileSaga(this.options, this.stages);
  }

  private single(step: StepDraft): SagaDraft {
    return new SagaDraft(this.options, [
      ...this.stages,
      { name: step.name, parallel: false, steps: [step] },
    ]);
  }
}

/** Collects the members of a parallel group. */
export class GroupDraft {
  constructor(readonly members: readonly StepDraft[]) {}

  step(name: string, options: RawStepOptions): GroupDraft {
    return new GroupDraft([...this.members, { name, kind: 'compensatable', options }]);
  }

  retriable(name: string, options: RawStepOptions): GroupDraft {
    return new GroupDraft([...this.members, { name, kind: 'retriable', options }]);
  }
}
