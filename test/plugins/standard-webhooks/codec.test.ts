import { describe, expect, test } from 'bun:test';
import { createHmac } from 'node:crypto';
import { Value } from '@sinclair/typebox/value';
import standardWebhooks from '../../../plugins/standard-webhooks/codec.ts';
import { ConfigProblem, PayloadError, type Ignored, type Parsed, type WebhookRequest } from '../../../src/provider-kit/contract.ts';
import { payloadLimits } from '../../../src/provider-kit/payload.ts';
import { codecOf, fixture, keyOf, withBody } from '../../support/provider-fixtures.ts';

/** What prepare makes: the decoded signing key and the options. */
type Key = { signing?: Uint8Array; options: object };
const codec = codecOf<Key>(standardWebhooks);
/** The key and test vector the specification's own libraries test against (libraries/go/webhook_test.go). */
const VECTOR = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};
const AT_VECTOR = new Date(VECTOR.timestamp * 1000);
const OPTIONS = { repository: 'data.repository', ref: 'data.ref', commit: 'data.commit', paths: 'data.paths', event: 'type' };
const ZERO = '0000000000000000000000000000000000000000';
const encoder = new TextEncoder();

/** Signed independently of the code under test: base64 HMAC-SHA256 of "{id}.{timestamp}.{body}" with the decoded key. */
function signature(secret: string, id: string, timestamp: number, body: Uint8Array): string {
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  return `v1,${createHmac('sha256', key).update(Buffer.concat([Buffer.from(`${id}.${timestamp}.`), body])).digest('base64')}`;
}

function vectorRequest(overrides: Record<string, string> = {}, body = VECTOR.body): WebhookRequest {
  return {
    body: encoder.encode(body),
    headers: new Headers({ 'webhook-id': VECTOR.id, 'webhook-timestamp': String(VECTOR.timestamp), 'webhook-signature': VECTOR.signature, ...overrides }),
  };
}

/** The push fixture, signed now with the vector's secret. */
function push(now = AT_VECTOR): WebhookRequest & { text: string } {
  const request = fixture('standard-webhooks', 'push', { 'webhook-timestamp': String(Math.floor(now.getTime() / 1000)) });
  request.headers.set('webhook-signature', signature(VECTOR.secret, request.headers.get('webhook-id')!, Math.floor(now.getTime() / 1000), request.body));
  return request;
}

/** Parses with the provider options, as the pipeline does with the prepared key. */
function parse(request: WebhookRequest, options: object = OPTIONS): Parsed | Ignored {
  return codec.parse(request, codec.describe(request.headers), keyOf(codec, { secret: VECTOR.secret }, options));
}

/** The push fixture's payload with an edit (the edit is the test's; the rest is the fixture). */
function edited(edit: (payload: any) => void): WebhookRequest {
  const payload = JSON.parse(fixture('standard-webhooks', 'push').text);
  edit(payload);
  return withBody(push(), JSON.stringify(payload));
}

describe('standard-webhooks options', () => {
  test.each<[string, unknown]>([
    ['the fixture\'s options', OPTIONS],
    ['only a repository path', { repository: 'repository.clone_url' }],
    ['several repository paths and a fixed event name', { repository: ['repository.clone_url', 'repository.ssh_url'], branch: 'branch', tag: 'tag', eventName: 'deploy' }],
    ['a list index in a path', { repository: 'repositories.0' }],
  ])('accepts %s', (_name, options) => {
    expect(Value.Errors(codec.options!, options).First()).toBeUndefined();
  });

  test.each<[string, unknown]>([
    ['no repository', { ref: 'ref' }],
    ['an empty segment', { repository: 'data..repository' }],
    ['a leading dot', { repository: '.repository' }],
    ['a space', { repository: 'data.repo url' }],
    ['an empty list of paths', { repository: [] }],
    ['an unknown key', { repository: 'repository', branches: 'main' }],
    ['an empty event name', { repository: 'repository', eventName: '' }],
    ['a path that is not a string', { repository: 'repository', commit: 42 }],
  ])('refuses %s', (_name, options) => {
    expect(Value.Check(codec.options!, options)).toBe(false);
  });
});

