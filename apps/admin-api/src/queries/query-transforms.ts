import { TransformFnParams } from 'class-transformer';

/**
 * Query strings arrive as strings, or arrays of strings when a parameter is repeated.
 * `status=running,failed` and `status=running&status=failed` mean the same list.
 */
export function commaSeparated({ value }: TransformFnParams): unknown {
  const parts = (Array.isArray(value) ? value : [value]).flatMap((v) =>
    typeof v === 'string' ? v.split(',').map((s) => s.trim()) : [v],
  );
  return parts;
}

/** A number parameter: `"50"` → 50; anything that is not a plain decimal stays as it was (and fails validation). */
export function decimalNumber({ value }: TransformFnParams): unknown {
  return typeof value === 'string' && /^-?\d{1,15}$/.test(value) ? Number(value) : value;
}
