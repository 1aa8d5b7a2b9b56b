import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Req } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { withConnection, withTransaction } from '@sagaflow/persistence';
import { Request } from 'express';
import { DataSource } from 'typeorm';
import { AuditLog } from '../audit';
import { ApiError, ValidationFailedException } from '../errors';
import {
  ApiKeyViewDto,
  CreateApiKeyDto,
  CreatedApiKeyDto,
  RevokeApiKeyDto,
  RevokeApiKeyQuery,
} from './api-key.dto';
import { ApiKeyView } from './api-key.repository';
import { ApiKeyService } from './api-key.service';

/** Admin routes for API keys. Each change and its audit record commit together. */
@ApiTags('api-keys')
@Controller('api-keys')
export class ApiKeysController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly keys: ApiKeyService,
    private readonly audit: AuditLog,
  ) {}

  @Get()
  @ApiOkResponse({ type: ApiKeyViewDto, isArray: true })
  async list(): Promise<{ items: ApiKeyView[] }> {
    return {
      items: await withConnection(this.dataSource, (sql) => this.keys.repository.list(sql)),
    };
  }

  /** Answers the raw key once; the audit keeps the key's description, never the key. */
  @Post()
  @HttpCode(201)
  @ApiCreatedResponse({ type: CreatedApiKeyDto })
  create(@Body() dto: CreateApiKeyDto, @Req() req: Request): Promise<ApiKeyView & { key: string }> {
    return withTransaction(this.dataSource, async (sql) => {
      const { key, view } = await this.keys.repository.create(sql, {
        name: dto.name,
        role: dto.role,
        createdBy: req.principal!.id,
        sagaTypes: dto.sagaTypes ?? null,
      });
      await this.audit.recordApplied(sql, req, {
        action: 'api-key.create',
        reason: dto.reason,
        statusCode: 201,
        response: view,
        detail: { keyId: view.id, role: view.role },
      });
      return { ...view, key };
    });
  }

  /** Revoked at once: every request looks its key up. Revoking twice keeps the first revocation. */
  @Delete(':id')
  @ApiOkResponse({ type: ApiKeyViewDto })
  revoke(
    @Param('id') id: string,
    @Body() body: RevokeApiKeyDto,
    @Query() query: RevokeApiKeyQuery,
    @Req() req: Request,
  ): Promise<ApiKeyView> {
    if (!/^[0-9a-f]{16}$/.test(id)) {
      throw new ValidationFailedException([
        { field: 'id', messages: ['id must be an API key id (16 hex digits)'] },
      ]);
    }
    const reason = body.reason ?? query.reason;
    if (!reason) {
      throw new ValidationFailedException([
        { field: 'reason', messages: ['reason is required, in the body or as ?reason='] },
      ]);
    }
    return withTransaction(this.dataSource, async (sql) => {
      const view = await this.keys.repository.revoke(sql, id, req.principal!.id);
      if (!view) throw new ApiError('NOT_FOUND', `no API key with id ${id}`);
      await this.audit.recordApplied(sql, req, {
        action: 'api-key.revoke',
        reason,
        statusCode: 200,
        response: view,
        detail: { keyId: id },
      });
      return view;
    });
  }
}
