/** The webhook decision table, one row per answer, with a scripted provider codec and recording collaborators. */
import { describe, expect, test } from 'bun:test';
import { addressBlocks, type CompiledTarget, type ProviderRuntime } from '../../src/pipeline/compile.ts';
import { handleWebhook, type WebhookDeps } from '../../src/pipeline/handle-webhook.ts';
import { indexTargets } from '../../src/pipeline/target-index.ts';
import type { WebhookReporter } from '../../src/pipeline/webhook-reporter.ts';
import { PayloadError, type DeliveryInfo, type Event, type Ignored, type Parsed, type ProviderCodec, type VerifyResult } from '../../src/provider-kit/contract.ts';
import type { AcceptedDelivery, AcceptOutcome } from '../../src/pipeline/acceptance.ts';
import type { ObjectSelector } from '../../src/core/selector.ts';

function selector(name: string): ObjectSelector {
  return { apiVersion: 'source.toolkit.fluxcd.io/v1', kind: 'GitRepository', namespace: 'flux-system', name, annotation: { key: 'k' }, key: name, label: name };
}

interface Script {
  verify?: VerifyResult | Promise<VerifyResult>;
  /** False for an allowUnsigned provider: verify must not be called at all. */
  verifies?: boolean;
  info?: Partial<DeliveryInfo>;
  parse?: () => Parsed | Ignored;
  targets?: CompiledTarget[];
  events?: string[];
  allowedSources?: string[];
  source?: string;
  accepting?: boolean;
  /** What the journal answers (default: accepted as ticket 41). */
  journal?: AcceptOutcome | Promise<AcceptOutcome>;
}

const push: Event = { event: 'push', repositories: ['org/app'], branch: 'main', ref: 'refs/heads/main' };
const matching = (name: string, selectors: ObjectSelector[]): CompiledTarget => ({ name, match: () => ({ matched: true }), selectors, keys: [] });
const missing = (name: string, reason: string): CompiledTarget => ({ name, match: () => ({ matched: false, reason }), selectors: [selector(name)], keys: [] });

async function run(script: Script) {
  const calls: string[] = [];
  // What the journal was handed: it decides duplicates and room (test/store/journal.test.ts).
  const handed: AcceptedDelivery[] = [];
  const codec: ProviderCodec<unknown> = {
    id: 'scripted',
    defaultEvents: ['push'],
    secretFields: ['secret'],
    describe: () => ({ event: 'push', deliveryId: 'd-1', ...script.info }),
    verify: () => {
      calls.push('verify');
      return script.verify ?? { ok: true };
    },
    parse: script.parse ?? (() => ({ events: [push] })),
    sign: () => ({}),
  };
  const provider: ProviderRuntime = {
    name: 'hub',
    type: 'scripted',
    route: '/hook/hub',
    codec,
    options: undefined,
    key: {},
    verifies: script.verifies ?? true,
    events: new Set(script.events ?? ['push']),
    ...(script.allowedSources ? { allowedSources: addressBlocks(script.allowedSources) } : {}),
    targets: indexTargets(script.targets ?? [matching('app', [selector('app')])], (target) => target.keys),
  };
  const reporter: WebhookReporter = {
    rejected: (_p, status, reason) => calls.push(`rejected ${status} ${reason}`),
    ignored: (_p, _i, reason) => calls.push(`ignored ${reason}`),
    accepted: (_p, info, event, targets, ticket) => calls.push(`accepted ${targets.join(',')} #${ticket.seq} ${info.event} ${event.ref ?? event.image?.name}`),
  };
  const deps: WebhookDeps = {
    journal: { accept: (delivery) => (handed.push(delivery), script.journal ?? { kind: 'accepted', ticket: { seq: 41, acceptedAt: 1000 } }) },
    accepting: () => script.accepting ?? true,
    reporter,
    now: () => 1000,
    retryAfterSeconds: 7,
  };
  const answer = await handleWebhook(provider, { body: new Uint8Array(), headers: new Headers(), source: script.source }, deps);
  const seenKeys = handed.flatMap((delivery) => (delivery.deliveryId !== undefined ? [`${delivery.provider}\u0000${delivery.deliveryId}`] : []));
  return { answer, calls: calls.filter((call) => call !== 'verify'), verified: calls.includes('verify'), handed, seenKeys };
}

