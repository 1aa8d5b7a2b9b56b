import { DefinitionRegistry } from '@sagaflow/runtime';
import { orderSaga } from '@sagaflow/sample-order';
import { ValidationFailedException } from '../../errors/validation-failed.exception';
import { sagaCursor, toSagaSearch, toSearchCriteria } from './saga-search-request';

const registry = new DefinitionRegistry([orderSaga]);

function problemsOf(work: () => unknown): string[] {
  try {
    work();
  } catch (error) {
    if (error instanceof ValidationFailedException) return error.problems.map((p) => p.field);
    throw error;
  }
  return [];
}

describe('saga search request', () => {
  it('defaults to the newest change first, 50 a page', () => {
    expect(toSagaSearch({}, registry)).toEqual({
      criteria: {},
      page: { sort: 'updatedAt', order: 'desc', limit: 50, after: null },
    });
  });

  it('turns every filter into criteria', () => {
    const { criteria } = toSagaSearch(
      {
        type: 'order',
        version: 1,
        status: ['running', 'failed', 'running'],
        step: 'chargePayment',
        businessKey: 'o-1',
        createdFrom: '2025-01-01T00:00:00Z',
        updatedTo: '2025-02-01T00:00:00Z',
        stuckFor: '5m',
        pastDeadline: 'true',
      },
      registry,
    );
    expect(criteria).toEqual({
      sagaType: 'order',
      sagaVersion: 1,
      statuses: ['running', 'failed'],
      steps: [{ sagaType: 'order', sagaVersion: 1, index: 2 }],
      businessKey: 'o-1',
      createdFrom: new Date('2025-01-01T00:00:00Z'),
      updatedTo: new Date('2025-02-01T00:00:00Z'),
      stuckForMs: 300_000,
      pastDeadline: true,
    });
  });

  it('resolves a step name in every definition version that has it', () => {
    expect(toSearchCriteria({ step: 'reserveInventory' }, registry).steps).toEqual([
      { sagaType: 'order', sagaVersion: 1, index: 1 },
    ]);
  });

  it('names the field of each problem the DTO rules cannot see', () => {
    expect(
      problemsOf(() =>
        toSearchCriteria(
          {
            step: 'teleport',
            createdFrom: '2025-02-01T00:00:00Z',
            createdTo: '2025-01-01T00:00:00Z',
            stuckFor: '0s',
          },
          registry,
        ),
      ),
    ).toEqual(['createdTo', 'step', 'stuckFor']);
    expect(
      problemsOf(() =>
        toSearchCriteria({ type: 'order', version: 2, step: 'chargePayment' }, registry),
      ),
    ).toEqual(['step']);
  });

  it('continues after the cursor of the same sort only', () => {
    const position = {
      sortValue: '2025-01-01T00:00:00.123456Z',
      id: '7c29ea4d-0c8e-4c1a-9a57-2f0b8f6f3e21',
    };
    const cursor = sagaCursor(position, 'createdAt', 'asc');
    expect(toSagaSearch({ sort: 'createdAt', order: 'asc', cursor }, registry).page.after).toEqual(
      position,
    );
    expect(
      problemsOf(() => toSagaSearch({ sort: 'createdAt', order: 'desc', cursor }, registry)),
    ).toEqual(['cursor']);
    expect(problemsOf(() => toSagaSearch({ cursor }, registry))).toEqual(['cursor']);
  });
});
