import { Controller, Get, Param, Query, Req } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import {
  JournalRepository,
  SagaInstanceRepository,
  SagaSearchRepository,
} from '@sagaflow/persistence';
import { DefinitionRegistry, SagaNotFoundError } from '@sagaflow/runtime';
import { Request } from 'express';
import { DataSource } from 'typeorm';
import { AuditLog } from '../../audit';
import { ValidationFailedException } from '../../errors/validation-failed.exception';
import { readOnly } from '../read-only';
import { redactedFieldsFor } from '../redaction';
import { sagaDetailView } from './saga-detail.view';
import { SagaFilterDto } from './saga-filter.dto';
import { sagaCursor, toSagaSearch, toSearchCriteria } from './saga-search-request';
import { sagaSummaryView } from './saga-summary.view';
import { SearchSagasDto } from './search-sagas.dto';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Finding sagas and reading one: `GET /sagas`, `GET /sagas/counts`, `GET /sagas/:id`. */
@ApiTags('sagas')
@Controller('sagas')
export class SagaQueriesController {
  private readonly search = new SagaSearchRepository();
  private readonly instances = new SagaInstanceRepository();
  private readonly journal = new JournalRepository();

  constructor(
    private readonly dataSource: DataSource,
    private readonly registry: DefinitionRegistry,
    private readonly audit: AuditLog,
  ) {}

  @Get()
  @ApiOperation({
    summary: 'Find sagas',
    description:
      'Filtered, keyset-paginated list, newest change first by default. Pass nextCursor back as cursor for the next page.',
  })
  async find(@Query() query: SearchSagasDto) {
    const { criteria, page } = toSagaSearch(query, this.registry);
    const found = await readOnly(this.dataSource, (sql) => this.search.page(sql, criteria, page));
    return {
      items: found.items.map((r) => sagaSummaryView(r, this.registry)),
      nextCursor: found.next ? sagaCursor(found.next, page.sort, page.order) : null,
    };
  }

  // Declared before ':id', so "counts" is never taken for an id.
  @Get('counts')
  @ApiOperation({ summary: 'How many sagas match the filters, per status' })
  async counts(@Query() query: SagaFilterDto) {
    const criteria = toSearchCriteria(query, this.registry);
    const counts = await readOnly(this.dataSource, (sql) =>
      this.search.countByStatus(sql, criteria),
    );
    return { counts, total: Object.values(counts).reduce((a, b) => a + b, 0) };
  }

  @Get(':id')
  @ApiOperation({
    summary: 'One saga: state, current step, deadline, timers, and its timeline',
    description:
      'The timeline merges the engine journal with the audit records of operator requests. Viewers see the definition\'s sensitive fields as "[redacted]".',
  })
  @ApiParam({ name: 'id', format: 'uuid' })
  async get(@Param('id') id: string, @Req() req: Request) {
    if (!UUID.test(id)) {
      throw new ValidationFailedException([
        {
          field: 'id',
          messages: ['id must be a saga id (a UUID such as 7c29ea4d-0c8e-4c1a-9a57-2f0b8f6f3e21)'],
        },
      ]);
    }
    // One snapshot: the state, its journal, timers and audit records agree with each other.
    const sources = await readOnly(this.dataSource, async (sql) => {
      const stored = await this.instances.findById(sql, id);
      if (!stored) throw new SagaNotFoundError(id);
      const [journal, timers, audit] = [
        await this.journal.timeline(sql, id),
        await this.search.timers(sql, id),
        await this.audit.bySaga(sql, id),
      ];
      return { stored, journal, timers, audit };
    });
    const definition = this.registry.find(
      sources.stored.instance.sagaType,
      sources.stored.instance.sagaVersion,
    );
    return sagaDetailView({
      ...sources,
      definition,
      redact: redactedFieldsFor(req, this.registry, definition),
    });
  }
}
