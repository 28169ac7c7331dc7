/**
 * The webhook path after HTTP: describe → verify → filter events → parse → match → room → dedupe → hand to reconcile.
 * Returns the answer the SPEC's HTTP contract names; knows nothing of HTTP frameworks or Kubernetes clients.
 */
import { PayloadError, type WebhookRequest } from '../plugins/plugin-api.ts';
import type { ObjectSelector, Reconciler, Ticket } from '../reconcile/reconciler.ts';
import type { ProviderRuntime } from './compile.ts';
import type { WebhookReporter } from './webhook-reporter.ts';

export interface WebhookAnswer {
  status: number;
  body: Record<string, unknown>;
  headers?: Record<string, string>;
}

export interface WebhookDeps {
  reconciler: Pick<Reconciler, 'submit' | 'hasRoom'>;
  /** Records a provider's delivery id; true when it was already seen recently. */
  seen(provider: string, deliveryId: string): boolean;
  /** Mints the ticket of an accepted webhook (tickets.ts). */
  mintTicket(): Ticket;
  /** False once shutdown has begun: checked again here, after the body was read, so no 202 can follow it. */
  accepting(): boolean;
  reporter: WebhookReporter;
  now(): number;
  /** Seconds a client should wait when the queue is full or the gateway is stopping. */
  retryAfterSeconds: number;
}

/**
 * The decision for one webhook whose body has been read. In order: verify (401) → ping (200) → event filter
 * (200) → parse (400) → not about code (200) → match (200 when nothing matches) → stopping or no room (503, not
 * remembered) → duplicate (200) → accepted (202, reconcile requested).
 *
 * @example
 * const answer = handleWebhook(provider, { body, headers }, deps); // { status: 202, body: { delivery: '…', targets: 1 } }
 */
export function handleWebhook(provider: ProviderRuntime, request: WebhookRequest, deps: WebhookDeps): WebhookAnswer {
  const { plugin } = provider;
  const { reporter } = deps;
  // Headers only, and cheap: what the sender claims, so even a refused delivery can be found in the logs.
  const described = plugin.describe(request);
  const verdict = plugin.verify(request, provider.secrets, new Date(deps.now()));
  if (!verdict.ok) {
    reporter.rejected(provider, 401, verdict.reason, described);
    return { status: 401, body: { error: verdict.reason } };
  }
  // A delivery id the signature covers wins over the header-described one, for dedupe and in the record.
  const info = verdict.deliveryId === undefined ? described : { ...described, deliveryId: verdict.deliveryId };

  if (info.ping) {
    reporter.ignored(provider, info, 'ping');
    return { status: 200, body: { ignored: 'ping' } };
  }
  if (!provider.events.has(info.event)) {
    const reason = `event "${info.event}" is not in events [${[...provider.events].join(', ')}]`;
    reporter.ignored(provider, info, reason);
    return { status: 200, body: { ignored: reason } };
  }

  let event;
  try {
    event = plugin.parse(request, info);
  } catch (error) {
    if (!(error instanceof PayloadError) && !(error instanceof Error && error.name === 'PayloadError')) throw error;
    reporter.rejected(provider, 400, error.message, info);
    return { status: 400, body: { error: error.message } };
  }

  if (event.ignored !== undefined) {
    reporter.ignored(provider, info, event.ignored, event);
    return { status: 200, body: { ignored: event.ignored } };
  }

  const matched: string[] = [];
  const reasons: string[] = [];
  const selectors = new Map<string, ObjectSelector>();
  for (const target of provider.targets) {
    const result = target.match(event);
    if (!result.matched) {
      reasons.push(`${target.name}: ${result.reason}`);
      continue;
    }
    matched.push(target.name);
    // Two targets naming the same object ask for one reconcile, not two.
    for (const selector of target.selectors) selectors.set(selector.key, selector);
  }
  if (matched.length === 0) {
    const reason = provider.targets.length === 0 ? `no target uses provider ${provider.name}` : `no target matched (${reasons.join('; ')})`;
    reporter.ignored(provider, info, reason, event);
    return { status: 200, body: { ignored: reason } };
  }

  // Both checked before the delivery id is recorded, so a delivery refused here is not a "duplicate" when retried.
  const wanted = [...selectors.values()];
  const refusal = !deps.accepting() ? 'shutting down' : !deps.reconciler.hasRoom(wanted) ? 'reconcile queue is full' : undefined;
  if (refusal !== undefined) {
    reporter.rejected(provider, 503, refusal, info);
    return { status: 503, body: { error: refusal }, headers: { 'Retry-After': String(deps.retryAfterSeconds) } };
  }
  if (info.deliveryId !== undefined && deps.seen(provider.name, info.deliveryId)) {
    reporter.ignored(provider, info, 'duplicate delivery', event);
    return { status: 200, body: { ignored: 'duplicate delivery' } };
  }

  const ticket = deps.mintTicket();
  reporter.accepted(provider, info, event, matched, ticket);
  deps.reconciler.submit(ticket, wanted);
  return { status: 202, body: { delivery: info.deliveryId ?? `fluxgate-${ticket.seq}`, targets: matched.length } };
}
