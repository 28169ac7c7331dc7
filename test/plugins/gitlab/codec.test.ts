import { describe, expect, test } from 'bun:test';
import { createHmac, randomBytes } from 'node:crypto';
import gitlab from '../../../plugins/gitlab/codec.ts';
import { PayloadError, type WebhookRequest } from '../../../src/provider-kit/contract.ts';
import { providerKit, type ProviderKit } from '../../../src/provider-kit/kit.ts';
import { drive } from '../../support/codec-adapter.ts';
import { deliveryBody, gitlabSignedWebhook, gitlabWebhook } from '../../support/webhooks.ts';

const plugin = drive(gitlab);
const TOKEN = 'glwht-7c1f0b2e-token';
const KEY = randomBytes(32);
const SIGNING_SECRET = `whsec_${KEY.toString('base64')}`;
const NOW = new Date('2025-11-04T10:06:03Z');
const NOW_SECONDS = Math.floor(NOW.getTime() / 1000);
const encoder = new TextEncoder();

/** A documented example (GitLab docs), as text. */
function fixture(name: string): string {
  return new TextDecoder().decode(deliveryBody(`gitlab/${name}`));
}

function request(body: string | Uint8Array, headers: Record<string, string>): WebhookRequest {
  return { body: typeof body === 'string' ? encoder.encode(body) : body, headers: new Headers(headers) };
}

/** Standard Webhooks signature computed independently of the plugin. */
function standardSignature(key: Uint8Array | string, id: string, timestamp: number | string, body: string): string {
  return createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
}

function parse(req: WebhookRequest) {
  return plugin.parse(req, plugin.describe(req));
}

function delivery(name: string, event: string, extra: Record<string, string> = {}): WebhookRequest {
  return request(fixture(name), { 'Content-Type': 'application/json', 'X-Gitlab-Event': event, 'Idempotency-Key': 'idem-0001', ...extra });
}

describe('gitlab verify: X-Gitlab-Token', () => {
  const body = fixture('push-hook.json');
  const cases: { name: string; headers: Record<string, string>; ok: boolean; reason?: RegExp }[] = [
    { name: 'right token', headers: { 'X-Gitlab-Token': TOKEN }, ok: true },
    { name: 'wrong token', headers: { 'X-Gitlab-Token': 'glwht-guess' }, ok: false, reason: /^X-Gitlab-Token header does not match$/ },
    { name: 'token with an extra character', headers: { 'X-Gitlab-Token': `${TOKEN}x` }, ok: false, reason: /does not match/ },
    { name: 'missing token', headers: {}, ok: false, reason: /^missing X-Gitlab-Token header$/ },
    { name: 'a signature does not help without signingSecret', headers: { 'webhook-signature': 'v1,AAAA', 'webhook-id': 'x', 'webhook-timestamp': String(NOW_SECONDS) }, ok: false, reason: /missing X-Gitlab-Token/ },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const result = plugin.verify(request(body, c.headers), { secret: TOKEN }, NOW);
      expect(result.ok).toBe(c.ok);
      if (!result.ok) {
        expect(result.reason).toMatch(c.reason!);
        expect(result.reason).not.toContain(TOKEN);
      }
    });
  }

  test('the token is compared through the kit\'s header-token check (constant time), never with ===', () => {
    const calls: [string, string | undefined][] = [];
    const spyKit: ProviderKit = {
      ...providerKit,
      headerToken: (request, header, secret) => {
        calls.push([request.headers.get(header) ?? '', secret]);
        return providerKit.headerToken(request, header, secret);
      },
    };
    const spied = drive(() => gitlab(spyKit));
    expect(spied.verify(request(body, { 'X-Gitlab-Token': TOKEN }), { secret: TOKEN }, NOW).ok).toBe(true);
    expect(spied.verify(request(body, { 'X-Gitlab-Token': 'nope' }), { secret: TOKEN }, NOW).ok).toBe(false);
    expect(calls).toEqual([[TOKEN, TOKEN], ['nope', TOKEN]]);
    // A kit whose comparison says no must make verification fail even for the right token.
    const denying = drive(() => gitlab({ ...providerKit, headerToken: () => ({ ok: false, reason: 'no' }) }));
    expect(denying.verify(request(body, { 'X-Gitlab-Token': TOKEN }), { secret: TOKEN }, NOW).ok).toBe(false);
  });

  test('nothing configured', () => {
    const result = plugin.verify(request(body, { 'X-Gitlab-Token': TOKEN }), {}, NOW);
    expect(result.ok).toBe(false);
  });
});

