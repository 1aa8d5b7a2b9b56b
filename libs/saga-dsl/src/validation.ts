import { StandardIssue, StandardSchemaV1 } from './standard-schema';

/** One problem with one field; `path` is dotted (`items.0.sku`), empty for the root. */
export interface FieldError {
  readonly path: string;
  readonly message: string;
}

export type ValidationResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly errors: readonly FieldError[] };

/**
 * Runs a Standard Schema synchronously. The engine core is pure and synchronous,
 * so a schema with async refinements is reported as an error instead of awaited.
 *
 * @example
 * const result = validate(z.object({ amount: z.number() }), { amount: 'x' });
 * if (!result.ok) console.log(result.errors); // [{ path: 'amount', message: '…' }]
 */
export function validate<T>(
  schema: StandardSchemaV1<unknown, T>,
  value: unknown,
): ValidationResult<T> {
  const result = schema['~standard'].validate(value);
  if (result instanceof Promise) {
    return {
      ok: false,
      errors: [{ path: '', message: 'async schemas are not supported: remove async refinements' }],
    };
  }
  if (result.issues) return { ok: false, errors: result.issues.map(toFieldError) };
  return { ok: true, value: result.value };
}

function toFieldError(issue: StandardIssue): FieldError {
  const path = (issue.path ?? [])
    .map((segment) => (typeof segment === 'object' ? segment.key : segment))
    .map(String)
    .join('.');
  return { path, message: issue.message };
}
