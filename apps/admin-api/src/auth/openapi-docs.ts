import { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { NextFunction, Request, Response } from 'express';
import { accessFor, routeKey } from './policy';
import { SecurityGate } from './security-gate';

type Operation = {
  security?: unknown[];
  description?: string;
  [extension: `x-${string}`]: unknown;
};

/**
 * The OpenAPI document at `/docs-json` and its UI at `/docs`. Swagger mounts them on Express,
 * outside Nest's guards, so a middleware in front runs the same security decision (policy
 * keys `GET /docs` for the UI and its files, `GET /docs-json` for the document).
 */
export function setupOpenApi(app: NestExpressApplication): void {
  const gate = app.get(SecurityGate);
  app.use(['/docs', '/docs-json'], (req: Request, _res: Response, next: NextFunction) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    const key = req.baseUrl === '/docs-json' ? 'GET /docs-json' : 'GET /docs';
    gate.check(req, key).then(() => next(), next);
  });
  const config = new DocumentBuilder()
    .setTitle('Sagaflow admin API')
    .setDescription(
      'Operate sagas: search, inspect, start, retry, compensate. Roles: viewer < operator < admin.',
    )
    .setVersion('0.1.0')
    .addBearerAuth(
      { type: 'http', scheme: 'bearer', description: 'an API key (sfk_…) or, when enabled, a JWT' },
      'bearer',
    )
    .addApiKey(
      { type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'an API key (sfk_…)' },
      'api-key',
    )
    .addSecurityRequirements('bearer')
    .addSecurityRequirements('api-key')
    .build();
  SwaggerModule.setup('docs', app, () => withPolicy(SwaggerModule.createDocument(app, config)), {
    jsonDocumentUrl: 'docs-json',
    raw: ['json'],
    swaggerOptions: { persistAuthorization: true },
  });
}

/** Writes the policy table into the document: each operation says the role it needs. */
export function withPolicy(document: OpenAPIObject): OpenAPIObject {
  for (const [path, item] of Object.entries(document.paths)) {
    const expressPath = path.replace(/\{([^}]+)\}/g, ':$1');
    for (const [method, operation] of Object.entries(item as Record<string, Operation>)) {
      const access = accessFor(routeKey(method, expressPath));
      operation['x-sagaflow-access'] = access ?? 'refused (not in the policy table)';
      if (access === 'public') operation.security = [];
      const needs =
        access === 'public'
          ? 'No authentication.'
          : `Requires the ${access ?? 'unlisted'} role or higher.`;
      operation.description = operation.description ? `${needs} ${operation.description}` : needs;
    }
  }
  return document;
}