describe('gitlab verify: Standard Webhooks signing token', () => {
  const body = fixture('push-hook.json');
  const id = 'idem-5f1c2a7e';
  const signed = (timestamp: number, signatureHeader?: string, key: Uint8Array | string = KEY) => ({
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': signatureHeader ?? `v1,${standardSignature(key, id, timestamp, body)}`,
  });
  const other = standardSignature(randomBytes(32), id, NOW_SECONDS, body);
  const cases: { name: string; headers: Record<string, string>; secret?: string; ok: boolean; reason?: RegExp }[] = [
    { name: 'valid signature', headers: signed(NOW_SECONDS), ok: true },
    { name: '4 minutes old', headers: signed(NOW_SECONDS - 240), ok: true },
    { name: 'exactly 5 minutes old', headers: signed(NOW_SECONDS - 300), ok: true },
    { name: 'older than 5 minutes', headers: signed(NOW_SECONDS - 301), ok: false, reason: /^webhook-timestamp is more than 5 minutes old$/ },
    { name: 'a day old', headers: signed(NOW_SECONDS - 86_400), ok: false, reason: /more than 5 minutes old/ },
    { name: 'more than 5 minutes in the future', headers: signed(NOW_SECONDS + 301), ok: false, reason: /^webhook-timestamp is more than 5 minutes in the future$/ },
    { name: 'several signatures, one valid', headers: signed(NOW_SECONDS, `v1,${other} v1a,c2lnbmF0dXJl v1,${standardSignature(KEY, id, NOW_SECONDS, body)}`), ok: true },
    { name: 'several signatures, none valid', headers: signed(NOW_SECONDS, `v1,${other} v1,${other}`), ok: false, reason: /^signature does not match$/ },
    { name: 'only non-v1 signatures', headers: signed(NOW_SECONDS, 'v1a,c2lnbmF0dXJl v2,abc'), ok: false, reason: /no v1 signature/ },
    { name: 'signed with another key', headers: signed(NOW_SECONDS, `v1,${other}`), ok: false, reason: /does not match/ },
    { name: 'timestamp not in seconds', headers: { ...signed(NOW_SECONDS), 'webhook-timestamp': NOW.toISOString() }, ok: false, reason: /not a unix time/ },
    { name: 'missing webhook-id', headers: { 'webhook-timestamp': String(NOW_SECONDS), 'webhook-signature': signed(NOW_SECONDS)['webhook-signature'] }, ok: false, reason: /missing webhook-id/ },
    { name: 'missing webhook-timestamp', headers: { 'webhook-id': id, 'webhook-signature': signed(NOW_SECONDS)['webhook-signature'] }, ok: false, reason: /missing webhook-timestamp/ },
    { name: 'missing webhook-signature', headers: { 'webhook-id': id, 'webhook-timestamp': String(NOW_SECONDS) }, ok: false, reason: /^missing webhook-signature header$/ },
    { name: 'a whsec_ secret is base64-decoded, not used as text', headers: signed(NOW_SECONDS, undefined, SIGNING_SECRET), ok: false, reason: /does not match/ },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const secret = c.secret ?? SIGNING_SECRET;
      const result = plugin.verify(request(body, c.headers), { signingSecret: secret }, NOW);
      expect(result.ok).toBe(c.ok);
      if (!result.ok) {
        expect(result.reason).toMatch(c.reason!);
        expect(result.reason).not.toContain(secret);
        expect(result.reason).not.toContain(standardSignature(KEY, id, NOW_SECONDS, body));
      }
    });
  }

  test('a verified signature returns the webhook-id it covers; the unsigned Idempotency-Key plays no part', () => {
    const headers = { ...signed(NOW_SECONDS), 'Idempotency-Key': 'replayed-with-a-fresh-key' };
    expect(plugin.verify(request(body, headers), { signingSecret: SIGNING_SECRET }, NOW)).toEqual({ ok: true, deliveryId: id });
    // A token covers no id: the pipeline keeps the one describe() read.
    expect(plugin.verify(request(body, { 'X-Gitlab-Token': TOKEN }), { secret: TOKEN }, NOW)).toEqual({ ok: true });
  });

  test('a body changed after signing does not verify', () => {
    const result = plugin.verify(request(body.replace('"refs/heads/master"', '"refs/heads/mastir"'), signed(NOW_SECONDS)), { signingSecret: SIGNING_SECRET }, NOW);
    expect(result).toEqual({ ok: false, reason: 'signature does not match' });
  });

  test('the signature covers the exact bytes, including non-UTF-8 ones', () => {
    const bytes = new Uint8Array([0x7b, 0x22, 0x61, 0x22, 0x3a, 0xff, 0xfe, 0x7d]);
    const signature = createHmac('sha256', KEY).update(Buffer.concat([Buffer.from(`${id}.${NOW_SECONDS}.`), bytes])).digest('base64');
    const headers = { 'webhook-id': id, 'webhook-timestamp': String(NOW_SECONDS), 'webhook-signature': `v1,${signature}` };
    expect(plugin.verify(request(bytes, headers), { signingSecret: SIGNING_SECRET }, NOW).ok).toBe(true);
  });

  describe('both secret and signingSecret configured', () => {
    const both = { secret: TOKEN, signingSecret: SIGNING_SECRET };
    test('valid signature is enough, whatever the token', () => {
      expect(plugin.verify(request(body, { ...signed(NOW_SECONDS), 'X-Gitlab-Token': 'wrong' }), both, NOW).ok).toBe(true);
    });
    test('a present but invalid signature is rejected even with the right token', () => {
      const result = plugin.verify(request(body, { ...signed(NOW_SECONDS - 600), 'X-Gitlab-Token': TOKEN }), both, NOW);
      expect(result).toEqual({ ok: false, reason: 'webhook-timestamp is more than 5 minutes old' });
    });
    test('without a signature the token decides', () => {
      expect(plugin.verify(request(body, { 'X-Gitlab-Token': TOKEN }), both, NOW).ok).toBe(true);
      expect(plugin.verify(request(body, { 'X-Gitlab-Token': 'wrong' }), both, NOW).ok).toBe(false);
    });
    test('neither header', () => {
      expect(plugin.verify(request(body, {}), both, NOW)).toEqual({ ok: false, reason: 'missing webhook-signature or X-Gitlab-Token header' });
    });
  });
});