describe('handleWebhook', () => {
  test('bad authentication: 401 with the reason, nothing else happens', async () => {
    const r = await run({ verify: { ok: false, reason: 'signature does not match' } });
    expect(r.answer).toEqual({ status: 401, body: { error: 'signature does not match' } });
    expect(r.calls).toEqual(['rejected 401 signature does not match']);
    expect(r.handed).toEqual([]);
  });

  test('a failure that is not the sender\'s (an issuer out of reach): 503 with Retry-After, so the sender retries', async () => {
    const r = await run({ verify: { ok: false, reason: 'cannot fetch the keys of issuer x', retryable: true } });
    expect(r.answer).toEqual({ status: 503, body: { error: 'cannot fetch the keys of issuer x' }, headers: { 'Retry-After': '7' } });
  });

  test('verification that needs I/O (a promise) is awaited, with the same outcomes', async () => {
    expect((await run({ verify: Promise.resolve({ ok: true }) })).answer.status).toBe(202);
    expect((await run({ verify: Promise.resolve({ ok: false, reason: 'token has expired' }) })).answer).toEqual({ status: 401, body: { error: 'token has expired' } });
  });

  test('an unsigned provider (allowUnsigned, no secret) is never verified', async () => {
    const r = await run({ verifies: false, verify: { ok: false, reason: 'would refuse' } });
    expect(r.verified).toBe(false);
    expect(r.answer.status).toBe(202);
  });

  test('allowedSources: another address, or none known, is refused 401 before verification', async () => {
    const blocks = ['192.0.2.0/24', '2001:db8::/32'];
    for (const source of ['198.51.100.7', undefined, 'not-an-address']) {
      const r = await run({ allowedSources: blocks, source });
      expect(r.answer).toEqual({ status: 401, body: { error: 'requests from this address are not allowed for this provider' } });
      expect(r.verified).toBe(false);
    }
    for (const source of ['192.0.2.9', '::ffff:192.0.2.9', '2001:db8::1']) expect((await run({ allowedSources: blocks, source })).answer.status).toBe(202);
  });

  test('a ping is answered 200 and never reaches matching', async () => {
    const r = await run({ info: { event: 'ping', ping: true } });
    expect(r.answer).toEqual({ status: 200, body: { ignored: 'ping' } });
  });

  test('an event the provider does not listen to: 200 naming the events it does', async () => {
    const r = await run({ info: { event: 'issues' } });
    expect(r.answer).toEqual({ status: 200, body: { ignored: 'event "issues" is not in events [push]' } });
  });

  test('events only the body names are filtered after parsing, each by its own name', async () => {
    const body = (...names: string[]) => () => ({ events: names.map((name) => ({ ...push, event: name, ref: `refs/heads/${name}` })) });
    const none = await run({ info: { event: undefined }, events: ['git.push'], parse: body('git.pullrequest.created') });
    expect(none.answer).toEqual({ status: 200, body: { ignored: 'event "git.pullrequest.created" is not in events [git.push]' } });
    const some = await run({ info: { event: undefined }, events: ['git.push'], parse: body('other', 'git.push') });
    expect(some.answer.status).toBe(202);
    expect(some.calls).toEqual(['accepted app #41 git.push refs/heads/git.push']);
  });

  test('a malformed payload: 400 with the parser\'s reason; other errors are not swallowed', async () => {
    const r = await run({ parse: () => { throw new PayloadError('ref is not a string'); } });
    expect(r.answer).toEqual({ status: 400, body: { error: 'ref is not a string' } });
    expect(r.calls).toEqual(['rejected 400 ref is not a string']);
    expect(run({ parse: () => { throw new TypeError('bug'); } })).rejects.toThrow('bug');
  });

  test('a payload that is not about code: 200 with the provider\'s reason; no events at all likewise', async () => {
    expect((await run({ parse: () => ({ ignored: 'System Hook event "user_create" is not a push' }) })).answer.body).toEqual({ ignored: 'System Hook event "user_create" is not a push' });
    expect((await run({ parse: () => ({ events: [] }) })).answer.body).toEqual({ ignored: 'the delivery reports no change' });
  });

  test('no target for the provider, or none matching: 200 with every reason, nothing recorded as seen', async () => {
    expect((await run({ targets: [] })).answer.body).toEqual({ ignored: 'no target uses provider hub' });
    const r = await run({ targets: [missing('a', 'branch dev does not match [main]'), missing('b', 'repository org/x is not org/y')] });
    expect(r.answer).toEqual({ status: 200, body: { ignored: 'no target matched (a: branch dev does not match [main]; b: repository org/x is not org/y)' } });
    expect(r.handed).toEqual([]);
  });

  test('a multi-ref delivery: a target matches when any of its events does', async () => {
    const byRef: CompiledTarget = { name: 'release', match: (event) => (event.branch === 'release' ? { matched: true } : { matched: false, reason: `branch ${event.branch} does not match [release]` }), selectors: [selector('rel')], keys: [] };
    const events = () => ({ events: [{ ...push, branch: 'main' }, { ...push, branch: 'release', ref: 'refs/heads/release' }] });
    const r = await run({ targets: [byRef], parse: events });
    expect(r.answer.status).toBe(202);
    expect(r.calls).toEqual(['accepted release #41 push refs/heads/release']);
  });

  test('shutting down: 503 with Retry-After, and nothing is handed to the journal', async () => {
    const r = await run({ accepting: false });
    expect(r.answer).toEqual({ status: 503, body: { error: 'shutting down' }, headers: { 'Retry-After': '7' } });
    expect(r.calls).toEqual(['rejected 503 shutting down']);
    expect(r.handed).toEqual([]);
  });

  test('the journal has no room, or cannot write: 503 with Retry-After and its reason', async () => {
    for (const [outcome, reason] of [
      [{ kind: 'full' }, 'reconcile queue is full'],
      [{ kind: 'unavailable', reason: 'the state store cannot be written: disk full' }, 'the state store cannot be written: disk full'],
    ] as const) {
      const r = await run({ journal: outcome });
      expect(r.answer).toEqual({ status: 503, body: { error: reason }, headers: { 'Retry-After': '7' } });
      expect(r.calls).toEqual([`rejected 503 ${reason}`]);
    }
  });

  test('a delivery id the journal has seen: 200 duplicate', async () => {
    const r = await run({ journal: { kind: 'duplicate' } });
    expect(r.answer).toEqual({ status: 200, body: { ignored: 'duplicate delivery' } });
    expect(r.seenKeys).toEqual(['hub\u0000d-1']);
  });

  test('accepted: 202 with the journal\'s ticket, each object once even when two targets name it', async () => {
    const r = await run({ targets: [matching('a', [selector('x'), selector('y')]), missing('b', 'no'), matching('c', [selector('y')])] });
    expect(r.answer).toEqual({ status: 202, body: { delivery: 'd-1', targets: 2 } });
    expect(r.calls).toEqual(['accepted a,c #41 push refs/heads/main']);
    expect(r.handed).toHaveLength(1);
    expect(r.handed[0]!.cause).toEqual({ provider: 'hub', event: 'push', repository: 'org/app', ref: 'refs/heads/main', deliveryId: 'd-1', type: 'scripted' });
    expect(r.handed[0]!.selectors.map((s) => s.key)).toEqual(['x', 'y']);
  });

  test('a journal that answers later (a durable store): the 202 waits for it', async () => {
    let release: (outcome: AcceptOutcome) => void = () => {};
    const later = new Promise<AcceptOutcome>((resolve) => (release = resolve));
    const answered = run({ journal: later });
    release({ kind: 'accepted', ticket: { seq: 5, acceptedAt: 1000 } });
    expect((await answered).answer).toEqual({ status: 202, body: { delivery: 'd-1', targets: 1 } });
  });

  test('a delivery id the credential covers wins over the header-described one', async () => {
    const r = await run({ verify: { ok: true, deliveryId: 'signed-7' } });
    expect(r.seenKeys).toEqual(['hub\u0000signed-7']);
    expect(r.answer.body).toEqual({ delivery: 'signed-7', targets: 1 });
  });

  test('a delivery id only the body carries is used when the headers have none', async () => {
    const r = await run({ info: { deliveryId: undefined }, parse: () => ({ events: [push], deliveryId: 'body-3' }) });
    expect(r.seenKeys).toEqual(['hub\u0000body-3']);
    expect((await run({ parse: () => ({ events: [push], deliveryId: 'body-3' }) })).seenKeys).toEqual(['hub\u0000d-1']);
  });

  test('accepted without a delivery id: named by its ticket, and dedupe is not consulted', async () => {
    const r = await run({ info: { deliveryId: undefined } });
    expect(r.answer.body).toEqual({ delivery: 'fluxgate-41', targets: 1 });
    expect(r.seenKeys).toEqual([]);
  });
});
