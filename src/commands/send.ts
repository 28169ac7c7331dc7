/**
 * `fluxgate send`: builds a small, realistic delivery for a provider type (its sample), authenticates it as the
 * host would (the type's own `sign`, or a bearer token for OIDC types), and posts it, so a user can test a route
 * end to end without pushing to Git or a registry.
 */
import { createHash, randomUUID } from 'node:crypto';
import { Value } from '@sinclair/typebox/value';
import { closestName } from '../config/index.ts';
import type { Catalog } from '../provider-kit/index.ts';
import type { ProviderCodec } from '../provider-kit/index.ts';
import type { ProviderSecrets } from '../config/index.ts';
import { OutboundRefusal, pinnedFetch } from '../core/index.ts';
import type { SampleInput } from '../provider-kit/index.ts';
import { builtinCatalog, providerKit } from '../provider-kit/index.ts';
import type { CommandContext } from './command-context.ts';

export interface SendOptions {
  url: string;
  providerType: string;
  secret?: string;
  signingSecret?: string;
  /** For OIDC types: the ID token to send as `Authorization: Bearer`. */
  bearerToken?: string;
  /** Send no credential (a provider with `allowUnsigned: true`). */
  unsigned?: boolean;
  /** The provider's options (`key=value`), where its signature depends on them (a header name, a user). */
  option?: string[];
  event?: string;
  repository?: string;
  branch?: string;
  tag?: string;
  /** Registry types: the image pushed. */
  image?: string;
}

export interface SendDeps {
  /** The types, with the samples of the built-in ones. */
  catalog: Catalog;
  now?: () => Date;
}

const FLAGS: Record<keyof ProviderSecrets, string> = { secret: '--secret S', signingSecret: '--signing-secret S' };

function optionsOf(codec: ProviderCodec<unknown>, pairs: readonly string[] = []): unknown {
  const given = Object.fromEntries(pairs.map((pair) => [pair.slice(0, Math.max(0, pair.indexOf('='))), pair.slice(pair.indexOf('=') + 1)]));
  return codec.options ? Value.Default(codec.options, given) : given;
}

/**
 * What is wrong with `send`'s arguments, as one sentence naming every missing argument, or undefined.
 *
 * @example
 * sendArgumentsProblem({}, deps); // 'missing --provider-type T and URL'
 * sendArgumentsProblem({ providerType: 'github', url: 'http://127.0.0.1:9292/hook/github' }, deps);
 * // 'missing --secret S (type github signs with it)'
 */
export function sendArgumentsProblem(options: Partial<SendOptions>, deps: SendDeps): string | undefined {
  const missing: string[] = [];
  if (!options.providerType) missing.push('--provider-type T');
  if (!options.url) missing.push('URL');
  const codec = options.providerType ? deps.catalog.get(options.providerType) : undefined;
  if (options.providerType && (!codec || !deps.catalog.samples.has(options.providerType))) {
    const known = [...deps.catalog.keys()].filter((type) => deps.catalog.samples.has(type));
    const near = closestName(options.providerType, known);
    const unknown = `${codec ? 'no sample delivery for' : 'unknown'} provider type "${options.providerType}" (${near ? `did you mean "${near}"? ` : ''}known: ${known.join(', ')})`;
    return missing.length > 0 ? `${unknown}; missing ${missing.join(' and ')}` : unknown;
  }
  if (codec?.keyless && !options.bearerToken) missing.push(`--bearer-token T (type ${codec.id} is authenticated by an ID token from its issuer)`);
  else if (codec && !codec.keyless && !options.unsigned && codec.secretFields.length > 0 && !codec.secretFields.some((field) => options[field])) {
    missing.push(`${codec.secretFields.map((field) => FLAGS[field]).join(' or ')} (type ${codec.id} signs with ${codec.secretFields.length > 1 ? 'one of them' : 'it'}), or --unsigned`);
  }
  if (missing.length > 0) return `missing ${missing.slice(0, -1).join(', ')}${missing.length > 1 ? ' and ' : ''}${missing[missing.length - 1]}`;
  if (codec?.prepare && !codec.keyless) {
    try {
      codec.prepare({ secret: options.secret, signingSecret: options.signingSecret }, optionsOf(codec, options.option));
    } catch (error) {
      const field = (error as { field?: string }).field;
      return `${field && field in FLAGS ? FLAGS[field as keyof ProviderSecrets].split(' ')[0] : 'options'}: ${(error as Error).message}`;
    }
  }
  return undefined;
}

