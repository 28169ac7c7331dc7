/**
 * Counts requests for paths no route serves on the webhook listener (a sender configured with a wrong URL shows
 * up on the status page and in metrics): Elysia's own "no route", and a hook path no provider serves, which the
 * hook route throws as a NotFoundError naming it.
 */
import { Elysia } from 'elysia';

/**
 * Goes before `errorAnswers`, which answers: this hook only counts.
 * @example new Elysia().use(unknownRoutes((path) => counter.report(path))).use(errorAnswers(log))
 */
export function unknownRoutes(report: (path: string) => void) {
  return new Elysia().onError({ as: 'global' }, ({ code, path }) => {
    if (code === 'NOT_FOUND') report(path);
  });
}
