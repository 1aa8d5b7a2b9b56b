import { generateApiKey, hashSecret, parseApiKey, secretMatches } from './api-key-secret';

describe('API key secrets', () => {
  it('generates sfk_<id>_<secret> keys whose hash is all that needs storing', () => {
    const { id, key, secretHash } = generateApiKey();
    expect(key).toMatch(/^sfk_[0-9a-f]{16}_[0-9a-f]{64}$/);
    const parsed = parseApiKey(key)!;
    expect(parsed.id).toBe(id);
    expect(secretHash).toBe(hashSecret(parsed.secret));
    expect(secretHash).not.toContain(parsed.secret);
    expect(secretMatches(parsed.secret, secretHash)).toBe(true);
    expect(secretMatches('0'.repeat(64), secretHash)).toBe(false);
  });

  it('never generates the same key twice', () => {
    const keys = new Set(Array.from({ length: 200 }, () => generateApiKey().key));
    expect(keys.size).toBe(200);
  });

  it.each([
    '',
    'sfk_',
    `sfk_${'a'.repeat(16)}`,
    `sfk_${'A'.repeat(16)}_${'b'.repeat(64)}`,
    `sfk_${'a'.repeat(16)}_${'b'.repeat(63)}`,
    `xfk_${'a'.repeat(16)}_${'b'.repeat(64)}`,
    ` sfk_${'a'.repeat(16)}_${'b'.repeat(64)}`,
  ])('rejects the malformed key %j', (key) => {
    expect(parseApiKey(key)).toBeNull();
  });

  it('compares against a damaged stored hash without throwing', () => {
    expect(secretMatches('abc', 'not-hex')).toBe(false);
  });
});