describe('gitlab sign', () => {
  const body = encoder.encode(fixture('push-hook.json'));
  test('secret gives X-Gitlab-Token', () => {
    expect(plugin.sign(body, { secret: TOKEN })).toEqual({ 'X-Gitlab-Token': TOKEN });
  });
  test('signingSecret gives the Standard Webhooks headers, matching an independent HMAC', () => {
    const headers = plugin.sign(body, { signingSecret: SIGNING_SECRET }, { deliveryId: 'idem-42', now: NOW });
    expect(headers).toEqual({
      'webhook-id': 'idem-42',
      'webhook-timestamp': String(NOW_SECONDS),
      'webhook-signature': `v1,${standardSignature(KEY, 'idem-42', NOW_SECONDS, fixture('push-hook.json'))}`,
    });
    expect(plugin.verify({ body, headers: new Headers(headers) }, { signingSecret: SIGNING_SECRET }, NOW).ok).toBe(true);
    // The same headers are stale ten minutes later.
    expect(plugin.verify({ body, headers: new Headers(headers) }, { signingSecret: SIGNING_SECRET }, new Date(NOW.getTime() + 600_000)).ok).toBe(false);
  });
  test('both secrets give all four headers', () => {
    expect(Object.keys(plugin.sign(body, { secret: TOKEN, signingSecret: SIGNING_SECRET }, { now: NOW })).sort()).toEqual(['X-Gitlab-Token', 'webhook-id', 'webhook-signature', 'webhook-timestamp']);
  });
});

