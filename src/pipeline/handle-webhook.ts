/**
 * The webhook path after HTTP: source → describe → verify → filter events → parse → match → room → dedupe → hand
 * to reconcile. Returns the answer the SPEC's HTTP contract names; knows nothing of HTTP frameworks or Kubernetes.
 * Synchronous for the usual HMAC providers; a provider whose verification needs I/O (OIDC) makes it a promise.
 */
import { redactUrl } from '../core/index.ts';
import { cutText } from '../core/index.ts';
import { ipFamily } from '../core/index.ts';
import type { BlockList } from 'node:net';
import type { DiscoveryResult } from './discovered.ts';
import type { TicketCause } from '../core/index.ts';
import type { ObjectSelector } from '../core/index.ts';
import type { Acceptor, AcceptOutcome } from './acceptance.ts';
import type { ProviderRuntime } from './compile.ts';
import { matchTargets, type TargetMatch } from './match-targets.ts';
import { PayloadError, type DeliveryInfo, type Event, type VerifiedInfo, type VerifyResult, type WebhookRequest } from '../provider-kit/index.ts';
import type { WebhookReporter } from './webhook-reporter.ts';
import { subscribersOf, type RelayFilter, type RelayPublication } from './relay-port.ts';

export interface WebhookAnswer {
  status: number;
  body: Record<string, unknown>;
  headers?: Record<string, string>;
}

/** A delivery as HTTP hands it over: the exact bytes, the headers, and the sender's address when known. */
export interface IncomingWebhook extends WebhookRequest {
  /** The client's IP address (after trusted proxies), for `allowedSources`. */
  source?: string;
}

export interface WebhookDeps {
  /** The journal: dedupe, room, and the accepted work kept (durably, with a durable store) before the 202. */
  journal: Acceptor;
  /** False once shutdown has begun: checked again here, after the body was read, so no 202 can follow it. */
  accepting(): boolean;
  reporter: WebhookReporter;
  now(): number;
  /** Seconds a client should wait when the queue is full, the store or an issuer is unavailable, or the gateway is stopping. */
  retryAfterSeconds: number;
  /** With discovery on: the discovered objects the events concern, with near misses; undefined when the provider does not use it. */
  discover?(provider: string, events: readonly Event[]): DiscoveryResult | undefined;
  /** On a relay's edge: the subscribers that keep each event (accepted with the delivery, even when nothing else wants it). */
  relay?: RelayFilter;
}

/**
 * The decision for one webhook whose body has been read. In order: a source not allowed (401) → bad
 * authentication (401; 503 when the failure is not the sender's) → ping (200) → event filter (200) → parse (400)
 * → not about code (200) → match targets and discovered objects (200 when nothing matches; 503 when, besides, a
 * discovery watch has not listed yet) → stopping or no room
 * (503, not remembered) → duplicate (200) → the journal keeps it (503 when it cannot) → accepted (202).
 *
 * @example
 * const answer = await handleWebhook(provider, { body, headers, source: '192.0.2.7' }, deps); // { status: 202, body: { delivery: '…', targets: 1 } }
 */
export function handleWebhook(provider: ProviderRuntime, request: IncomingWebhook, deps: WebhookDeps): WebhookAnswer | Promise<WebhookAnswer> {
  // Headers only, and cheap: what the sender claims, so even a refused delivery can be found in the logs.
  const described = provider.codec.describe(request.headers);
  if (provider.allowedSources && !(request.source !== undefined && allowed(provider.allowedSources, request.source))) {
    return refuse(provider, deps, described, 401, 'requests from this address are not allowed for this provider');
  }
  if (!provider.verifies) return afterVerify(provider, request, deps, described, { ok: true });
  const now = new Date(deps.now());
  const verdict = provider.codec.verify(request, provider.key, now);
  const settled = (result: VerifyResult) => {
    // During a rotation: refused by the new secret, tried with the one being retired before it is a 401.
    if (result.ok || result.retryable || provider.previousKey === undefined) return afterVerify(provider, request, deps, described, result);
    const previous = provider.codec.verify(request, provider.previousKey, now);
    const retried = (second: VerifyResult) => {
      if (!second.ok) return afterVerify(provider, request, deps, described, result); // the new secret's reason
      deps.reporter.verifiedWithPrevious?.(provider, described);
      return afterVerify(provider, request, deps, described, second);
    };
    return previous instanceof Promise ? previous.then(retried) : retried(previous);
  };
  return verdict instanceof Promise ? verdict.then(settled) : settled(verdict);
}

