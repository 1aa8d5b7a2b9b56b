import { Duration, toMs } from './index';

describe('toMs', () => {
  it.each<[Duration, number]>([
    [0, 0],
    [1500, 1500],
    [2.4, 2],
    ['250ms', 250],
    ['30s', 30_000],
    ['1.5s', 1500],
    ['5m', 300_000],
    ['2h', 7_200_000],
    ['1d', 86_400_000],
  ])('converts %p to %p ms', (value, ms) => {
    expect(toMs(value, 'timeout')).toEqual({ ok: true, ms });
  });

  it.each(['soon', '5x', '-1s', -1, Number.NaN, Number.POSITIVE_INFINITY])(
    'refuses %p, naming what it is',
    (value) => {
      expect(toMs(value as Duration, 'step "a": timeout')).toEqual({
        ok: false,
        problem: `step "a": timeout "${String(value)}" is not a duration: use milliseconds or a string such as "30s" or "5m".`,
      });
    },
  );
});
