import { DefinitionRegistry } from '@sagaflow/runtime';
import { SagaDefinition } from '@sagaflow/saga-dsl';
import { Request } from 'express';
import { roleAtLeast } from '../auth/principal';

/**
 * The payload fields to hide from this caller: the definition's sensitive fields for a viewer,
 * none for an operator or admin. Fail closed: a request without a principal (it should never
 * get this far) is treated as a viewer. A saga whose definition this build does not have is
 * redacted with every sensitive field any registered definition declares.
 */
export function redactedFieldsFor(
  req: Request,
  registry: DefinitionRegistry,
  definition?: SagaDefinition,
): readonly string[] {
  if (req.principal && roleAtLeast(req.principal.role, 'operator')) return [];
  return definition ? (definition.compiled.sensitive ?? []) : allSensitiveFields(registry);
}

/** Every sensitive field name of every registered definition. */
export function allSensitiveFields(registry: DefinitionRegistry): readonly string[] {
  return [...new Set(registry.all().flatMap((d) => d.compiled.sensitive ?? []))];
}
