import { Controller, Get, Param } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { ApiError } from '../../errors/api-error';
import { FieldProblem } from '../../errors/api-error-codes';
import { ValidationFailedException } from '../../errors/validation-failed.exception';
import { readOnly } from '../read-only';
import { DefinitionCatalog } from './definition-catalog';
import { definitionDetailView, definitionSummaryView } from './definition.view';

const NAME = /^[a-z][a-z0-9.-]{0,99}$/;
const VERSION = /^[1-9]\d{0,8}$/;

/** The saga definitions: `GET /definitions` and `GET /definitions/:name/:version`. */
@ApiTags('definitions')
@Controller('definitions')
export class DefinitionsController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly catalog: DefinitionCatalog,
  ) {}

  @Get()
  @ApiOperation({
    summary: 'Every definition version, with its step count, pivot, deadline and live instances',
  })
  async list() {
    const all = await readOnly(this.dataSource, (sql) => this.catalog.all(sql));
    return { items: all.map(definitionSummaryView) };
  }

  @Get(':name/:version')
  @ApiOperation({ summary: 'One definition version with its compiled step graph' })
  @ApiParam({ name: 'name', example: 'order' })
  @ApiParam({ name: 'version', example: 1 })
  async get(@Param('name') name: string, @Param('version') version: string) {
    const problems: FieldProblem[] = [];
    if (!NAME.test(name))
      problems.push({ field: 'name', messages: ['name must be a saga name such as "order"'] });
    if (!VERSION.test(version))
      problems.push({ field: 'version', messages: ['version must be a whole number from 1'] });
    if (problems.length > 0) throw new ValidationFailedException(problems);
    const found = await readOnly(this.dataSource, (sql) =>
      this.catalog.find(sql, name, Number(version)),
    );
    if (!found)
      throw new ApiError(
        'NOT_FOUND',
        `no saga definition "${name}" v${version}; GET /definitions lists them`,
      );
    return definitionDetailView(found);
  }
}
