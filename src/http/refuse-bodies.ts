/**
 * Only hooks read a body: any other body is refused before a byte of it is read (413, and the connection closes
 * so the sender stops sending).
 */
import { Elysia } from 'elysia';
import { refuse } from './answers.ts';
import { hasBody } from './route.ts';

/**
 * As a `beforeHandle` of a route that reads no body.
 * @example app.get('/healthz', healthz, { beforeHandle: refuseBody })
 */
export function refuseBody({ request }: { request: Request }): Response | undefined {
  return hasBody(request) ? refuse(request, 413, { error: 'this route takes no body' }) : undefined;
}

/**
 * Every request with a body, before routing and before anything else looks at it (the admin listener, where no
 * route reads one).
 * @example new Elysia().use(refuseBodies()).use(adminBearer(…))
 */
export function refuseBodies() {
  return new Elysia().onRequest(refuseBody);
}
