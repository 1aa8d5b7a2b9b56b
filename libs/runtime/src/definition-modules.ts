import { resolve } from 'node:path';
import { SagaDefinition } from '@sagaflow/saga-dsl';
import { InvalidDefinitionModuleError } from './runtime-errors';

/** Loads a module by absolute path; Node's `require` by default (it also loads ES modules from Node 20.19). */
export type ModuleLoader = (absolutePath: string) => unknown;

/**
 * The saga definitions a deployment runs: those exported by the modules `SAGAFLOW_DEFINITIONS`
 * names, or `fallback` (the sample order saga) when it names none. Both apps load the same
 * list, so the admin API starts and validates exactly the sagas the orchestrator runs.
 *
 * Each module exports `definitions` (or a default export): an array of built saga definitions.
 * Anything else stops the process at startup with a message naming the module, never later
 * with a saga parked for an unknown type.
 *
 * @example
 * // SAGAFLOW_DEFINITIONS=dist/sagas/billing.js,dist/sagas/shipping.js
 * const registry = new DefinitionRegistry(loadDefinitionModules(config.definitionModules, sampleDefinitions));
 */
export function loadDefinitionModules(
  paths: readonly string[],
  fallback: readonly SagaDefinition[],
  load: ModuleLoader = require,
  cwd: string = process.cwd(),
): SagaDefinition[] {
  if (paths.length === 0) return [...fallback];
  return paths.flatMap((path) => definitionsOf(path, loadModule(path, resolve(cwd, path), load)));
}

function loadModule(path: string, absolutePath: string, load: ModuleLoader): unknown {
  try {
    return load(absolutePath);
  } catch (error) {
    throw new InvalidDefinitionModuleError(
      path,
      `could not be loaded (${error instanceof Error ? error.message.split('\n')[0] : String(error)})`,
    );
  }
}

function definitionsOf(path: string, exported: unknown): SagaDefinition[] {
  const exports = (exported ?? {}) as { definitions?: unknown; default?: unknown };
  const list = exports.definitions ?? exports.default;
  if (!Array.isArray(list))
    throw new InvalidDefinitionModuleError(path, 'exports no `definitions` array');
  if (list.length === 0)
    throw new InvalidDefinitionModuleError(path, 'exports an empty `definitions` array');
  list.forEach((item: unknown, i) => {
    if (!isSagaDefinition(item))
      throw new InvalidDefinitionModuleError(
        path,
        `exports definitions[${i}], which is not a built saga definition (call .build() on defineSaga(...))`,
      );
  });
  return list as SagaDefinition[];
}

/** Shape, not class: a module built against its own copy of the DSL is still accepted. */
function isSagaDefinition(value: unknown): value is SagaDefinition {
  const compiled = (value as { compiled?: { name?: unknown; version?: unknown; steps?: unknown } })
    ?.compiled;
  return (
    typeof compiled === 'object' &&
    compiled !== null &&
    typeof compiled.name === 'string' &&
    typeof compiled.version === 'number' &&
    Array.isArray(compiled.steps) &&
    Array.isArray((value as { steps?: unknown }).steps)
  );
}
