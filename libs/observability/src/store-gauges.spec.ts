import { sharedPerScrape } from './store-gauges';

describe('sharedPerScrape', () => {
  it('shares one read between the gauges of a scrape, and reads again for the next one', async () => {
    let reads = 0;
    const read = sharedPerScrape(async () => ++reads, 30);
    expect(await Promise.all([read(), read(), read()])).toEqual([1, 1, 1]);
    await new Promise((r) => setTimeout(r, 40));
    expect(await read()).toBe(2);
  });

  it('does not keep a failed read', async () => {
    let calls = 0;
    const read = sharedPerScrape(async () => {
      calls++;
      if (calls === 1) throw new Error('store away');
      return calls;
    }, 10_000);
    await expect(read()).rejects.toThrow('store away');
    await new Promise((r) => setImmediate(r));
    expect(await read()).toBe(2);
  });
});
