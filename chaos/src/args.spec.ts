import { parseArgs } from './args';
import { drawSchedule } from './nemesis/schedule';
import { PROFILES } from './profiles';
import { Rng } from './random';

const pgOutages = (argv: string[]) => {
  const { profile } = parseArgs(argv);
  return drawSchedule(new Rng(42), profile.nemesis, 60_000).filter((e) => e.kind === 'pg-cut');
};

describe('chaos command line', () => {
  it('cuts the run’s database by default, and restarts the whole server with --pg-restart', () => {
    expect(pgOutages(['--profile', 'smoke'])).toEqual([
      expect.objectContaining({ kind: 'pg-cut', mode: 'cut', ms: PROFILES.smoke.nemesis.pgCutMs }),
    ]);
    const restarts = pgOutages(['--profile', 'long', '--scale', '0.2', '--pg-restart']);
    expect(restarts.length).toBeGreaterThan(0);
    expect(restarts.every((e) => e.kind === 'pg-cut' && e.mode === 'restart')).toBe(true);
  });

  it('deletes the run’s Redis keys by default, and restarts the whole server with --redis-restart', () => {
    const outages = (argv: string[]) =>
      drawSchedule(new Rng(42), parseArgs(argv).profile.nemesis, 60_000).filter(
        (e) => e.kind === 'redis-flush',
      );
    expect(outages(['--profile', 'smoke']).map((e) => e.kind === 'redis-flush' && e.mode)).toEqual([
      'flush',
      'flush',
    ]);
    const restarts = outages(['--profile', 'smoke', '--redis-restart', '--pg-restart']);
    expect(restarts.map((e) => e.kind === 'redis-flush' && e.mode)).toEqual(['restart', 'restart']);
    // The same seed draws the same schedule either way: only how the outage is made differs.
    expect(restarts.map((e) => e.at)).toEqual(outages(['--profile', 'smoke']).map((e) => e.at));
  });

  it('keeps the profile’s counts and takes --scale, --sagas and --rate', () => {
    const { profile, seed } = parseArgs(['--profile', 'long', '--scale', '0.1', '--seed', '7']);
    expect(profile.sagas).toBe(2000);
    expect(seed).toBe(7);
    expect(parseArgs(['--sagas', '60', '--rate', '2']).profile).toMatchObject({
      sagas: 60,
      startsPerSecond: 2,
    });
  });

  it('refuses what it does not know, with the usage', () => {
    expect(() => parseArgs(['--pg-reboot'])).toThrow(/unknown option --pg-reboot\nusage:/);
    expect(() => parseArgs(['--profile', 'soak'])).toThrow(/--profile must be smoke or long/);
    expect(() => parseArgs(['--scale', '-1'])).toThrow(/--scale must be a positive number/);
  });
});