/** `org/repo` or a URL → the slug and the host (when a URL names one). */
function repositoryOf(value: string | undefined): SampleInput['repository'] {
  const text = (value ?? 'example-org/example-app').trim();
  const url = /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/]*@)?([^/:]+)(?::\d+)?\/(.+)$/i.exec(text) ?? /^(?:[^@/]+@)?([^/:]+):(.+)$/.exec(text);
  const slug = (url ? url[2]! : text).replace(/\.git$/, '').replace(/^\/+|\/+$/g, '');
  return url ? { slug, host: url[1]! } : { slug };
}

export function sampleInput(options: SendOptions, now: Date, deliveryId: string): SampleInput {
  const repository = repositoryOf(options.repository);
  const ref = options.tag !== undefined ? { ref: `refs/tags/${options.tag}`, tag: options.tag } : { ref: `refs/heads/${options.branch ?? 'main'}`, branch: options.branch ?? 'main' };
  const seed = `${repository.slug}|${ref.ref}|${now.getTime()}`;
  const commit = createHash('sha1').update(seed).digest('hex');
  const digest = `sha256:${createHash('sha256').update(seed).digest('hex')}`;
  return { event: options.event, repository, ref, commit, image: { name: options.image ?? repository.slug, tag: options.tag ?? 'latest', digest }, deliveryId, now };
}

export async function runSend(options: SendOptions, deps: SendDeps, out: (line: string) => void, err: (line: string) => void): Promise<number> {
  const problem = sendArgumentsProblem(options, deps);
  const codec = deps.catalog.get(options.providerType);
  const sample = deps.catalog.samples.get(options.providerType);
  if (problem !== undefined || !codec || !sample) {
    err(`error: ${problem}`);
    return 2;
  }
  // One delivery id for the body, the headers and a signature that covers it (GitLab's webhook-id = Idempotency-Key).
  const now = deps.now?.() ?? new Date();
  const input = sampleInput(options, now, randomUUID());
  const body = new TextEncoder().encode(JSON.stringify(sample.body(input)));
  const secrets: ProviderSecrets = { secret: options.secret, signingSecret: options.signingSecret };
  const signed = codec.keyless
    ? { Authorization: `Bearer ${options.bearerToken}` }
    : !options.unsigned && codec.secretFields.some((field) => secrets[field])
      ? codec.sign(body, secrets, { now, deliveryId: input.deliveryId, options: optionsOf(codec, options.option) })
      : {};
  let response: Response;
  try {
    // The delivery's token or signature goes to this URL only, never on through a redirect.
    response = await pinnedFetch(options.url)(options.url, { method: 'POST', headers: { ...sample.headers(input), ...signed }, body });
  } catch (error) {
    if (error instanceof OutboundRefusal) err(`${options.url}: ${error.message} (send posts the signed delivery only to the URL given: give the address the gateway answers on)`);
    else err(`cannot reach ${options.url}: ${(error as Error).message}`);
    return 1;
  }
  out(`${response.status} ${response.statusText}`);
  out(await response.text());
  return response.ok ? 0 : 1;
}

export type SendFlags = Omit<SendOptions, 'url' | 'providerType'> & { providerType?: string };

/** `fluxgate send [URL]` from its command line: the built-in types carry their samples. */
export async function sendCommand(url: string | undefined, flags: SendFlags, context: CommandContext): Promise<number> {
  const deps = { catalog: builtinCatalog(await context.builtins(), providerKit) };
  const options = { ...flags, url };
  const problem = sendArgumentsProblem(options, deps);
  if (problem !== undefined) context.usage(problem);
  return runSend({ ...options, url: url!, providerType: flags.providerType! }, deps, context.io.out, context.io.err);
}
