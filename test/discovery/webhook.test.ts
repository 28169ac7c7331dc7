/** The webhook answer with discovery on: discovered objects are reconciled like configured ones, 202 without any target. */
import { describe, expect, test } from 'bun:test';
import type { DiscoveryResult } from '../../src/pipeline/discovered.ts';
import type { CompiledTarget, ProviderRuntime } from '../../src/pipeline/compile.ts';
import { handleWebhook, type WebhookDeps } from '../../src/pipeline/handle-webhook.ts';
import type { Event, ProviderCodec } from '../../src/provider-kit/contract.ts';
import { indexTargets } from '../../src/pipeline/target-index.ts';
import type { DiscoveredReport } from '../../src/pipeline/webhook-reporter.ts';
import type { ObjectSelector } from '../../src/core/selector.ts';

const push: Event = { event: 'push', repositories: ['https://github.com/org/app'], branch: 'main', ref: 'refs/heads/main' };
const selector = (name: string, clusters?: string[]): ObjectSelector => ({
  apiVersion: 'source.toolkit.fluxcd.io/v1', kind: 'GitRepository', namespace: 'flux-system', name, annotation: { key: 'reconcile.fluxcd.io/requestedAt' }, key: `${name}@${clusters ?? ''}`, label: `GitRepository flux-system/${name}`, ...(clusters ? { clusters } : {}),
});

async function deliver(targets: CompiledTarget[], found: DiscoveryResult | undefined, room = true) {
  const codec: ProviderCodec<unknown> = { id: 'hub', defaultEvents: ['push'], secretFields: [], describe: () => ({ event: 'push', deliveryId: 'd-1' }), verify: () => ({ ok: true }), parse: () => ({ events: [push] }), sign: () => ({}) };
  const provider: ProviderRuntime = { name: 'github', type: 'github', route: '/hook/github', codec, options: undefined, key: {}, verifies: false, events: new Set(['push']), targets: indexTargets(targets, () => []) };
  const submitted: string[] = [];
  const records: { ignored?: string; accepted?: { targets: string[]; discovered?: DiscoveredReport } }[] = [];
  const deps: WebhookDeps = {
    journal: {
      accept(delivery) {
        if (!room) return { kind: 'full' };
        submitted.push(...delivery.selectors.map((s) => `${s.label}${s.clusters ? ` in ${s.clusters}` : ''}`));
        return { kind: 'accepted', ticket: { seq: 7, acceptedAt: 0 } };
      },
    },
    accepting: () => true,
    reporter: {
      rejected: () => {},
      ignored: (_p, _i, reason) => void records.push({ ignored: reason }),
      accepted: (_p, _i, _e, names, _t, discovered) => void records.push({ accepted: { targets: names, ...(discovered ? { discovered } : {}) } }),
    },
    now: () => 0,
    retryAfterSeconds: 5,
    discover: () => found,
  };
  const answer = await handleWebhook(provider, { body: new Uint8Array(), headers: new Headers() }, deps);
  return { answer, submitted, records };
}

const found = (requests: DiscoveryResult['requests'], misses: string[] = [], reason = 'no watched object follows this push'): DiscoveryResult => ({ requests, misses, reason, event: push });
const configured: CompiledTarget = { name: 'app', match: () => ({ matched: true }), selectors: [selector('configured')], keys: [] };
const missing: CompiledTarget = { name: 'other', match: () => ({ matched: false, reason: 'branch main does not match [dev]' }), selectors: [selector('other')], keys: [] };

describe('webhooks with discovery', () => {
  test('no target at all, something discovered: 202, the objects submitted in their clusters, the record names each rule and the near misses', async () => {
    const rule = 'discovered: GitRepository flux-system/app, url https://github.com/org/app, ref branch main';
    const { answer, submitted, records } = await deliver([], found([{ cluster: 'eu', selector: selector('app', ['eu']), rule }], ['cluster eu: GitRepository flux-system/dev: follows branch dev, not branch main']));
    expect(answer).toEqual({ status: 202, body: { delivery: 'd-1', targets: 0, discovered: 1 } });
    expect(submitted).toEqual(['GitRepository flux-system/app in eu']);
    expect(records).toEqual([{ accepted: { targets: [], discovered: { objects: [{ cluster: 'eu', object: 'GitRepository flux-system/app', rule }], nearMisses: ['cluster eu: GitRepository flux-system/dev: follows branch dev, not branch main'] } } }]);
  });

  test('configured and discovered together: both submitted, in one delivery', async () => {
    const { answer, submitted } = await deliver([configured], found([{ selector: selector('app'), rule: 'discovered: …' }]));
    expect(answer).toMatchObject({ status: 202, body: { targets: 1, discovered: 1 } });
    expect(submitted).toEqual(['GitRepository flux-system/configured', 'GitRepository flux-system/app']);
  });

  test('nothing anywhere: 200 with the reason of both; with no target for the provider, discovery alone speaks', async () => {
    const withTargets = await deliver([missing], found([], [], 'no watched object follows this push (GitRepository ns/x: suspended (spec.suspend: true))'));
    expect(withTargets.answer).toEqual({ status: 200, body: { ignored: 'no target matched (other: branch main does not match [dev]); discovery: no watched object follows this push (GitRepository ns/x: suspended (spec.suspend: true))' } });
    const discoveryOnly = await deliver([], found([], [], 'no watched object uses repository github.com/org/app'));
    expect(discoveryOnly.answer).toEqual({ status: 200, body: { ignored: 'no watched object uses repository github.com/org/app' } });
  });

  test('discovered objects count for room: no room, 503 and nothing submitted', async () => {
    const { answer, submitted } = await deliver([], found([{ selector: selector('app'), rule: 'discovered: …' }]), false);
    expect(answer).toMatchObject({ status: 503, body: { error: 'reconcile queue is full' } });
    expect(submitted).toEqual([]);
  });

  test('nothing matched while a watch has not listed yet: 503 with Retry-After (the host retries), not a final 200', async () => {
    const { answer, submitted, records } = await deliver([missing], { ...found([], [], 'no watched object uses repository github.com/org/app; not listed yet: GitRepository'), unlisted: ['GitRepository'] });
    expect(answer).toEqual({ status: 503, body: { error: 'discovery has not listed GitRepository yet, so what this push concerns is not known: retry shortly' }, headers: { 'Retry-After': '5' } });
    expect(submitted).toEqual([]);
    expect(records).toEqual([]);
  });

  test('something matched while another watch has not listed yet: accepted, and the record says what was not looked at', async () => {
    const { answer, records } = await deliver([configured], { ...found([]), unlisted: ['Application in cluster eu'] });
    expect(answer).toMatchObject({ status: 202, body: { targets: 1, discovered: 0 } });
    expect(records[0]!.accepted!.discovered!.nearMisses).toEqual(['not listed yet, not looked at: Application in cluster eu']);
  });

  test('a provider that does not use discovery answers as without it', async () => {
    const { answer } = await deliver([configured], undefined);
    expect(answer).toEqual({ status: 202, body: { delivery: 'd-1', targets: 1 } });
  });
});
