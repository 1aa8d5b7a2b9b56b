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
