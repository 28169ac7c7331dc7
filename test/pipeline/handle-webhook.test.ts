/** The webhook decision table, one row per answer, with a scripted plugin and recording collaborators. */
import { describe, expect, test } from 'bun:test';
import type { CompiledTarget, ProviderRuntime } from '../../src/pipeline/compile.ts';
import { handleWebhook, type WebhookDeps } from '../../src/pipeline/handle-webhook.ts';
import type { WebhookReporter } from '../../src/pipeline/webhook-reporter.ts';
import { PayloadError, type DeliveryInfo, type GitEvent, type ProviderPlugin } from '../../src/plugins/plugin-api.ts';
import type { ObjectSelector, Ticket } from '../../src/reconcile/reconciler.ts';

function selector(name: string): ObjectSelector {
  return { apiVersion: 'source.toolkit.fluxcd.io/v1', kind: 'GitRepository', namespace: 'flux-system', name, annotation: { key: 'k' }, key: name, label: name };
}

interface Script {
  verify?: { ok: true; deliveryId?: string } | { ok: false; reason: string };
  info?: Partial<DeliveryInfo>;
  parse?: () => GitEvent;
  targets?: CompiledTarget[];
  accepting?: boolean;
  room?: boolean;
  duplicate?: boolean;
}

const push: GitEvent = { event: 'push', repositories: ['org/app'], branch: 'main', ref: 'refs/heads/main' };
const matching = (name: string, selectors: ObjectSelector[]): CompiledTarget => ({ name, match: () => ({ matched: true }), selectors });
const missing = (name: string, reason: string): CompiledTarget => ({ name, match: () => ({ matched: false, reason }), selectors: [selector(name)] });

function run(script: Script) {
  const calls: string[] = [];
  const submitted: { ticket: Ticket; selectors: readonly ObjectSelector[] }[] = [];
  const seenKeys: string[] = [];
  const plugin: ProviderPlugin = {
    id: 'scripted',
    defaultEvents: ['push'],
    secretFields: ['secret'],
    describe: () => ({ event: 'push', deliveryId: 'd-1', ...script.info }),
    verify: () => script.verify ?? { ok: true },
    parse: script.parse ?? (() => push),
    sample: () => ({ body: new Uint8Array(), headers: {} }),
    sign: () => ({}),
  };
  const provider: ProviderRuntime = { name: 'hub', type: 'scripted', plugin, secrets: { secret: 's' }, events: new Set(['push']), targets: script.targets ?? [matching('app', [selector('app')])] };
  const reporter: WebhookReporter = {
    rejected: (_p, status, reason) => calls.push(`rejected ${status} ${reason}`),
    ignored: (_p, _i, reason) => calls.push(`ignored ${reason}`),
    accepted: (_p, _i, _e, targets, ticket) => calls.push(`accepted ${targets.join(',')} #${ticket.seq}`),
  };
  const deps: WebhookDeps = {
    reconciler: { submit: (ticket, selectors) => submitted.push({ ticket, selectors }), hasRoom: () => script.room ?? true },
    seen: (provider, id) => (seenKeys.push(`${provider}\u0000${id}`), script.duplicate ?? false),
    mintTicket: () => ({ seq: 41, acceptedAt: 1000 }),
    accepting: () => script.accepting ?? true,
    reporter,
    now: () => 1000,
    retryAfterSeconds: 7,
  };
  const answer = handleWebhook(provider, { body: new Uint8Array(), headers: new Headers() }, deps);
  return { answer, calls, submitted, seenKeys };
}

