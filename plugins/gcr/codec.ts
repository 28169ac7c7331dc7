/**
 * `gcr`: Artifact Registry (and Container Registry) notifications, pushed by a Pub/Sub push subscription.
 *
 * - verify: `Authorization: Bearer <ID token>` that Google signs for a push subscription with authentication on:
 *   Google's keys, `iss` `https://accounts.google.com` (or `accounts.google.com`), `aud` = `options.audience`, and
 *   `email` = `options.serviceAccount` with `email_verified`. Anyone can get a Google-signed token for any
 *   audience, so the service account is what ties the token to the subscription. The token covers no body: the
 *   delivery id is the body's `message.messageId`, which Pub/Sub keeps when it redelivers.
 * - parse: `message.data` is the base64 of `{action, digest?, tag?}` with full image references. INSERT → the
 *   image; DELETE → the same, deleted. A message that is no registry notification is ignored (200), since Pub/Sub
 *   would redeliver a refused one for days.
 */
import type { VerifyResult } from '../../src/provider-kit/index.ts';
import type { ProviderFactory } from '../../src/provider-kit/index.ts';
import type { OidcVerifier, PayloadReader } from '../../src/provider-kit/index.ts';

const GOOGLE_ISSUER = 'https://accounts.google.com';
const GOOGLE_JWKS = 'https://www.googleapis.com/oauth2/v3/certs';
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const PLAIN_EMAIL = /^[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9.-]{1,190}$/;

interface Options { audience: string; serviceAccount: string; issuer?: string; jwksUri?: string }
interface Key { oidc: OidcVerifier; serviceAccount: string }

const gcr: ProviderFactory = (kit) => {
  /** `message.data.<field>`, a full reference (`…/app@sha256:…`, `…/app:1.1`) → the image name and the digest or tag. */
  function reference(data: PayloadReader, field: 'digest' | 'tag'): { name: string; value: string } | undefined {
    const full = data.optionalString(field);
    if (full === undefined) return undefined;
    const at = full.lastIndexOf(field === 'digest' ? '@' : ':');
    if (at <= full.lastIndexOf('/') || at === full.length - 1) throw new kit.PayloadError(`message.data.${field} is not an image reference with a ${field}`);
    return { name: full.slice(0, at), value: full.slice(at + 1) };
  }

  return {
    id: 'gcr',
    defaultEvents: ['INSERT'],
    secretFields: [],
    keyless: true,
    options: kit.Type.Object(
      {
        audience: kit.Type.String({ minLength: 1, description: "the push subscription's audience (by default its endpoint URL)" }),
        serviceAccount: kit.Type.String({ pattern: '^[^@\\s]+@[^@\\s]+$', description: 'the email of the service account the subscription pushes as' }),
        issuer: kit.Type.Optional(kit.Type.String({ pattern: '^https?://', default: GOOGLE_ISSUER })),
        jwksUri: kit.Type.Optional(kit.Type.String({ pattern: '^https?://', description: "default: Google's keys for Google's issuer, else discovery" })),
      },
      { additionalProperties: false },
    ),
    prepare(_secrets, options): Key {
      const { audience, serviceAccount, issuer = GOOGLE_ISSUER, jwksUri } = options as Options;
      // Google's tokens may spell the issuer without its scheme (Google's own verifiers accept both).
      const issuers = issuer === GOOGLE_ISSUER ? [GOOGLE_ISSUER, 'accounts.google.com'] : [issuer];
      const keys = jwksUri ?? (issuer === GOOGLE_ISSUER ? GOOGLE_JWKS : undefined);
      const jwksUris = keys === undefined ? undefined : Object.fromEntries(issuers.map((name) => [name, keys]));
      return { oidc: kit.oidc({ issuers, audience, jwksUris }), serviceAccount };
    },
    describe: () => ({}),
    async verify(request, key: Key, now): Promise<VerifyResult> {
      const verdict = await key.oidc.verifyRequest(request, now);
      if (!verdict.ok) return verdict;
      const email = verdict.claims?.email;
      if (email !== key.serviceAccount) {
        const shown = typeof email === 'string' ? kit.printable(email, PLAIN_EMAIL) : undefined;
        return { ok: false, reason: `token email${shown ? ` ${shown}` : ''} is not the configured service account` };
      }
      if (verdict.claims?.email_verified !== true) return { ok: false, reason: 'token email is not verified' };
      // A push token is minted for the subscription and lives an hour: even a `jti` would not name one message.
      return { ok: true, claims: verdict.claims };
    },
    parse(request) {
      const message = kit.read(kit.json(request.body)).object('message');
      // Pub/Sub keeps the message id when it redelivers; the envelope spells it both ways.
      const deliveryId = kit.printable(message.optionalString('messageId') ?? message.optionalString('message_id') ?? '');
      const encoded = message.string('data');
      if (!BASE64.test(encoded)) throw new kit.PayloadError('message.data is not base64');
      let data: unknown;
      try {
        data = kit.json(Buffer.from(encoded, 'base64'));
      } catch {
        // Another publisher's message on the topic (plain text): not ours to refuse, as Pub/Sub would redeliver it.
      }
      if (typeof (data as { action?: unknown } | null)?.action !== 'string') return kit.ignore('message.data is not an Artifact Registry notification');
      const notification = kit.read(data, 'message.data');
      const action = notification.string('action');
      if (action !== 'INSERT' && action !== 'DELETE') return kit.ignore(`action ${kit.printable(action, /^[A-Z_]{1,32}$/) ? `${action} ` : ''}is not INSERT or DELETE`);
      const [digest, tag] = [reference(notification, 'digest'), reference(notification, 'tag')];
      const name = digest?.name ?? tag?.name;
      if (name === undefined) throw new kit.PayloadError('message.data has neither digest nor tag');
      if (digest && tag && digest.name !== tag.name) throw new kit.PayloadError('message.data.digest and message.data.tag name different images');
      return { events: [kit.imageEvent(action, { name, tag: tag?.value, digest: digest?.value }, action === 'DELETE')], ...(deliveryId && { deliveryId }) };
    },
    sign: () => ({}),
  };
};

export default gcr;
