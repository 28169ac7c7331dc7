/**
 * `gcr`: Artifact Registry notifications through a Pub/Sub push subscription, verified against a local issuer
 * (real JWKS over HTTP, real RS256 signatures) standing in for Google's keys, and parsed from the fixtures.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { Value } from '@sinclair/typebox/value';
import gcr from '../../../plugins/gcr/codec.ts';
import type { Ignored, Parsed, WebhookRequest } from '../../../src/provider-kit/contract.ts';
import { startOidcIssuer, type OidcIssuer } from '../../support/oidc-issuer.ts';
import { codecOf, fixture, keyOf, withBody } from '../../support/provider-fixtures.ts';

/**
 * The claim set of a push request's token as Google publishes it (Pub/Sub docs, "Authentication for push
 * subscriptions" → "JWT format": https://cloud.google.com/pubsub/docs/authenticate-push-subscriptions). Tokens
 * are signed with the local issuer's key; verification runs at a time inside the token's own iat..exp.
 */
const GOOGLE_CLAIMS = {
  aud: 'https://example.com',
  azp: '113774264463038321964',
  email: 'gae-gcp@appspot.gserviceaccount.com',
  sub: '113774264463038321964',
  email_verified: true,
  exp: 1550185935,
  iat: 1550182335,
  iss: 'https://accounts.google.com',
};
const NOW = new Date((GOOGLE_CLAIMS.iat + 60) * 1000);
const MESSAGE_ID = '2070443601311540';
const IMAGE = 'us-west1-docker.pkg.dev/my-project/my-repo/hello-world';
const DIGEST = 'sha256:6ec128e26cd5...';

const codec = codecOf<unknown>(gcr);
let issuer: OidcIssuer;
beforeAll(async () => {
  issuer = await startOidcIssuer();
});
afterAll(() => issuer.stop());

/** The default configuration (Google's issuer), with only the keys fetched from the local issuer. */
const options = () => ({ audience: GOOGLE_CLAIMS.aud, serviceAccount: GOOGLE_CLAIMS.email, jwksUri: issuer.jwksUri });
const key = (extra: Record<string, unknown> = {}) => keyOf(codec, {}, { ...options(), ...extra });
const signed = async (name: string, claims: Record<string, unknown> = {}) =>
  fixture('gcr', name, { Authorization: `Bearer ${await issuer.token({ ...GOOGLE_CLAIMS, ...claims })}` });
const parse = (request: WebhookRequest) => codec.parse(request, codec.describe(request.headers), key());
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** The push fixture with its `message` edited (the smallest change that makes the case). */
function envelope(name: string, edit: (message: Record<string, unknown>) => void): WebhookRequest {
  const request = fixture('gcr', name);
  const body = JSON.parse(request.text);
  edit(body.message);
  return withBody(request, JSON.stringify(body));
}
/** The push fixture with its notification (the base64 `data`) edited. */
function notification(name: string, edit: (data: Record<string, unknown>) => void): WebhookRequest {
  return envelope(name, (message) => {
    const data = JSON.parse(Buffer.from(message.data as string, 'base64').toString('utf8'));
    edit(data);
    message.data = Buffer.from(JSON.stringify(data)).toString('base64');
  });
}

