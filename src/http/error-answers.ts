/**
 * What the listeners answer when Elysia does not reach a handler's own answer: no route (404, or 413 when a
 * body came with it: only hooks read one), a query its schema refuses (400 with the schema's own message),
 * and anything thrown (500, logged; never a stack trace or one of Elysia's default pages).
 */
import { Elysia } from 'elysia';
import type { Logger } from '../core/index.ts';
import { json, refuse } from './answers.ts';
import { hasBody, requestPath } from './route.ts';

/** Elysia's own NotFoundError says this; a handler that throws one with another message names what is missing. */
const NO_ROUTE = 'NOT_FOUND';

/**
 * The message of a refused query: every schema of the admin API carries its own (`error`), which names what is
 * allowed; a value it does not cover is described without being echoed. A number in a query is decoded by a
 * TypeBox transform, whose errors (TransformDecodeError, TransformDecodeCheckError) carry the failing schema
 * instead of Elysia's `customError`.
 */
export function validationMessage(error: unknown): string {
  const { customError, message, schema, error: cause } = error as { customError?: unknown; message?: string; schema?: { error?: unknown }; error?: { schema?: { error?: unknown } } };
  if (customError !== undefined && typeof message === 'string') return message;
  const own = schema?.error ?? cause?.schema?.error;
  return typeof own === 'string' ? own : 'the query is not valid';
}

/**
 * @example new Elysia().use(errorAnswers(log)).get('/healthz', () => json(200, { status: 'ok' }))
 */
export function errorAnswers(log: Logger) {
  return new Elysia().onError({ as: 'global' }, ({ code, error, request }) => {
    if (code === 'NOT_FOUND') {
      if (error.message !== NO_ROUTE) return refuse(request, 404, { error: error.message });
      return hasBody(request) ? refuse(request, 413, { error: 'this route takes no body' }) : json(404, { error: 'not found' });
    }
    if (code === 'VALIDATION') return refuse(request, 400, { error: validationMessage(error) });
    if (code === 'PARSE') return refuse(request, 400, { error: 'the request could not be read' });
    log.error('request failed', { path: requestPath(request).slice(0, 140), error: error instanceof Error ? error.message : String(error) });
    return refuse(request, 500, { error: 'internal error' });
  });
}
