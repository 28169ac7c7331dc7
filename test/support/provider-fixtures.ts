/**
 * Real published deliveries from `test/plugins/<provider>/fixtures/` as requests a codec can verify and parse, and the
 * provider kit the codecs receive. A `NAME.headers.json` beside `NAME.json` holds the headers the host sends;
 * placeholders in it (`<uuid>`, `<computed>`, `<…>`) are filled from `fill`, a fresh UUID for `<uuid>`, or the
 * header is left out (a signature the test computes itself).
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { PayloadError, type Event, type Ignored, type Parsed, type ProviderCodec, type WebhookRequest } from '../../src/provider-kit/contract.ts';
import { type ProviderFactory } from '../../src/provider-kit/kit.ts';
import { type ProviderSecrets } from '../../src/config/secrets.ts';
import { providerKit } from '../../src/provider-kit/kit.ts';
import { fixturePath } from './fixture-path.ts';


export interface FixtureRequest extends WebhookRequest {
  /** The body as text (for rewriting in a test). */
  text: string;
}

/**
 * The fixture `name` of `provider` (a path under its fixtures folder: `push`, or `forgejo/push` for gitea).
 *
 * @example
 * const push = fixture('bitbucket', 'push-multi-ref');
 * push.headers.set('X-Hub-Signature', `sha256=${hmacHex(secret, push.body)}`);
 */
export function fixture(provider: string, name: string, fill: Record<string, string> = {}): FixtureRequest {
  const bytes = readFileSync(fixturePath(`${provider}/${name}.json`));
  const headers = new Headers();
  const headerFile = fixturePath(`${provider}/${name}.headers.json`);
  if (existsSync(headerFile)) {
    for (const [key, value] of Object.entries(JSON.parse(readFileSync(headerFile, 'utf8')) as Record<string, string>)) {
      const filled = fill[key] ?? (value === '<uuid>' ? randomUUID() : value.startsWith('<') && value.endsWith('>') ? undefined : value);
      if (filled !== undefined) headers.set(key, filled);
    }
  }
  for (const [key, value] of Object.entries(fill)) if (!headers.has(key)) headers.set(key, value);
  return { body: new Uint8Array(bytes), headers, text: bytes.toString('utf8') };
}

/** A request with another body (a fixture edited by the test) and the same headers. */
export function withBody(request: WebhookRequest, text: string): WebhookRequest {
  return { body: new TextEncoder().encode(text), headers: new Headers(request.headers) };
}

/**
 * A fixture with its JSON edited by `edit` (the smallest change that makes the case), headers kept.
 * @example withEditedJson(fixture('quay', 'push'), (payload) => delete payload.updated_tags)
 */
export function withEditedJson(request: FixtureRequest, edit: (payload: any) => void): WebhookRequest {
  const payload = JSON.parse(request.text);
  edit(payload);
  return withBody(request, JSON.stringify(payload));
}

/**
 * The message of the PayloadError `run` throws (a 400 and its reason); any other outcome fails the test.
 * @example expect(payloadErrorOf(() => parse(request))).toBe('repository is missing')
 */
export function payloadErrorOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof PayloadError) return error.message;
    throw error;
  }
  throw new Error('expected a PayloadError, nothing was thrown');
}

/** The codec a provider file's factory makes, with the kit every provider receives. */
export function codecOf<Key>(factory: ProviderFactory): ProviderCodec<Key> {
  return factory(providerKit) as ProviderCodec<Key>;
}

/** The events of what `parse` returned; throws (failing the test) when the delivery was ignored instead. */
export function eventsOf(result: Parsed | Ignored): Event[] {
  if ('ignored' in result) throw new Error(`ignored: ${result.ignored}`);
  return result.events;
}

/** The key `verify` gets for these secrets and options, as the pipeline prepares it once per provider. */
export function keyOf<Key>(codec: ProviderCodec<Key>, secrets: ProviderSecrets, options: unknown = {}): Key {
  return codec.prepare ? codec.prepare(secrets, options) : (secrets as Key);
}