describe('gitlab describe', () => {
  const cases: { name: string; headers: Record<string, string>; deliveryId: string | undefined }[] = [
    {
      name: 'Idempotency-Key wins, never X-Gitlab-Event-UUID',
      headers: { 'Idempotency-Key': 'idem-1', 'webhook-id': 'idem-1', 'X-Gitlab-Webhook-UUID': 'uuid-per-request', 'X-Gitlab-Event-UUID': 'chain-id' },
      deliveryId: 'idem-1',
    },
    { name: 'webhook-id next', headers: { 'webhook-id': 'wh-2', 'X-Gitlab-Webhook-UUID': 'uuid-per-request', 'X-Gitlab-Event-UUID': 'chain-id' }, deliveryId: 'wh-2' },
    { name: 'X-Gitlab-Webhook-UUID last', headers: { 'X-Gitlab-Webhook-UUID': 'uuid-per-request', 'X-Gitlab-Event-UUID': 'chain-id' }, deliveryId: 'uuid-per-request' },
    { name: 'X-Gitlab-Event-UUID alone is not a delivery id', headers: { 'X-Gitlab-Event-UUID': 'chain-id' }, deliveryId: undefined },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const info = plugin.describe(request('{}', { 'X-Gitlab-Event': 'Push Hook', ...c.headers }));
      expect(info.event).toBe('Push Hook');
      expect(info.deliveryId).toBe(c.deliveryId);
      expect(info.ping).toBeFalsy();
    });
  }
});