describe('gcr verify: the Google-signed ID token of the push', () => {
  test("Google's published claim set: accepted, with its claims", async () => {
    const verdict = await codec.verify(await signed('push-insert-tag'), key(), NOW);
    expect(verdict).toMatchObject({ ok: true, claims: { email: GOOGLE_CLAIMS.email } });
  });

  test('the issuer spelled without its scheme (accounts.google.com) is accepted too', async () => {
    expect(await codec.verify(await signed('push-insert-tag', { iss: 'accounts.google.com' }), key(), NOW)).toMatchObject({ ok: true });
  });

  test("the token names no delivery: a jti would not be one (a push token lives an hour), the message id is (parse's)", async () => {
    const verdict = await codec.verify(await signed('push-insert-tag', { jti: 'token-id' }), key(), NOW);
    expect(verdict).toMatchObject({ ok: true, claims: { jti: 'token-id' } });
    expect(verdict).not.toHaveProperty('deliveryId');
  });

  test.each<[string, () => Promise<WebhookRequest>, string]>([
    ['no Authorization header', async () => fixture('gcr', 'push-insert-tag'), 'missing Authorization: Bearer token'],
    ['Basic credentials instead of a token', async () => fixture('gcr', 'push-insert-tag', { Authorization: 'Basic dXNlcjpwYXNz' }), 'missing Authorization: Bearer token'],
    ['another audience', () => signed('push-insert-tag', { aud: 'https://elsewhere.example.com' }), 'token aud claim is not accepted'],
    [
      "another service account's token (anyone can get one for any audience)",
      () => signed('push-insert-tag', { email: 'intruder@other-project.iam.gserviceaccount.com' }),
      'token email intruder@other-project.iam.gserviceaccount.com is not the configured service account',
    ],
    ['an email that is not plain is not echoed', () => signed('push-insert-tag', { email: '<img src=x>@x' }), 'token email is not the configured service account'],
    ['no email at all', () => signed('push-insert-tag', { email: undefined }), 'token email is not the configured service account'],
    ['email not verified', () => signed('push-insert-tag', { email_verified: false }), 'token email is not verified'],
    ['email_verified as a string', () => signed('push-insert-tag', { email_verified: 'true' }), 'token email is not verified'],
    ['another issuer', () => signed('push-insert-tag', { iss: 'https://evil.example.com' }), 'token issuer https://evil.example.com is not trusted'],
    ['expired', () => signed('push-insert-tag', { iat: GOOGLE_CLAIMS.iat - 7200, exp: GOOGLE_CLAIMS.iat - 3600 }), 'token has expired'],
  ])('%s is refused', async (_name, make, reason) => {
    expect(await codec.verify(await make(), key(), NOW)).toEqual({ ok: false, reason });
  });

  test('a token whose claims were altered is refused', async () => {
    const [header, , signature] = (await issuer.token({ ...GOOGLE_CLAIMS, email: 'someone@else.iam.gserviceaccount.com' })).split('.');
    const forged = `${header}.${b64(GOOGLE_CLAIMS)}.${signature}`;
    const request = fixture('gcr', 'push-insert-tag', { Authorization: `Bearer ${forged}` });
    expect(await codec.verify(request, key(), NOW)).toEqual({ ok: false, reason: 'token signature does not match' });
  });

  test('the token covers no body: an edited body still verifies (Pub/Sub signs the sender, not the content)', async () => {
    const request = notification('push-insert-tag', (data) => (data.tag = `${IMAGE}:9.9`));
    request.headers.set('Authorization', `Bearer ${await issuer.token(GOOGLE_CLAIMS)}`);
    expect(await codec.verify(request, key(), NOW)).toMatchObject({ ok: true });
  });

  test('keys that cannot be fetched are a retryable failure (503), not a 401', async () => {
    // A port that was just listening and is closed now: the connection is refused.
    const gone = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => new Response() });
    const jwksUri = `http://127.0.0.1:${gone.port}/jwks`;
    await gone.stop(true);
    expect(await codec.verify(await signed('push-insert-tag'), key({ jwksUri }), NOW)).toMatchObject({ ok: false, retryable: true });
  });

  // gcr always fetches keys from a key URL (Google's): a googleapis.com outage must be answered 503 + Retry-After,
  // not counted as bad authentication.
  test('keys answered with 503 are a retryable failure, not a 401', async () => {
    const request = await signed('push-insert-tag');
    issuer.setDown(true);
    try {
      expect(await codec.verify(request, key(), NOW)).toMatchObject({ ok: false, retryable: true });
    } finally {
      issuer.setDown(false);
    }
  });

  test('an overridden issuer is found by discovery, and only as configured', async () => {
    const local = key({ issuer: issuer.issuer, jwksUri: undefined });
    const own = await signed('push-insert-tag', { iss: issuer.issuer });
    expect(await codec.verify(own, local, NOW)).toMatchObject({ ok: true, claims: { iss: issuer.issuer } });
    const google = await signed('push-insert-tag');
    expect(await codec.verify(google, local, NOW)).toEqual({ ok: false, reason: 'token issuer https://accounts.google.com is not trusted' });
  });
});

describe('gcr describe', () => {
  test.each(['push-insert-digest', 'push-insert-tag', 'push-delete-tag', 'pubsub-push-envelope'])('%s: Pub/Sub sends no event or id header', (name) => {
    expect(codec.describe(fixture('gcr', name).headers)).toEqual({});
  });
});

