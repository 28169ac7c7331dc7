/** The answers the HTTP layer writes itself: JSON, HTML, and refusals that stop a sender's body. */
import { hasBody } from './route.ts';

const jsonHeaders = { 'content-type': 'application/json' };

/** @example json(404, { error: 'not found' }) */
export function json(status: number, body: unknown, headers?: Record<string, string>): Response {
  return new Response(JSON.stringify(body), { status, headers: headers ? { ...jsonHeaders, ...headers } : jsonHeaders });
}

/** @example html('<!doctype html>…') */
export function html(text: string): Response {
  return new Response(text, { headers: { 'content-type': 'text/html; charset=utf-8' } });
}

/**
 * An answer given without reading the request's body. `Connection: close` makes Bun close the connection
 * after the answer instead of reading the rest of the body to reuse it, so the sender is stopped at once.
 * @example refuse(request, 405, { error: 'use POST' }, { allow: 'POST' })
 */
export function refuse(request: Request, status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return json(status, body, hasBody(request) ? { ...headers, connection: 'close' } : headers);
}

/** The answer to a method a route does not take. */
export function methodNotAllowed(request: Request, method: 'GET' | 'POST'): Response {
  return refuse(request, 405, { error: `use ${method}` }, { allow: method === 'GET' ? 'GET, HEAD' : 'POST' });
}
