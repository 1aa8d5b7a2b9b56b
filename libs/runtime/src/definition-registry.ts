import { SagaDefinition } from '@sagaflow/saga-dsl';
import { DuplicateDefinitionError, UnknownSagaTypeError } from './runtime-errors';

/** The definitions a process can run, by name and version; new starts use the latest version. */
export class DefinitionRegistry {
  private readonly byKey = new Map<string, SagaDefinition>();
  private readonly latestByName = new Map<string, SagaDefinition>();

  constructor(definitions: readonly SagaDefinition[]) {
    for (const definition of definitions) {
      const { name, version } = definition.compiled;
      if (this.byKey.has(key(name, version))) throw new DuplicateDefinitionError(name, version);
      this.byKey.set(key(name, version), definition);
      const latest = this.latestByName.get(name);
      if (!latest || latest.compiled.version < version) this.latestByName.set(name, definition);
    }
  }

  all(): readonly SagaDefinition[] {
    return [...this.byKey.values()];
  }

  /** The exact version an instance started with, or undefined (the caller parks the message). */
  find(name: string, version: number): SagaDefinition | undefined {
    return this.byKey.get(key(name, version));
  }

  latest(name: string): SagaDefinition {
    const found = this.latestByName.get(name);
    if (!found) throw new UnknownSagaTypeError(name, [...this.latestByName.keys()]);
    return found;
  }

  /** Every command topic the definitions send to (unprefixed). */
  commandTopics(): string[] {
    const refs = this.all().flatMap((d) =>
      d.compiled.steps.flatMap((s) => [s.command, s.compensation]),
    );
    return [...new Set(refs.flatMap((ref) => (ref ? [ref.topic] : [])))];
  }
}

function key(name: string, version: number): string {
  return `${name}@${version}`;
}
