import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** `sfk_<16 hex id>_<64 hex secret>`: the id finds the row, the secret proves possession. */
const KEY_PATTERN = /^sfk_([0-9a-f]{16})_([0-9a-f]{64})$/;

export interface NewApiKeySecret {
  readonly id: string;
  /** The raw key, shown once to whoever created it. */
  readonly key: string;
  readonly secretHash: string;
}

/** A new key: 64 random bits of id, 256 random bits of secret. */
export function generateApiKey(): NewApiKeySecret {
  const id = randomBytes(8).toString('hex');
  const secret = randomBytes(32).toString('hex');
  return { id, key: `sfk_${id}_${secret}`, secretHash: hashSecret(secret) };
}

/** The id and secret of a well-formed key, or null. */
export function parseApiKey(key: string): { id: string; secret: string } | null {
  const match = KEY_PATTERN.exec(key);
  return match ? { id: match[1]!, secret: match[2]! } : null;
}

/**
 * SHA-256, not a slow password hash: the secret is 256 uniformly random bits, so there is no
 * dictionary to try, and every request verifies a key, so the check must be cheap.
 */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** Compares in constant time, so response timing reveals nothing about the stored hash. */
export function secretMatches(secret: string, storedHash: string): boolean {
  const actual = Buffer.from(hashSecret(secret), 'hex');
  const expected = Buffer.from(storedHash, 'hex');
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