describe('gitlab parse', () => {
  const diaspora = ['mike/diaspora', 'http://example.com/mike/diaspora', 'http://example.com/mike/diaspora.git', 'git@example.com:mike/diaspora.git'];

  test('Push Hook: GitLab listed 2 of 4 commits, so the changed paths are unknown', () => {
    const event = parse(delivery('push-hook.json', 'Push Hook'));
    expect(event).toEqual({
      event: 'Push Hook',
      repositories: diaspora,
      defaultBranch: 'master',
      ref: 'refs/heads/master',
      branch: 'master',
      commit: 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7',
      deleted: false,
      changedPaths: undefined,
    });
  });

  test('Push Hook listing every commit: the union of their files', () => {
    const payload = JSON.parse(fixture('push-hook.json'));
    payload.total_commits_count = payload.commits.length;
    const event = parse(request(JSON.stringify(payload), { 'X-Gitlab-Event': 'Push Hook' }));
    expect(event.changedPaths).toEqual(['CHANGELOG', 'app/controller/application.rb']);
  });

  test('Tag Push Hook', () => {
    const event = parse(delivery('tag-push-hook.json', 'Tag Push Hook'));
    expect(event).toMatchObject({ ref: 'refs/tags/v1.0.0', tag: 'v1.0.0', commit: '82b3d5ae55f7080f1e6022629cdb57bfae7cccc7', deleted: false });
    expect(event.branch).toBeUndefined();
    expect(event.changedPaths).toBeUndefined();
    expect(event.repositories).toEqual([
      'jsmith/example',
      'http://example.com/jsmith/example',
      'http://example.com/jsmith/example.git',
      'git@example.com:jsmith/example.git',
      'ssh://git@example.com/jsmith/example.git',
    ]);
  });

  test('System Hook push: same shape; its commits carry no file lists, so paths are unknown', () => {
    const event = parse(delivery('system-hook-push.json', 'System Hook'));
    expect(event).toMatchObject({ event: 'System Hook', ref: 'refs/heads/master', branch: 'master', commit: 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7', repositories: diaspora });
    expect(event.changedPaths).toBeUndefined();
  });

  test('System Hook tag push of an annotated tag: the commit is checkout_sha, not the tag object', () => {
    const event = parse(delivery('system-hook-tag-push.json', 'System Hook'));
    expect(event).toMatchObject({ tag: 'v1.0.0', commit: '5937ac0a7beb003549fc5fd26fc247adbce4a52e' });
  });

  test('System Hook that is not a push is ignored with a reason; one without event_name is a PayloadError', () => {
    expect(parse(delivery('system-hook-user-create.json', 'System Hook')).ignored).toBe('System Hook event "user_create" is not a push');
    expect(() => parse(request('{"name":"x"}', { 'X-Gitlab-Event': 'System Hook' }))).toThrow('System Hook has no event_name');
  });

  test('commit list capped by GitLab (total_commits_count > commits.length): paths unknown', () => {
    const payload = JSON.parse(fixture('push-hook.json'));
    payload.commits = Array.from({ length: 20 }, (_, index) => ({ ...payload.commits[0], id: index.toString(16).padStart(40, '0'), added: [], modified: [`f${index}`] }));
    payload.total_commits_count = 57;
    expect(parse(request(JSON.stringify(payload), { 'X-Gitlab-Event': 'Push Hook' })).changedPaths).toBeUndefined();
    payload.total_commits_count = 20;
    expect(parse(request(JSON.stringify(payload), { 'X-Gitlab-Event': 'Push Hook' })).changedPaths).toHaveLength(20);
  });

  test('branch deleted (after all zeros)', () => {
    const payload = JSON.parse(fixture('push-hook.json'));
    payload.before = payload.after;
    payload.after = '0000000000000000000000000000000000000000';
    payload.checkout_sha = null;
    payload.commits = [];
    payload.total_commits_count = 0;
    const event = parse(request(JSON.stringify(payload), { 'X-Gitlab-Event': 'Push Hook' }));
    expect(event.deleted).toBe(true);
    expect(event.commit).toBeUndefined();
    expect(event.changedPaths).toBeUndefined();
  });

  test('project only (no repository object) is enough', () => {
    const payload = JSON.parse(fixture('push-hook.json'));
    delete payload.repository;
    expect(parse(request(JSON.stringify(payload), { 'X-Gitlab-Event': 'Push Hook' })).repositories).toEqual(diaspora);
  });

  const bad: [string, string, RegExp][] = [
    ['malformed JSON', '{"object_kind":"push",', /not valid JSON/],
    ['not an object', '"push"', /not a JSON object/],
    ['no project or repository', '{"object_kind":"push","ref":"refs/heads/main"}', /no project or repository/],
    ['project of the wrong type', '{"object_kind":"push","ref":"refs/heads/main","project":"infra/x"}', /project is not an object/],
    ['ref missing', '{"object_kind":"push","project":{"path_with_namespace":"a/b"}}', /ref is missing/],
    ['commits not an array', '{"object_kind":"push","ref":"refs/heads/main","project":{"path_with_namespace":"a/b"},"commits":"x"}', /commits is not an array/],
    ['total_commits_count not a number', '{"object_kind":"push","ref":"refs/heads/main","project":{"path_with_namespace":"a/b"},"commits":[],"total_commits_count":"3"}', /total_commits_count/],
  ];
  for (const [name, body, reason] of bad) {
    test(`PayloadError: ${name}`, () => {
      let caught: unknown;
      try {
        parse(request(body, { 'X-Gitlab-Event': 'Push Hook' }));
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(PayloadError);
      expect((caught as Error).message).toMatch(reason);
    });
  }
});

describe('gitlab: deliveries as test/support builds them', () => {
  test('a token push with the repository and branch rewritten parses', () => {
    const hook = gitlabWebhook(TOKEN, { repository: 'platform/fleet', branch: 'main', deliveryId: 'idem-7' });
    const req = request(hook.body, hook.headers);
    expect(plugin.verify(req, { secret: TOKEN }, NOW)).toEqual({ ok: true });
    expect(plugin.describe(req).deliveryId).toBe('idem-7');
    expect(parse(req)).toMatchObject({
      event: 'Push Hook',
      branch: 'main',
      repositories: ['platform/fleet', 'http://example.com/platform/fleet', 'http://example.com/platform/fleet.git', 'git@example.com:platform/fleet.git'],
    });
  });

  test('a signed tag push verifies with the independently computed signature', () => {
    const hook = gitlabSignedWebhook(SIGNING_SECRET, NOW_SECONDS, { tag: 'v2.0.0', deliveryId: 'idem-8' });
    const req = request(hook.body, hook.headers);
    expect(plugin.verify(req, { signingSecret: SIGNING_SECRET }, NOW)).toEqual({ ok: true, deliveryId: 'idem-8' });
    expect(parse(req)).toMatchObject({ event: 'Tag Push Hook', tag: 'v2.0.0' });
  });
});
