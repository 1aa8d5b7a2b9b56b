import { ApiError } from '../errors/api-error';

/**
 * `If-Match` carries the instance version an operator last saw (`"7"`, `7` or `W/"7"`, as the
 * `ETag` of `GET /sagas/:id` and of every action's response gives it).
 */
export function expectedVersion(header: string | undefined): number | undefined {
  if (header === undefined || header.trim() === '' || header.trim() === '*') return undefined;
  const match = /^(?:W\/)?"?(\d{1,9})"?$/.exec(header.trim());
  if (!match || Number(match[1]) < 1)
    throw new ApiError('VALIDATION_FAILED', 'If-Match must be a saga version such as "7"', [
      { field: 'If-Match', messages: ['use the ETag of the saga, e.g. "7"'] },
    ]);
  return Number(match[1]);
}

export function etagOf(version: number): string {
  return `"${version}"`;
}