describe('gcr parse', () => {
  test.each<[string, Parsed | Ignored]>([
    ['push-insert-digest', { events: [{ event: 'INSERT', repositories: [], image: { name: IMAGE, digest: DIGEST }, commit: DIGEST }], deliveryId: MESSAGE_ID }],
    ['push-insert-tag', { events: [{ event: 'INSERT', repositories: [], image: { name: IMAGE, tag: '1.1', digest: DIGEST }, tag: '1.1', commit: DIGEST }], deliveryId: MESSAGE_ID }],
    ['push-delete-tag', { events: [{ event: 'DELETE', repositories: [], image: { name: IMAGE, tag: '1.1' }, tag: '1.1', deleted: true }], deliveryId: MESSAGE_ID }],
    // The documented envelope carries "Hello Cloud Pub/Sub! …": another publisher's message on the topic.
    ['pubsub-push-envelope', { ignored: 'message.data is not an Artifact Registry notification' }],
  ])('%s', (name, expected) => {
    expect(parse(fixture('gcr', name))).toStrictEqual(expected);
  });

  test('an image in a registry with a port keeps it in the name', () => {
    const request = notification('push-insert-tag', (data) => {
      data.digest = 'registry.example.com:5000/team/app@sha256:abc';
      data.tag = 'registry.example.com:5000/team/app:2.0';
    });
    expect(parse(request)).toMatchObject({ events: [{ image: { name: 'registry.example.com:5000/team/app', tag: '2.0', digest: 'sha256:abc' } }] });
  });

  test('the delivery id is message.messageId, else message_id, kept only when short and plain', () => {
    const deliveryIdOf = (edit: (message: Record<string, unknown>) => void) => (parse(envelope('push-insert-tag', edit)) as Parsed).deliveryId;
    expect(deliveryIdOf((message) => delete message.messageId)).toBe(MESSAGE_ID);
    expect(deliveryIdOf((message) => (message.messageId = '1'.repeat(64)))).toBe('1'.repeat(64));
    expect(deliveryIdOf((message) => (message.messageId = '1'.repeat(65)))).toBeUndefined();
    expect(deliveryIdOf((message) => (message.messageId = 'not plain!'))).toBeUndefined();
    expect(deliveryIdOf((message) => (delete message.messageId, delete message.message_id))).toBeUndefined();
  });

  test.each<[string, (data: Record<string, unknown>) => void, string]>([
    ['an unknown action, named', (data) => (data.action = 'UPDATE'), 'action UPDATE is not INSERT or DELETE'],
    ['an unknown action, not plain', (data) => (data.action = '<b>x</b>'), 'action is not INSERT or DELETE'],
  ])('%s is ignored (200: Pub/Sub would redeliver a refusal)', (_name, edit, ignored) => {
    expect(parse(notification('push-insert-tag', edit))).toEqual({ ignored });
  });

  test.each<[string, () => WebhookRequest, string]>([
    ['body not JSON', () => withBody(fixture('gcr', 'push-insert-tag'), '{"message":'), 'payload is not valid JSON'],
    ['no message', () => withBody(fixture('gcr', 'push-insert-tag'), '{"subscription":"projects/p/subscriptions/s"}'), 'message is missing'],
    ['data not a string', () => envelope('push-insert-tag', (message) => (message.data = 7)), 'message.data is not a string'],
    ['no data', () => envelope('push-insert-tag', (message) => delete message.data), 'message.data is missing'],
    ['data not base64', () => envelope('push-insert-tag', (message) => (message.data = '{"action":"INSERT"}')), 'message.data is not base64'],
    ['digest not a string', () => notification('push-insert-tag', (data) => (data.digest = 1)), 'message.data.digest is not a string'],
    ['digest without @', () => notification('push-insert-digest', (data) => (data.digest = IMAGE)), 'message.data.digest is not an image reference with a digest'],
    ['tag without :', () => notification('push-delete-tag', (data) => (data.tag = IMAGE)), 'message.data.tag is not an image reference with a tag'],
    ['neither digest nor tag', () => notification('push-delete-tag', (data) => delete data.tag), 'message.data has neither digest nor tag'],
    [
      'digest and tag of different images',
      () => notification('push-insert-tag', (data) => (data.tag = 'us-west1-docker.pkg.dev/my-project/my-repo/other:1.1')),
      'message.data.digest and message.data.tag name different images',
    ],
  ])('%s: PayloadError naming the field', (_name, make, message) => {
    let error: unknown;
    try {
      parse(make());
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).name).toBe('PayloadError');
    expect((error as Error).message).toStartWith(message);
  });
});

describe('gcr options and sign', () => {
  const schema = codec.options!;
  test.each<[string, unknown, boolean]>([
    ['audience and service account', { audience: 'https://fluxgate.example.com/hook/gcr', serviceAccount: 'push@proj.iam.gserviceaccount.com' }, true],
    ['with an issuer and keys override', { ...{ audience: 'a', serviceAccount: 'a@b' }, issuer: 'http://127.0.0.1:1', jwksUri: 'http://127.0.0.1:1/jwks' }, true],
    ['no service account (any Google identity would pass)', { audience: 'a' }, false],
    ['no audience', { serviceAccount: 'a@b' }, false],
    ['an empty audience', { audience: '', serviceAccount: 'a@b' }, false],
    ['a service account that is no email', { audience: 'a', serviceAccount: 'push-sa' }, false],
    ['an issuer that is no URL', { audience: 'a', serviceAccount: 'a@b', issuer: 'accounts.google.com' }, false],
    ['an unknown option', { audience: 'a', serviceAccount: 'a@b', subscription: 'x' }, false],
  ])('%s', (_name, value, valid) => {
    expect(Value.Check(schema, value)).toBe(valid);
  });

  test('the missing field is named', () => {
    expect([...Value.Errors(schema, { audience: 'a' })].map((error) => error.path)).toContain('/serviceAccount');
  });

  test('sign: nothing to sign with (Google holds the keys)', () => {
    expect(codec.sign(new Uint8Array(), {}, { now: NOW, deliveryId: 'x', options: options() })).toEqual({});
    expect(codec).toMatchObject({ keyless: true, secretFields: [], defaultEvents: ['INSERT'] });
  });
});
