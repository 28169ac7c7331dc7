/**
 * A host's refusal, kept with what explains it: the status, the host's own message (bounded, one line) and the
 * headers that name missing permissions (GitHub's `X-Accepted-OAuth-Scopes`). Each host client turns it into advice.
 */
import { OutboundRefusal } from '../core/index.ts';

export class HostError extends Error {
  override name = 'HostError';
  constructor(
    readonly status: number,
    /** `GET /repos/acme/app/hooks` */
    readonly request: string,
    /** The host's message, at most 300 printable characters; may be empty. */
    readonly hostMessage: string,
    readonly headers: Headers = new Headers(),
  ) {
    super(`${request}: ${status}${hostMessage ? ` ${hostMessage}` : ''}`);
  }

  /** True when the host still refused because of a rate limit (too long to wait, or retries used up). */
  get rateLimited(): boolean {
    return this.status === 429 || this.headers.get('x-ratelimit-remaining') === '0' || this.headers.get('ratelimit-remaining') === '0';
  }
}

/** The host's message from an error body: `message` (GitHub, Gitea, GitLab), `error` (GitLab), or the text. */
function messageOf(text: string): string {
  let message: unknown = text;
  try {
    const body = JSON.parse(text) as Record<string, unknown>;
    message = body.message ?? body.error ?? text;
  } catch {
    // not JSON: the text itself
  }
  const line = (typeof message === 'string' ? message : JSON.stringify(message)).replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}

/**
 * The HostError for a failed answer (reads at most the first 64 KiB of its body).
 *
 * @example
 * if (!response.ok) throw await hostError(response, 'GET /repos/acme/app/hooks');
 */
export async function hostError(response: Response, request: string): Promise<HostError> {
  const text = response.body ? await readBounded(response, 64 * 1024) : '';
  return new HostError(response.status, request, messageOf(text), response.headers);
}

async function readBounded(response: Response, limit: number): Promise<string> {
  const reader = response.body!.getReader();
  const chunks: Uint8Array[] = [];
  let length = 0;
  try {
    while (length < limit) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      length += value.length;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return new TextDecoder().decode(Buffer.concat(chunks).subarray(0, limit));
}

/** The host a failed request was for: the error's own (Bun names it), else the API's. */
function hostOf(error: unknown, apiUrl: string | undefined): string | undefined {
  const named = (error as { hostname?: unknown })?.hostname ?? (error as { cause?: { hostname?: unknown } })?.cause?.hostname;
  if (typeof named === 'string' && named !== '') return named;
  for (const url of [(error as { path?: unknown })?.path, apiUrl]) {
    if (typeof url !== 'string') continue;
    try {
      return new URL(url).host;
    } catch {
      // not a URL: try the next
    }
  }
  return undefined;
}

/** Why a host could not be reached, in words, naming the host and what to check. */
function unreachable(error: unknown, title: string, apiUrl: string | undefined): string {
  const code = (error as { cause?: { code?: string } })?.cause?.code ?? (error as { code?: string })?.code;
  const host = hostOf(error, apiUrl);
  const at = host !== undefined ? `${title} at ${host}` : title;
  const check = apiUrl !== undefined ? ' (and register.apiUrl, if you set one)' : '';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `cannot reach ${at}: the name ${host ?? ''} does not resolve (${code}): check this machine's network, DNS and proxy${check}`;
  if (code === 'ECONNREFUSED') return `cannot reach ${at}: the connection was refused (${code}): check the address and port${check}, and that nothing blocks it`;
  if (code === 'ETIMEDOUT' || code === 'ECONNRESET' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return `cannot reach ${at} (${code}): check this machine's network, a firewall or a proxy${check}`;
  if (code !== undefined && /CERT|SSL|TLS|SIGNATURE/.test(code)) return `cannot reach ${at}: its TLS certificate was refused (${code})`;
  return `cannot reach ${at}: ${code ?? (error as Error)?.message ?? String(error)}`;
}

/**
 * The common part of every host's advice: a refused token, a rate limit, an unreachable host (named, with what
 * to check), a refused hook, a redirect not followed; undefined for 403/404, which each host explains with its
 * own permission names. `apiUrl` is the API the requests went to.
 */
export function commonAdvice(error: unknown, title: string, apiUrl?: string): string | undefined {
  if (error instanceof OutboundRefusal) {
    const redirect = error.status !== undefined ? ' and follows no redirect: set register.apiUrl to the address the API answers on itself' : '';
    return `${title}: ${error.message} (fluxgate sends the token and hook secrets only to register.apiUrl${redirect})`;
  }
  if (!(error instanceof HostError)) {
    const name = (error as Error)?.name;
    if (name === 'TimeoutError' || name === 'AbortError') return `${title}${apiUrl !== undefined ? ` at ${hostOf(error, apiUrl)}` : ''} did not answer in time`;
    return unreachable(error, title, apiUrl);
  }
  const answer = `${error.status}${error.hostMessage ? `: ${error.hostMessage}` : ''}`;
  if (error.status === 0) return `${title}: ${error.hostMessage} (${error.request})`;
  if (error.rateLimited) return `${title} is still rate-limiting this token (${answer}); run again later`;
  if (error.status === 401) return `${title} refused the token (${answer}): register.token is wrong, expired or revoked`;
  if (error.status === 400 || error.status === 422) return `${title} refused the hook (${answer})`;
  if (error.status === 403 || error.status === 404) return undefined;
  return `${title} answered ${answer} to ${error.request}`;
}
