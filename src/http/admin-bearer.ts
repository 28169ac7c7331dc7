/**
 * The admin token (`admin.token`): the status page and the API want `Authorization: Bearer <token>` when one is
 * set; the metrics and the probes never do (Prometheus and kubelet carry none). Checked before routing and
 * before a query is validated, so a reader without the token learns nothing of the API but that it is guarded.
 */
import { Elysia } from 'elysia';
import { safeEqual } from '../core/index.ts';
import { json } from './answers.ts';
import { requestPath } from './route.ts';

export type Admission = 'yes' | 'no token given' | 'wrong token';

/**
 * Whether `request` may see what the token guards: no token is set, or it carries the token (compared in
 * constant time).
 * @example admission(new Request('http://gw/', { headers: { authorization: 'Bearer t' } }), 't') // 'yes'
 */
export function admission(request: Request, token: string | undefined): Admission {
  if (token === undefined) return 'yes';
  const given = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.get('authorization') ?? '')?.[1];
  if (given === undefined) return 'no token given';
  return safeEqual(given, token) ? 'yes' : 'wrong token';
}

/**
 * Paths that `guards` names answer 401 (with a `WWW-Authenticate: Bearer` challenge) unless admitted.
 * `token` is read per request: a reload may change it.
 * @example new Elysia().use(adminBearer(() => config.adminToken, (path) => path.startsWith('/api/')))
 */
export function adminBearer(token: () => string | undefined, guards: (path: string) => boolean) {
  return new Elysia().onRequest(({ request }) => {
    if (!guards(requestPath(request))) return;
    const verdict = admission(request, token());
    if (verdict === 'yes') return;
    const error = verdict === 'no token given' ? 'this page needs the admin token (Authorization: Bearer …)' : 'the admin token does not match';
    return json(401, { error }, { 'www-authenticate': 'Bearer' });
  });
}
