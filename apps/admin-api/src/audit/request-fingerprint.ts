import { createHash } from 'node:crypto';
import { Request } from 'express';
import stringify from 'safe-stable-stringify';

/**
 * A hash of what a request asks for (method, route, path parameters, query, body; keys sorted),
 * stored with an idempotent call so a repeated Idempotency-Key can be told apart: same
 * fingerprint → replay the first response; different → 409 IDEMPOTENCY_KEY_REUSED.
 *
 * @example
 * const replay = await audit.findReplay(sql, req.principal!.id, key);
 * if (replay && replay.fingerprint !== requestFingerprint(req)) throw new ApiError('IDEMPOTENCY_KEY_REUSED', …);
 */
export function requestFingerprint(req: Request): string {
  const routePath: unknown = (req.route as { path?: unknown } | undefined)?.path;
  const what = stringify({
    method: req.method,
    route: typeof routePath === 'string' ? routePath : req.path,
    params: req.params ?? {},
    query: req.query ?? {},
    body: req.body ?? null,
  });
  return createHash('sha256')
    .update(what ?? '', 'utf8')
    .digest('hex');
}
