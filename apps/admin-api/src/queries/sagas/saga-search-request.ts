import {
  SagaPageRequest,
  SagaPosition,
  SagaSearchCriteria,
  SagaSortKey,
  SortOrder,
  StepRef,
} from '@sagaflow/persistence';
import { DefinitionRegistry } from '@sagaflow/runtime';
import { Duration, toMs } from '@sagaflow/saga-dsl';
import { FieldProblem } from '../../errors/api-error-codes';
import { ValidationFailedException } from '../../errors/validation-failed.exception';
import { decodeCursor, encodeCursor } from '../keyset-cursor';
import { SagaFilterDto } from './saga-filter.dto';
import { DEFAULT_PAGE_SIZE, SearchSagasDto } from './search-sagas.dto';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const SORT_VALUE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

/**
 * Turns validated query parameters into search criteria. What the DTO's rules cannot check —
 * a step name no definition has, a range that ends before it starts, a foreign cursor — is a
 * 400 naming the field, like any other invalid parameter.
 */
export function toSearchCriteria(
  dto: SagaFilterDto,
  registry: DefinitionRegistry,
): SagaSearchCriteria {
  const problems: FieldProblem[] = [];
  const criteria: SagaSearchCriteria = {
    ...(dto.type !== undefined ? { sagaType: dto.type } : {}),
    ...(dto.version !== undefined ? { sagaVersion: Number(dto.version) } : {}),
    ...(dto.businessKey !== undefined ? { businessKey: dto.businessKey } : {}),
    ...range('created', dto.createdFrom, dto.createdTo, problems),
    ...range('updated', dto.updatedFrom, dto.updatedTo, problems),
    ...(dto.step !== undefined ? { steps: resolveStep(dto, registry, problems) } : {}),
    ...(dto.stuckFor !== undefined ? { stuckForMs: duration(dto.stuckFor, problems) } : {}),
    ...(dto.pastDeadline === 'true' ? { pastDeadline: true } : {}),
  };
  if (problems.length > 0) throw new ValidationFailedException(problems);
  return criteria;
}

/** The criteria plus statuses, order and page of `GET /sagas`. */
export function toSagaSearch(
  dto: SearchSagasDto,
  registry: DefinitionRegistry,
): { criteria: SagaSearchCriteria; page: SagaPageRequest } {
  const criteria = toSearchCriteria(dto, registry);
  const sort: SagaSortKey = dto.sort ?? 'updatedAt';
  const order: SortOrder = dto.order ?? 'desc';
  const statuses = dto.status === undefined ? undefined : [...new Set(dto.status)];
  return {
    criteria: statuses ? { ...criteria, statuses } : criteria,
    page: {
      sort,
      order,
      limit: dto.limit === undefined ? DEFAULT_PAGE_SIZE : Number(dto.limit),
      after: dto.cursor === undefined ? null : sagaCursorPosition(dto.cursor, sort, order),
    },
  };
}

/** The cursor of the page after `position`: it remembers the sort, so it cannot be misused. */
export function sagaCursor(position: SagaPosition, sort: SagaSortKey, order: SortOrder): string {
  return encodeCursor({ s: sort, o: order, v: position.sortValue, i: position.id });
}

function sagaCursorPosition(cursor: string, sort: SagaSortKey, order: SortOrder): SagaPosition {
  return decodeCursor(cursor, (c) =>
    c.s === sort &&
    c.o === order &&
    typeof c.v === 'string' &&
    SORT_VALUE.test(c.v) &&
    typeof c.i === 'string' &&
    UUID.test(c.i)
      ? { sortValue: c.v, id: c.i }
      : null,
  );
}

function range(
  column: 'created' | 'updated',
  from: string | undefined,
  to: string | undefined,
  problems: FieldProblem[],
): Partial<SagaSearchCriteria> {
  const fromDate = from === undefined ? undefined : new Date(from);
  const toDate = to === undefined ? undefined : new Date(to);
  if (fromDate && toDate && fromDate.getTime() > toDate.getTime()) {
    problems.push({
      field: `${column}To`,
      messages: [`${column}To must not be before ${column}From`],
    });
  }
  return {
    ...(fromDate ? { [`${column}From`]: fromDate } : {}),
    ...(toDate ? { [`${column}To`]: toDate } : {}),
  };
}

function duration(value: string, problems: FieldProblem[]): number {
  const parsed = toMs(value as Duration, 'stuckFor');
  if (parsed.ok && parsed.ms > 0) return parsed.ms;
  problems.push({
    field: 'stuckFor',
    messages: ['stuckFor must be a positive duration such as 30s, 5m or 1h'],
  });
  return 0;
}

/**
 * `saga_instance` stores the step index; a name means one index per definition version that
 * has such a step (narrowed by type and version when given).
 */
function resolveStep(
  dto: SagaFilterDto,
  registry: DefinitionRegistry,
  problems: FieldProblem[],
): StepRef[] {
  const definitions = registry
    .all()
    .filter((d) => dto.type === undefined || d.compiled.name === dto.type)
    .filter((d) => dto.version === undefined || d.compiled.version === Number(dto.version));
  const refs = definitions.flatMap((d) =>
    d.compiled.steps
      .filter((s) => s.name === dto.step)
      .map((s) => ({ sagaType: d.compiled.name, sagaVersion: d.compiled.version, index: s.index })),
  );
  if (refs.length === 0) {
    const known = [...new Set(definitions.flatMap((d) => d.compiled.steps.map((s) => s.name)))];
    const scope =
      dto.type === undefined
        ? ''
        : ` in saga "${dto.type}"${dto.version === undefined ? '' : ` v${dto.version}`}`;
    problems.push({
      field: 'step',
      messages: [
        `no step named "${dto.step}"${scope}; known steps: ${known.join(', ') || '(none)'}`,
      ],
    });
  }
  return refs;
}
