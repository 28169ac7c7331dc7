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

/**
 * The common part of every host's advice: a refused token, a rate limit, an unreachable host, a refused hook, a
 * redirect not followed; undefined for 403/404, which each host explains with its own permission names.
 */
export function commonAdvice(error: unknown, title: string): string | undefined {
  if (error instanceof OutboundRefusal) {
    const redirect = error.status !== undefined ? ' and follows no redirect: set register.apiUrl to the address the API answers on itself' : '';
    return `${title}: ${error.message} (fluxgate sends the token and hook secrets only to register.apiUrl${redirect})`;
  }
  if (!(error instanceof HostError)) {
    const cause = (error as { cause?: { code?: string } })?.cause?.code ?? (error as { code?: string })?.code;
    const name = (error as Error)?.name;
    if (name === 'TimeoutError' || name === 'AbortError') return `${title} did not answer in time`;
    return `cannot reach ${title}: ${cause ?? (error as Error)?.message ?? String(error)}`;
  }
  const answer = `${error.status}${error.hostMessage ? `: ${error.hostMessage}` : ''}`;
  if (error.status === 0) return `${title}: ${error.hostMessage} (${error.request})`;
  if (error.rateLimited) return `${title} is still rate-limiting this token (${answer}); run again later`;
  if (error.status === 401) return `${title} refused the token (${answer}): register.token is wrong, expired or revoked`;
  if (error.status === 400 || error.status === 422) return `${title} refused the hook (${answer})`;
  if (error.status === 403 || error.status === 404) return undefined;
  return `${title} answered ${answer} to ${error.request}`;
}
