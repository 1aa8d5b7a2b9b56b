import { ArgumentsHost, BadRequestException, NotFoundException } from '@nestjs/common';
import { ApiError } from './api-error';
import { ApiErrorBody } from './api-error-codes';
import { ApiExceptionFilter, ErrorAuditor } from './api-exception.filter';

function host() {
  const events: string[] = [];
  const res = {
    headersSent: false,
    headers: {} as Record<string, string>,
    body: undefined as unknown,
    statusCode: 0,
    set(h: Record<string, string>) {
      Object.assign(this.headers, h);
      return this;
    },
    status(code: number) {
      this.statusCode = code;
      return this;
    },
    json(body: unknown) {
      events.push('response');
      this.body = body;
      return this;
    },
  };
  const req = { method: 'POST', path: '/x' };
  const h = {
    switchToHttp: () => ({ getRequest: () => req, getResponse: () => res }),
  } as unknown as ArgumentsHost;
  return { h, res, events };
}

describe('ApiExceptionFilter', () => {
  it('maps API errors through the one table and sets their headers', async () => {
    const { h, res } = host();
    await new ApiExceptionFilter().catch(
      new ApiError('RATE_LIMITED', 'slow down', undefined, { 'Retry-After': '3' }),
      h,
    );
    expect(res.statusCode).toBe(429);
    expect(res.body).toEqual({ statusCode: 429, code: 'RATE_LIMITED', message: 'slow down' });
    expect(res.headers).toEqual({ 'Retry-After': '3' });
  });

  it.each([
    [new NotFoundException('Cannot GET /x'), 404, 'NOT_FOUND'],
    [new BadRequestException('bad'), 400, 'HTTP_ERROR'],
    [
      Object.assign(new Error('request entity too large'), { status: 413, expose: true }),
      413,
      'HTTP_ERROR',
    ],
    [Object.assign(new Error('secret internals'), { status: 500, expose: false }), 500, 'INTERNAL'],
    [new Error('boom'), 500, 'INTERNAL'],
  ])('answers %s with %i %s', async (exception, status, code) => {
    const { h, res } = host();
    await new ApiExceptionFilter().catch(exception, h);
    expect(res.body).toMatchObject({ statusCode: status, code });
    if (status === 500) expect((res.body as ApiErrorBody).message).not.toMatch(/boom|secret/);
  });

  it.each([
    Object.assign(new Error('terminating connection due to administrator command'), {
      code: '57P01',
    }),
    Object.assign(new Error('query failed'), {
      driverError: Object.assign(new Error('database "x" is not currently accepting connections'), {
        code: '55000',
      }),
    }),
    Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
  ])('answers an unreachable store with 503 STORE_UNAVAILABLE and Retry-After (%s)', async (e) => {
    const { h, res } = host();
    await new ApiExceptionFilter().catch(e, h);
    expect(res.body).toMatchObject({ statusCode: 503, code: 'STORE_UNAVAILABLE' });
    expect(res.headers).toEqual({ 'Retry-After': '1' });
  });

  it('waits for the audit record before answering, and answers even when the audit fails', async () => {
    const { h, events } = host();
    const auditor: ErrorAuditor = {
      recordFailure: async (_req, body) => {
        await new Promise((r) => setTimeout(r, 5));
        events.push(`audit ${body.code}`);
      },
    };
    await new ApiExceptionFilter(auditor).catch(new ApiError('FORBIDDEN', 'no'), h);
    expect(events).toEqual(['audit FORBIDDEN', 'response']);

    const failing = host();
    await new ApiExceptionFilter({
      recordFailure: () => Promise.reject(new Error('db down')),
    }).catch(new ApiError('FORBIDDEN', 'no'), failing.h);
    expect(failing.res.statusCode).toBe(403);
  });
});
