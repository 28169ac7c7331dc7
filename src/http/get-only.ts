/** Registers a route that answers GET (and HEAD, which Elysia serves from GET) and 405 to any other method. */
import type { AnyElysia } from 'elysia';
import { methodNotAllowed } from './answers.ts';

/**
 * `hook` is Elysia's route options (a `query` schema, an OpenAPI `detail`); its `beforeHandle` runs before the
 * 405 too.
 * @example getOnly(app, '/healthz', () => json(200, { status: 'ok' }))
 */
export function getOnly<App extends AnyElysia>(app: App, path: string, handler: (context: any) => Response | Promise<Response>, hook?: Record<string, unknown>): App {
  const other = (context: { request: Request }) => methodNotAllowed(context.request, 'GET');
  const before = hook?.beforeHandle ? { beforeHandle: hook.beforeHandle } : {};
  return app.get(path, handler, hook as never).all(path, other as never, { ...before, detail: { hide: true } } as never) as App;
}
