import { timed } from './probe';

describe('timed', () => {
  it('is up when the work resolves in time', async () => {
    await expect(timed(async () => 'ok', 100)).resolves.toEqual({
      status: 'up',
      latencyMs: expect.any(Number),
    });
  });

  it('is down with the error when the work fails, and never rejects', async () => {
    await expect(timed(() => Promise.reject(new Error('ECONNREFUSED')), 100)).resolves.toEqual({
      status: 'down',
      latencyMs: expect.any(Number),
      error: 'ECONNREFUSED',
    });
    await expect(
      timed(() => {
        throw new Error('sync');
      }, 100),
    ).resolves.toMatchObject({ status: 'down', error: 'sync' });
  });

  it('is down when the work takes longer than the bound', async () => {
    const result = await timed(() => new Promise((r) => setTimeout(r, 500)), 20);
    expect(result).toMatchObject({ status: 'down', error: 'timed out after 20 ms' });
    expect(result.latencyMs).toBeLessThan(400);
  });
});
