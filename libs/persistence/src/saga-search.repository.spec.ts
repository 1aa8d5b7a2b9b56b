import { sagaSearchClauses, SqlParams } from './saga-search.repository';

describe('sagaSearchClauses', () => {
  it('builds no clause for no filter', () => {
    expect(sagaSearchClauses({}, new SqlParams())).toEqual([]);
  });

  it('passes every value as a parameter, never in the SQL text', () => {
    const params = new SqlParams();
    const hostile = "x'; DROP TABLE saga_instance; --";
    const clauses = sagaSearchClauses(
      {
        sagaType: hostile,
        sagaVersion: 3,
        statuses: ['running'],
        steps: [{ sagaType: hostile, sagaVersion: 3, index: 2 }],
        businessKey: hostile,
        createdFrom: new Date(0),
        updatedTo: new Date(1),
        stuckForMs: 60_000,
        pastDeadline: true,
      },
      params,
    );
    expect(clauses.join(' ')).not.toContain('DROP');
    expect(params.values).toEqual([
      hostile,
      3,
      ['running'],
      hostile,
      3,
      2,
      hostile,
      3,
      2,
      hostile,
      new Date(0),
      new Date(1),
      60_000,
    ]);
  });

  it('matches nothing for an empty step list', () => {
    expect(sagaSearchClauses({ steps: [] }, new SqlParams())).toEqual(['false']);
  });

  it('limits stuck and past-deadline sagas to active ones', () => {
    const clauses = sagaSearchClauses({ stuckForMs: 1000, pastDeadline: true }, new SqlParams());
    expect(clauses.filter((c) => c === `s.status IN ('running', 'compensating')`)).toHaveLength(2);
  });
});