/** Whether the sender's address is in the provider's blocks; an IPv4 client seen on an IPv6 socket counts as IPv4. */
function allowed(blocks: BlockList, source: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(source);
  try {
    return mapped ? blocks.check(mapped[1]!, 'ipv4') : blocks.check(source, ipFamily(source) === 6 ? 'ipv6' : 'ipv4');
  } catch {
    return false; // not an address at all
  }
}

function refuse(provider: ProviderRuntime, deps: WebhookDeps, info: DeliveryInfo, status: 400 | 401 | 503, reason: string): WebhookAnswer {
  deps.reporter.rejected(provider, status, reason, info);
  if (status === 503) return { status, body: { error: reason }, headers: { 'Retry-After': String(deps.retryAfterSeconds) } };
  return { status, body: { error: reason } };
}

function ignore(provider: ProviderRuntime, deps: WebhookDeps, info: DeliveryInfo, reason: string, event?: Event): WebhookAnswer {
  deps.reporter.ignored(provider, info, reason, event);
  return { status: 200, body: { ignored: reason } };
}

function notListened(provider: ProviderRuntime, event: string): string {
  return `event "${event}" is not in events [${[...provider.events].join(', ')}]`;
}

/** What the pipeline makes of a verified delivery, before anything is recorded or submitted. */
export type Decision =
  | { kind: 'ignored'; info: VerifiedInfo; reason: string; event?: Event }
  | { kind: 'malformed'; info: VerifiedInfo; reason: string }
  | {
      kind: 'matched' | 'unmatched';
      info: VerifiedInfo;
      events: Event[];
      match: TargetMatch;
      /** With discovery on: what it found for these events, near misses included. */
      found?: DiscoveryResult;
      /** On a relay's edge: the events kept for subscribers. */
      relayed: RelayPublication[];
      /** Why nothing matched (`unmatched`): the targets' reasons and discovery's. */
      reason: string;
      /** The event shown in records: the first that matched a target or found an object, else the first. */
      event: Event;
    };

/**
 * The decision for a verified delivery, with no side effect: ping → event filter → parse → not about code →
 * body-named events filtered → targets matched. `handleWebhook` acts on it; `fluxgate explain` prints it.
 *
 * @example
 * decide(provider, { body, headers }, provider.codec.describe(headers)); // { kind: 'matched', match: { targets: ['app'], … } }
 */
export function decide(provider: ProviderRuntime, request: WebhookRequest, verified: VerifiedInfo, discover?: WebhookDeps['discover'], relay?: RelayFilter): Decision {
  let info = verified;
  if (info.ping) return { kind: 'ignored', info, reason: 'ping' };
  const listened = (event: string) => provider.anyEvent === true || provider.events.has(event);
  if (info.event !== undefined && !listened(info.event)) return { kind: 'ignored', info, reason: notListened(provider, info.event) };

  let parsed;
  try {
    parsed = provider.codec.parse(request, info, provider.key);
  } catch (error) {
    if (!(error instanceof PayloadError) && !(error instanceof Error && error.name === 'PayloadError')) throw error;
    return { kind: 'malformed', info, reason: error.message };
  }
  if ('ignored' in parsed) return { kind: 'ignored', info, reason: parsed.ignored };
  if (info.deliveryId === undefined && parsed.deliveryId !== undefined) info = { ...info, deliveryId: parsed.deliveryId };
  if (parsed.events.length === 0) return { kind: 'ignored', info, reason: 'the delivery reports no change' };
  // Events only the body names are filtered now, each by its own name.
  const events = info.event !== undefined ? parsed.events : parsed.events.filter((event) => listened(event.event));
  if (info.event === undefined) info = { ...info, event: (events[0] ?? parsed.events[0]!).event };
  if (events.length === 0) return { kind: 'ignored', info, reason: notListened(provider, info.event!), event: parsed.events[0] };
  const match = matchTargets(provider, events);
  const found = discover?.(provider.name, events);
  const discovered = found?.requests ?? [];
  const relayed = relay?.(provider, info.deliveryId, events) ?? [];
  if (match.targets.length === 0 && discovered.length === 0 && relayed.length === 0) {
    // With discovery and no target for this provider, the targets' "no target uses provider …" says nothing useful.
    const reason = (!found ? match.reason : provider.targets.size === 0 ? found.reason : `${match.reason}; discovery: ${found.reason}`) + (relay ? '; relay: no subscriber\'s filter allows it' : '');
    return { kind: 'unmatched', info, events, match, reason, relayed, event: found?.event ?? events[0]!, ...(found ? { found } : {}) };
  }
  const event = match.targets.length > 0 ? match.event : discovered.length > 0 ? found!.event : (relayed[0]?.event.event ?? events[0]!);
  return { kind: 'matched', info, events, match, reason: '', relayed, event, ...(found ? { found } : {}) };
}