describe('handleWebhook', () => {
  test('bad authentication: 401 with the reason, nothing else happens', () => {
    const r = run({ verify: { ok: false, reason: 'signature does not match' } });
    expect(r.answer).toEqual({ status: 401, body: { error: 'signature does not match' } });
    expect(r.calls).toEqual(['rejected 401 signature does not match']);
    expect(r.submitted).toEqual([]);
    expect(r.seenKeys).toEqual([]);
  });

  test('a ping is answered 200 and never reaches matching', () => {
    const r = run({ info: { event: 'ping', ping: true } });
    expect(r.answer).toEqual({ status: 200, body: { ignored: 'ping' } });
  });

  test('an event the provider does not listen to: 200 naming the events it does', () => {
    const r = run({ info: { event: 'issues' } });
    expect(r.answer).toEqual({ status: 200, body: { ignored: 'event "issues" is not in events [push]' } });
  });

  test('a malformed payload: 400 with the parser\'s reason; other errors are not swallowed', () => {
    const r = run({ parse: () => { throw new PayloadError('ref is not a string'); } });
    expect(r.answer).toEqual({ status: 400, body: { error: 'ref is not a string' } });
    expect(r.calls).toEqual(['rejected 400 ref is not a string']);
    expect(() => run({ parse: () => { throw new TypeError('bug'); } })).toThrow('bug');
  });

  test('a payload that is not about code: 200 with the plugin\'s reason', () => {
    const r = run({ parse: () => ({ ...push, ignored: 'System Hook event "user_create" is not a push' }) });
    expect(r.answer.body).toEqual({ ignored: 'System Hook event "user_create" is not a push' });
  });

  test('no target for the provider, or none matching: 200 with every reason, nothing recorded as seen', () => {
    expect(run({ targets: [] }).answer.body).toEqual({ ignored: 'no target uses provider hub' });
    const r = run({ targets: [missing('a', 'branch dev does not match [main]'), missing('b', 'repository org/x is not org/y')] });
    expect(r.answer).toEqual({ status: 200, body: { ignored: 'no target matched (a: branch dev does not match [main]; b: repository org/x is not org/y)' } });
    expect(r.seenKeys).toEqual([]);
  });

  test('shutting down or no room: 503 with Retry-After, and the delivery is not recorded as seen', () => {
    for (const [script, reason] of [
      [{ accepting: false }, 'shutting down'],
      [{ room: false }, 'reconcile queue is full'],
    ] as const) {
      const r = run(script);
      expect(r.answer).toEqual({ status: 503, body: { error: reason }, headers: { 'Retry-After': '7' } });
      expect(r.calls).toEqual([`rejected 503 ${reason}`]);
      expect(r.seenKeys).toEqual([]);
      expect(r.submitted).toEqual([]);
    }
  });

  test('a delivery id seen before: 200 duplicate, nothing submitted', () => {
    const r = run({ duplicate: true });
    expect(r.answer).toEqual({ status: 200, body: { ignored: 'duplicate delivery' } });
    expect(r.seenKeys).toEqual(['hub\u0000d-1']);
    expect(r.submitted).toEqual([]);
  });

  test('accepted: 202, one ticket, each object once even when two targets name it', () => {
    const r = run({ targets: [matching('a', [selector('x'), selector('y')]), missing('b', 'no'), matching('c', [selector('y')])] });
    expect(r.answer).toEqual({ status: 202, body: { delivery: 'd-1', targets: 2 } });
    expect(r.calls).toEqual(['accepted a,c #41']);
    expect(r.submitted).toHaveLength(1);
    expect(r.submitted[0]!.ticket).toEqual({ seq: 41, acceptedAt: 1000 });
    expect(r.submitted[0]!.selectors.map((s) => s.key)).toEqual(['x', 'y']);
  });

  test('a delivery id the signature covers wins over the header-described one', () => {
    const r = run({ verify: { ok: true, deliveryId: 'signed-7' } });
    expect(r.seenKeys).toEqual(['hub\u0000signed-7']);
    expect(r.answer.body).toEqual({ delivery: 'signed-7', targets: 1 });
  });

  test('accepted without a delivery id: named by its ticket, and dedupe is not consulted', () => {
    const r = run({ info: { deliveryId: undefined } });
    expect(r.answer.body).toEqual({ delivery: 'fluxgate-41', targets: 1 });
    expect(r.seenKeys).toEqual([]);
  });
});