describe('standard-webhooks prepare', () => {
  test('decodes the whsec_ secret once', () => {
    expect(keyOf(codec, { secret: VECTOR.secret }, OPTIONS)).toEqual({ signing: Uint8Array.from(Buffer.from('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'base64')), options: OPTIONS });
  });

  test.each([
    ['MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'a signing secret starts with whsec_ (copy it whole, as the sender shows it)'],
    ['whsec_short', 'a signing secret is whsec_ followed by the base64 of 24 to 64 bytes, and this one has 3'],
    ['whsec_not base64!', 'a signing secret is whsec_ followed by base64, and the rest of this one is not base64'],
  ])('refuses %s at the secret field, without echoing it', (secret, message) => {
    let problem: unknown;
    try {
      keyOf(codec, { secret }, OPTIONS);
    } catch (error) {
      problem = error;
    }
    expect(problem).toBeInstanceOf(ConfigProblem);
    expect(problem).toMatchObject({ field: 'secret', message });
    expect((problem as Error).message).not.toContain(secret.slice('whsec_'.length));
  });

  test('no secret (allowUnsigned): options only', () => {
    expect(keyOf(codec, {}, OPTIONS)).toEqual({ signing: undefined, options: OPTIONS });
  });
});

describe('standard-webhooks verify', () => {
  const key = keyOf(codec, { secret: VECTOR.secret }, OPTIONS);

  test("accepts the specification's published test vector, and returns the signed webhook-id", () => {
    expect(codec.verify(vectorRequest(), key, AT_VECTOR)).toEqual({ ok: true, deliveryId: VECTOR.id });
  });

  test('accepts the push fixture signed with node:crypto', () => {
    const request = push();
    expect(codec.verify(request, key, AT_VECTOR)).toEqual({ ok: true, deliveryId: request.headers.get('webhook-id')! });
  });

  test.each<[string, WebhookRequest, Date, string]>([
    ['a tampered body', vectorRequest({}, '{"test": 2432232315}'), AT_VECTOR, 'signature does not match'],
    ['another webhook-id than signed', vectorRequest({ 'webhook-id': 'msg_other' }), AT_VECTOR, 'signature does not match'],
    ['a missing signature', (() => { const r = vectorRequest(); r.headers.delete('webhook-signature'); return r; })(), AT_VECTOR, 'missing webhook-signature header'],
    ['a delivery more than 5 minutes old', vectorRequest(), new Date((VECTOR.timestamp + 301) * 1000), 'webhook-timestamp is more than 5 minutes old'],
  ])('refuses %s', (_name, request, now, reason) => {
    expect(codec.verify(request, key, now)).toEqual({ ok: false, reason });
  });

  test('another secret does not verify', () => {
    const other = keyOf(codec, { secret: `whsec_${Buffer.from('another key of 24 bytes!').toString('base64')}` }, OPTIONS);
    expect(codec.verify(vectorRequest(), other, AT_VECTOR)).toEqual({ ok: false, reason: 'signature does not match' });
  });

  test('sign makes the three headers, as the specification signs them', () => {
    const headers = codec.sign(encoder.encode(VECTOR.body), { secret: VECTOR.secret }, { now: AT_VECTOR, deliveryId: VECTOR.id, options: OPTIONS });
    expect(headers).toEqual({ 'webhook-id': VECTOR.id, 'webhook-timestamp': String(VECTOR.timestamp), 'webhook-signature': VECTOR.signature });
  });
});

describe('standard-webhooks describe and parse', () => {
  test('describe: an empty webhook-id is no delivery id (an unsigned provider would dedupe on it)', () => {
    expect(codec.describe(new Headers({ 'webhook-id': '' }))).toEqual({ deliveryId: undefined });
  });

  test('describe: webhook-id is the delivery id; only the payload can name the event', () => {
    expect(codec.describe(vectorRequest().headers)).toEqual({ deliveryId: VECTOR.id });
  });

  test('the push fixture, read through the options', () => {
    expect(parse(push())).toEqual({ events: [
      {
        event: 'git.push',
        repositories: ['http://127.0.0.1:3000/Test-CI/multi-line-secrets.git'],
        ref: 'refs/heads/main',
        branch: 'main',
        commit: '29be01c073851cf0db0c6a466e396b725a670453',
        changedPaths: ['aaa', 'aa'],
      },
    ] });
  });

  test('the event name: the path when set and present, else eventName, else push', () => {
    expect(parse(push(), { repository: 'data.repository' })).toMatchObject({ events: [{ event: 'push' }] });
    expect(parse(push(), { repository: 'data.repository', eventName: 'deploy' })).toMatchObject({ events: [{ event: 'deploy' }] });
    expect(parse(push(), { repository: 'data.repository', event: 'data.kind', eventName: 'deploy' })).toMatchObject({ events: [{ event: 'deploy' }] });
  });

  test('branch and tag paths for senders that send short names (built: data.branch / data.tag instead of data.ref)', () => {
    const branch = edited((p) => Object.assign(p.data, { ref: undefined, branch: 'release/1.2' }));
    expect(parse(branch, { ...OPTIONS, branch: 'data.branch', tag: 'data.tag' })).toMatchObject({ events: [{ ref: 'refs/heads/release/1.2', branch: 'release/1.2' }] });
    const tag = edited((p) => Object.assign(p.data, { ref: undefined, tag: 'v1.2.0' }));
    expect(parse(tag, { ...OPTIONS, branch: 'data.branch', tag: 'data.tag' })).toMatchObject({ events: [{ ref: 'refs/tags/v1.2.0', tag: 'v1.2.0' }] });
  });

  test('a commit of all zeros is a deletion (built from the fixture)', () => {
    expect(parse(edited((p) => (p.data.commit = ZERO)))).toEqual({ events: [{ event: 'git.push', repositories: ['http://127.0.0.1:3000/Test-CI/multi-line-secrets.git'], ref: 'refs/heads/main', branch: 'main', deleted: true }] });
  });

  test('repositories: a list at one path, several paths, a list index', () => {
    const list = edited((p) => (p.data.repository = ['Test-CI/multi-line-secrets', p.data.repository, 'Test-CI/multi-line-secrets']));
    expect(parse(list)).toMatchObject({ events: [{ repositories: ['Test-CI/multi-line-secrets', 'http://127.0.0.1:3000/Test-CI/multi-line-secrets.git'] }] });
    const two = edited((p) => (p.data.mirror = 'https://mirror.example/Test-CI/multi-line-secrets'));
    expect(parse(two, { ...OPTIONS, repository: ['data.repository', 'data.mirror', 'data.absent'] })).toMatchObject({ events: [{ repositories: ['http://127.0.0.1:3000/Test-CI/multi-line-secrets.git', 'https://mirror.example/Test-CI/multi-line-secrets'] }] });
    expect(parse(list, { ...OPTIONS, repository: 'data.repository.1' })).toMatchObject({ events: [{ repositories: ['http://127.0.0.1:3000/Test-CI/multi-line-secrets.git'] }] });
  });

  test('nothing at the repository paths: not about code, answered 200 (other event types share the endpoint)', () => {
    expect(parse(vectorRequest(), { repository: 'data.repository' })).toEqual({ ignored: 'payload names no repository at data.repository' });
    expect(parse(push(), { repository: 'constructor' })).toEqual({ ignored: 'payload names no repository at constructor' });
    expect(parse(edited((p) => (p.data.repository = null)))).toEqual({ ignored: 'payload names no repository at data.repository' });
  });
});

describe('standard-webhooks parse: malformed payloads and caps', () => {
  test.each<[string, WebhookRequest, object, string]>([
    ['a number where the repository is', vectorRequest(), { repository: 'test' }, 'test is not a string or a list of strings'],
    ['a non-string in the repository list', edited((p) => (p.data.repository = ['a/b', 7])), OPTIONS, 'data.repository is not a string or a list of strings'],
    ['a short name at the ref path', edited((p) => (p.data.ref = 'main')), OPTIONS, 'data.ref is not a full ref (refs/heads/… or refs/tags/…)'],
    ['a commit that is not a string', edited((p) => (p.data.commit = 29)), OPTIONS, 'data.commit is not a string'],
    ['paths that are not a list', edited((p) => (p.data.paths = 'aaa')), OPTIONS, 'data.paths is not a list'],
    ['a non-string path', edited((p) => (p.data.paths = ['aaa', {}])), OPTIONS, 'data.paths is not a string or a list of strings'],
    ['an event name that is not a string', edited((p) => (p.type = ['git.push'])), OPTIONS, 'type is not a string'],
  ])('%s', (_name, request, options, message) => {
    expect(() => parse(request, options)).toThrow(new PayloadError(message));
  });

  test(`more than ${payloadLimits.repositories} distinct repositories is a 400`, () => {
    const names = (n: number) => Array.from({ length: n }, (_, i) => `org/repo-${i}`);
    expect(parse(edited((p) => (p.data.repository = names(payloadLimits.repositories))))).toMatchObject({ events: [{ repositories: names(payloadLimits.repositories) }] });
    expect(() => parse(edited((p) => (p.data.repository = names(payloadLimits.repositories + 1))))).toThrow(
      new PayloadError(`data.repository names more than ${payloadLimits.repositories} repositories (the limit)`),
    );
  });

  // A million names used to be spread into one call, which overflows the stack (a 5xx); read one at a time, they
  // cost one linear pass and repeats collapse. (Distinct names stop at the cap: the test above.)
  test('a million-entry repository list (8 MB) is read in one pass, repeats collapsed', () => {
    const huge = withBody(push(), `{"type":"git.push","data":{"repository":[${'"org/app",'.repeat(999_999)}"org/app"]}}`);
    expect(parse(huge, { repository: 'data.repository' })).toEqual({ events: [{ event: 'push', repositories: ['org/app'], commit: undefined, changedPaths: undefined }] });
  }, 30_000);

  test(`${payloadLimits.changedPaths} changed paths are read, more are unknown (path filters pass)`, () => {
    const paths = (n: number) => Array.from({ length: n }, (_, i) => `apps/${i}.yaml`);
    expect((parse(edited((p) => (p.data.paths = paths(payloadLimits.changedPaths)))) as Parsed).events[0]!.changedPaths).toHaveLength(payloadLimits.changedPaths);
    expect(parse(edited((p) => (p.data.paths = paths(payloadLimits.changedPaths + 1))))).toMatchObject({ events: [{ changedPaths: undefined }] });
  });
});
