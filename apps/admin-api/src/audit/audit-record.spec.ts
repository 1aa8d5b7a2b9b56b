import { outcomeOf } from './audit-record';

describe('outcomeOf', () => {
  it.each([
    [200, 'applied'],
    [201, 'applied'],
    [401, 'denied'],
    [403, 'denied'],
    [429, 'denied'],
    [400, 'rejected'],
    [404, 'rejected'],
    [409, 'rejected'],
    [413, 'rejected'],
    [500, 'failed'],
    [503, 'failed'],
  ])('%i → %s', (status, outcome) => {
    expect(outcomeOf(status)).toBe(outcome);
  });
});
