/**
 * Headers every answer of the admin listener carries, pages, API, metrics, probes and refusals alike. The pages
 * run no script and load nothing: they are one HTML document with an inline style that refreshes itself with
 * `<meta http-equiv="refresh">` (navigation, which no CSP directive governs), so the policy forbids everything
 * else, but for forms posting to the page's own origin (the retry buttons of kept failures). Framing is refused twice (CSP and X-Frame-Options, for browsers without frame-ancestors), the content type
 * is not to be sniffed (a delivery field shown as JSON must not become HTML), and following a link to another
 * site does not send this page's address (it may carry a delivery id).
 */
import type { HttpApp } from './elysia-surface.ts';

export const adminHeaders: Readonly<Record<string, string>> = {
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
};

/**
 * The same app, its every answer carrying `adminHeaders`.
 * @example const admin = withAdminHeaders(surface(route));
 */
export function withAdminHeaders(app: HttpApp): HttpApp {
  return {
    async handle(request, peer) {
      const response = await app.handle(request, peer);
      for (const [name, value] of Object.entries(adminHeaders)) response.headers.set(name, value);
      return response;
    },
  };
}
