import { Request } from 'express';

/** What the caller presented: nothing, an API key, a JWT, or something unusable. */
export type Credentials =
  | { kind: 'none' }
  | { kind: 'api-key'; key: string }
  | { kind: 'jwt'; token: string }
  | { kind: 'unusable'; message: string };

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/**
 * Reads `Authorization: Bearer <key or JWT>` and `X-API-Key: <key>`. Both may be sent only
 * with the same value: two different credentials would make "who is this" ambiguous.
 */
export function readCredentials(req: Request): Credentials {
  const authorization = single(req.headers.authorization);
  const apiKey = single(req.headers['x-api-key'])?.trim();
  let bearer: string | undefined;
  if (authorization !== undefined) {
    const match = /^Bearer[ ]+(\S+)\s*$/i.exec(authorization);
    if (!match) {
      return {
        kind: 'unusable',
        message: 'the Authorization header must be "Bearer <API key or token>"',
      };
    }
    bearer = match[1];
  }
  if (bearer && apiKey && bearer !== apiKey) {
    return { kind: 'unusable', message: 'send one credential: Authorization and X-API-Key differ' };
  }
  const credential = bearer ?? apiKey;
  if (!credential) return { kind: 'none' };
  if (credential.startsWith('sfk_')) return { kind: 'api-key', key: credential };
  if (bearer && JWT_SHAPE.test(credential)) return { kind: 'jwt', token: credential };
  return { kind: 'unusable', message: 'the credential is neither an API key (sfk_...) nor a JWT' };
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
