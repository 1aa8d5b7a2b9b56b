import { Request } from 'express';
import { readCredentials } from './credentials';

const KEY = `sfk_${'a'.repeat(16)}_${'b'.repeat(64)}`;
const JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln';
const req = (headers: Record<string, string | string[]>) => ({ headers }) as unknown as Request;

describe('readCredentials', () => {
  it('reads an API key from either header, and a JWT from Authorization', () => {
    expect(readCredentials(req({}))).toEqual({ kind: 'none' });
    expect(readCredentials(req({ 'x-api-key': KEY }))).toEqual({ kind: 'api-key', key: KEY });
    expect(readCredentials(req({ authorization: `Bearer ${KEY}` }))).toEqual({
      kind: 'api-key',
      key: KEY,
    });
    expect(readCredentials(req({ authorization: `bearer   ${JWT}` }))).toEqual({
      kind: 'jwt',
      token: JWT,
    });
    expect(readCredentials(req({ authorization: `Bearer ${KEY}`, 'x-api-key': KEY }))).toEqual({
      kind: 'api-key',
      key: KEY,
    });
  });

  it.each([
    [{ authorization: 'Basic dXNlcjpwYXNz' }, 'must be "Bearer'],
    [{ authorization: 'Bearer' }, 'must be "Bearer'],
    [{ authorization: `Bearer ${KEY}`, 'x-api-key': `${KEY}x` }, 'send one credential'],
    [{ 'x-api-key': JWT }, 'neither'],
    [{ authorization: 'Bearer hunter2' }, 'neither'],
  ])('refuses %j', (headers, message) => {
    const result = readCredentials(req(headers));
    expect(result).toMatchObject({ kind: 'unusable', message: expect.stringContaining(message) });
  });
});