function afterVerify(provider: ProviderRuntime, request: WebhookRequest, deps: WebhookDeps, described: DeliveryInfo, verdict: VerifyResult): WebhookAnswer | Promise<WebhookAnswer> {
  if (!verdict.ok) return refuse(provider, deps, described, verdict.retryable ? 503 : 401, verdict.reason);
  // A delivery id the credential covers wins over the header-described one, for dedupe and in the record.
  const verified: VerifiedInfo = { ...described, ...(verdict.deliveryId !== undefined ? { deliveryId: verdict.deliveryId } : {}), ...(verdict.claims ? { claims: verdict.claims } : {}) };
  const decision = decide(provider, request, verified, deps.discover, deps.relay);
  const { info } = decision;
  if (decision.kind === 'ignored') return ignore(provider, deps, info, decision.reason, decision.event);
  if (decision.kind === 'malformed') return refuse(provider, deps, info, 400, decision.reason);
  if (decision.kind === 'unmatched') {
    // Nothing matched, but discovery has not listed everything yet: the objects this push concerns may be among
    // those not known yet. A 200 would be final (hosts never redeliver it); a 503 is not remembered, so the
    // host's retry (or a redelivery by hand) is answered once the list is done.
    const unlisted = decision.found?.unlisted ?? [];
    if (unlisted.length > 0) return refuse(provider, deps, info, 503, `discovery has not listed ${unlisted.slice(0, 3).join(', ')}${unlisted.length > 3 ? ', …' : ''} yet, so what this push concerns is not known: retry shortly`);
    return ignore(provider, deps, info, decision.reason, decision.event);
  }
  const { match, found } = decision;
  const discovered = found?.requests ?? [];
  if (!deps.accepting()) return refuse(provider, deps, info, 503, 'shutting down');

  const wanted: ObjectSelector[] = discovered.length === 0 ? match.selectors : [...match.selectors, ...discovered.map((request) => request.selector)];
  const event = decision.event;
  const outcome = deps.journal.accept({
    provider: provider.name,
    ...(info.deliveryId !== undefined ? { deliveryId: info.deliveryId } : {}),
    cause: causeOf(provider, info, event),
    selectors: wanted,
    ...(decision.relayed.length > 0 ? { relay: decision.relayed } : {}),
  });
  const answered = (result: AcceptOutcome): WebhookAnswer => {
    // Refused before anything was kept: the delivery id is not remembered, so the provider's retry is accepted.
    if (result.kind === 'full') return refuse(provider, deps, info, 503, 'reconcile queue is full');
    if (result.kind === 'unavailable') return refuse(provider, deps, info, 503, result.reason);
    if (result.kind === 'duplicate') return ignore(provider, deps, info, 'duplicate delivery', match.event);
    const { ticket } = result;
    // Watches not listed yet were not looked at: the record says so beside the near misses.
    const unlisted = found?.unlisted?.length ? [`not listed yet, not looked at: ${found.unlisted.join(', ')}`] : [];
    const report = found && { objects: discovered.map((request) => ({ cluster: request.cluster, object: request.selector.label, rule: request.rule })), nearMisses: [...found.misses, ...unlisted] };
    const subscribers = subscribersOf(decision.relayed);
    deps.reporter.accepted(provider, info, event, match.targets, ticket, report, subscribers);
    return { status: 202, body: { delivery: info.deliveryId ?? `fluxgate-${ticket.seq}`, targets: match.targets.length, ...(found ? { discovered: discovered.length } : {}), ...(deps.relay ? { relayed: subscribers.length } : {}) } };
  };
  return outcome instanceof Promise ? outcome.then(answered) : answered(outcome);
}

/**
 * What the ticket carries into reconcile and its Kubernetes Event: cut to SHOWN_CHARACTERS and the repository
 * without credentials, so a ticket waiting for its patch keeps no payload-sized string alive and the Event quotes
 * no secret.
 */
function causeOf(provider: ProviderRuntime, info: VerifiedInfo, event: Event): TicketCause {
  const repository = event.repositories[0] ?? event.image?.name;
  const ref = event.ref ?? event.tag;
  return {
    provider: provider.name,
    ...(info.event !== undefined ? { event: cutText(info.event) } : {}),
    ...(repository ? { repository: cutText(redactUrl(repository)) } : {}),
    ...(ref ? { ref: cutText(ref) } : {}),
    ...(event.commit ? { commit: cutText(event.commit) } : {}),
    ...(info.deliveryId !== undefined ? { deliveryId: cutText(info.deliveryId) } : {}),
    type: provider.type,
    ...(event.pushedAt !== undefined && Number.isFinite(event.pushedAt) ? { pushedAt: event.pushedAt } : {}),
  };
}
