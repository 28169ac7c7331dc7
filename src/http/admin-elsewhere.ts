/**
 * The webhook port asked for what the admin listener serves (`/`, `/metrics`, `/readyz`, `/api/…`,
 * `/deliveries/…`): someone looking for the status page or pointing a scrape at the wrong port, not a sender with
 * a wrong hook URL. Answered 404 with where those are (the setting, never its address: this port may face the
 * internet), and not counted or shown as requests to unknown hooks.
 */
import { Elysia } from 'elysia';
import { refuse } from './answers.ts';
import { refuseBody } from './refuse-bodies.ts';

/** The answer's text: what is where, and the setting that says where. */
export const ADMIN_ELSEWHERE = 'not found: the status page, /api, /metrics and /readyz are on the admin listener (server.adminAddress), not on the webhook port, which serves POST /hook/… and GET /healthz';

const PATHS = ['/', '/metrics', '/readyz', '/api', '/api/*', '/deliveries/*'];

/**
 * @example new Elysia().use(adminElsewhere()).all('/hook/*', hook)
 */
export function adminElsewhere() {
  // A body is refused unread (413), as on every route that reads none.
  const answer = ({ request }: { request: Request }) => refuseBody({ request }) ?? refuse(request, 404, { error: ADMIN_ELSEWHERE });
  return PATHS.reduce((app, path) => app.all(path, answer), new Elysia());
}
