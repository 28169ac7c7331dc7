/**
 * A relay edge's routes on the webhook listener, where agents reach it as Git hosts do: `GET /relay/v1/events`
 * (a stream that stays open: it is exempt from server.idleTimeout, the edge bounds it) and `POST /relay/v1/ack`
 * (a small body, read within the hooks' bounds). Both authenticate before anything else; the decisions are the
 * relay's (src/relay/edge.ts).
 */
import type { AnyElysia } from 'elysia';
import type { Answer, Edge } from '../relay/index.ts';
import { ACK_PATH, EVENTS_PATH } from '../relay/index.ts';
import { json, methodNotAllowed } from './answers.ts';
import { getOnly } from './get-only.ts';
import { readBody, type BodyLimits } from './read-body.ts';
import { refuseBody } from './refuse-bodies.ts';
import { gated, type RequestGate } from './request-gate.ts';

export interface RelayRouteDeps {
  edge: Pick<Edge, 'authenticate' | 'open' | 'acknowledge'>;
  /** Lifts server.idleTimeout for this request's connection (a stream). */
  untime(request: Request): void;
  gate: RequestGate;
  /** The hooks' limits, with a small maxBytes: an acknowledgement is one id. */
  body: BodyLimits;
  retryAfterSeconds: number;
}

const answer = (result: Answer) => json(result.status, result.body, result.headers);

/** @example relayRoutes(app, deps) */
export function relayRoutes<App extends AnyElysia>(app: App, deps: RelayRouteDeps): App {
  const events = ({ request }: { request: Request }) => {
    const subscriber = deps.edge.authenticate(request.headers.get('authorization'));
    if ('status' in subscriber) return answer(subscriber);
    const opened = deps.edge.open(subscriber, request.headers.get('last-event-id'));
    if (!(opened instanceof Response)) return answer(opened);
    deps.untime(request);
    return opened;
  };
  const busy = () => json(503, { error: 'too many requests in flight' }, { 'retry-after': String(deps.retryAfterSeconds) });
  const ack = ({ request }: { request: Request }) =>
    gated(deps.gate, busy, async () => {
      const subscriber = deps.edge.authenticate(request.headers.get('authorization'));
      if ('status' in subscriber) return answer(subscriber);
      const read = await readBody(request, deps.body);
      if (!read.ok) return json(read.refusal === 'too-large' ? 413 : read.refusal === 'over-budget' ? 503 : 400, { error: `acknowledgement not read: ${read.refusal}` }, { connection: 'close' });
      return answer(deps.edge.acknowledge(subscriber, read.body));
    });
  const withEvents = getOnly(app, EVENTS_PATH, events, { beforeHandle: refuseBody });
  return withEvents.post(ACK_PATH, ack as never, { parse: 'none' }).all(ACK_PATH, (({ request }: { request: Request }) => methodNotAllowed(request, 'POST')) as never) as App;
}
