import { Sql } from '@sagaflow/persistence';
import { createKey, revokeKey, UsageError } from './admin-key-commands';

// A store that fails the test if touched: usage errors must come before any write.
const untouchable: Sql = {
  rows: () => Promise.reject(new Error('the store was touched')),
  exec: () => Promise.reject(new Error('the store was touched')),
};

describe('admin-key commands', () => {
  it.each([
    [{ name: undefined, role: 'admin' }, '--name is required'],
    [{ name: 'x'.repeat(101), role: 'admin' }, '--name is required'],
    [{ name: 'ci', role: 'root' }, '--role must be one of viewer, operator, admin'],
    [{ name: 'ci', role: undefined }, '--role must be one of'],
  ])('refuses create %j before writing', async (input, message) => {
    const run = createKey(untouchable, { ...input, reason: undefined, operator: 'cli:test' });
    await expect(run).rejects.toBeInstanceOf(UsageError);
    await expect(run).rejects.toThrow(message);
  });

  it.each([undefined, 'abc', 'G'.repeat(16)])('refuses revoke %j before writing', async (id) => {
    await expect(
      revokeKey(untouchable, { id, reason: undefined, operator: 'cli:test' }),
    ).rejects.toBeInstanceOf(UsageError);
  });
});
