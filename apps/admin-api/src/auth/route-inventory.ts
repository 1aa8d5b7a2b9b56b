import { accessFor, routeKey } from './policy';

/** `app.getHttpAdapter()` or `HttpAdapterHost.httpAdapter` (Express). */
export interface HttpAdapterLike {
  getInstance(): unknown;
}

interface RouteLayer {
  route?: { path: unknown; methods: Record<string, boolean> };
}

/**
 * Every route the HTTP server answers, as policy keys: the controllers' routes and the ones
 * Swagger mounts itself (its UI files all count as `GET /docs`). Read from the Express router
 * after `app.init()` (e.g. `registeredRouteKeys(app.getHttpAdapter())`), so nothing registered by any means is missed.
 */
export function registeredRouteKeys(adapter: HttpAdapterLike): string[] {
  const express = adapter.getInstance() as { router?: { stack: RouteLayer[] } };
  const keys = new Set<string>();
  for (const layer of express.router?.stack ?? []) {
    if (!layer.route || typeof layer.route.path !== 'string') continue;
    for (const method of Object.keys(layer.route.methods)) {
      keys.add(routeKey(method === '_all' ? 'ALL' : method, docsRoute(layer.route.path)));
    }
  }
  return [...keys].sort();
}

/** Registered routes that the policy table does not list (each one is refused to everyone). */
export function unlistedRoutes(adapter: HttpAdapterLike): string[] {
  return registeredRouteKeys(adapter).filter((key) => accessFor(key) === undefined);
}

function docsRoute(path: string): string {
  return path === '/docs' || path.startsWith('/docs/') ? '/docs' : path;
}
