import {
  Body,
  Controller,
  Get,
  Headers,
  HttpCode,
  Param,
  Post,
  Query,
  Req,
  Res,
} from '@nestjs/common';
import { ApiHeader, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ParkedMessageRepository } from '@sagaflow/persistence';
import { DefinitionRegistry } from '@sagaflow/runtime';
import { Request, Response } from 'express';
import { DataSource } from 'typeorm';
import { ApiError } from '../../errors/api-error';
import { ValidationFailedException } from '../../errors/validation-failed.exception';
import { decodeCursor, encodeCursor } from '../keyset-cursor';
import { readOnly } from '../read-only';
import { redactedFieldsFor } from '../redaction';
import { parkedDetailView, parkedSummaryView } from './parked-message.view';
import {
  DEFAULT_PARKED_PAGE,
  ListParkedMessagesDto,
  ResolveParkedMessageDto,
} from './parked-messages.dto';
import { ParkedAction, ResolveParkedMessage } from './resolve-parked-message';

const ID = /^[1-9]\d{0,17}$/;

const IDEMPOTENCY_HEADER = {
  name: 'Idempotency-Key',
  required: false,
  description:
    'Repeat the request with the same key to get the first answer again, without acting twice.',
};

/** Messages that could not be applied: list, read, replay, discard. */
@ApiTags('parked messages')
@Controller('parked-messages')
export class ParkedMessagesController {
  private readonly parked = new ParkedMessageRepository();

  constructor(
    private readonly dataSource: DataSource,
    private readonly registry: DefinitionRegistry,
    private readonly resolver: ResolveParkedMessage,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Parked messages, newest first (without bodies)' })
  async list(@Query() query: ListParkedMessagesDto) {
    const afterId = query.cursor === undefined ? null : cursorId(query.cursor);
    const limit = query.limit === undefined ? DEFAULT_PARKED_PAGE : Number(query.limit);
    const filter = {
      ...(query.status ? { status: query.status } : {}),
      ...(query.reasonCode ? { reasonCode: query.reasonCode } : {}),
      ...(query.sagaId ? { sagaId: query.sagaId } : {}),
      ...(query.topic ? { topic: query.topic } : {}),
    };
    const page = await readOnly(this.dataSource, (sql) =>
      this.parked.search(sql, filter, { limit, afterId }),
    );
    return {
      items: page.items.map(parkedSummaryView),
      nextCursor: page.nextId === null ? null : encodeCursor({ p: page.nextId }),
    };
  }

  @Get(':id')
  @ApiOperation({ summary: 'One parked message with its headers and body (as text)' })
  @ApiParam({ name: 'id', example: '42' })
  async get(@Param('id') id: string, @Req() req: Request) {
    const message = await readOnly(this.dataSource, (sql) =>
      this.parked.findById(sql, checkedId(id)),
    );
    if (!message) throw new ApiError('NOT_FOUND', `no parked message with id ${id}`);
    return parkedDetailView(message, redactedFieldsFor(req, this.registry));
  }

  @Post(':id/replay')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Put the message back on its topic (through the outbox); status → replayed',
  })
  @ApiParam({ name: 'id', example: '42' })
  @ApiHeader(IDEMPOTENCY_HEADER)
  replay(
    @Param('id') id: string,
    @Body() body: ResolveParkedMessageDto,
    @Headers('idempotency-key') key: string | undefined,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ) {
    return this.resolve('replay', id, body, key, req, res);
  }

  @Post(':id/discard')
  @HttpCode(200)
  @ApiOperation({ summary: 'Give up on the message; status → discarded' })
  @ApiParam({ name: 'id', example: '42' })
  @ApiHeader(IDEMPOTENCY_HEADER)
  discard(
    @Param('id') id: string,
    @Body() body: ResolveParkedMessageDto,
    @Headers('idempotency-key') key: string | undefined,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ) {
    return this.resolve('discard', id, body, key, req, res);
  }

  private async resolve(
    action: ParkedAction,
    id: string,
    body: ResolveParkedMessageDto,
    key: string | undefined,
    req: Request,
    res: Response,
  ): Promise<unknown> {
    const answer = await this.resolver.execute(req, {
      id: checkedId(id),
      action,
      reason: body.reason,
      idempotencyKey: checkedKey(key),
    });
    res.status(answer.statusCode);
    return answer.body;
  }
}

function checkedId(id: string): string {
  if (ID.test(id)) return id;
  throw new ValidationFailedException([
    { field: 'id', messages: ['id must be a parked message id (a positive whole number)'] },
  ]);
}

function checkedKey(key: string | undefined): string | null {
  if (key === undefined) return null;
  if (/^[\x21-\x7e]{1,200}$/.test(key)) return key;
  throw new ValidationFailedException([
    {
      field: 'Idempotency-Key',
      messages: ['Idempotency-Key must be 1 to 200 visible ASCII characters, e.g. a UUID'],
    },
  ]);
}

function cursorId(cursor: string): string {
  return decodeCursor(cursor, (c) => (typeof c.p === 'string' && ID.test(c.p) ? c.p : null));
}
