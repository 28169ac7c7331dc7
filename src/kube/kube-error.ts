/**
 * A failed Kubernetes API call, and how fluxgate words one: an error status with the API server's own message, a
 * certificate problem with what to check in the kubeconfig, a connection that failed. Messages never contain
 * credentials.
 */

/** `http`: the API server answered with an error status; `unauthorized`: it answered 401. */
export type KubeFailure = 'http' | 'timeout' | 'connection' | 'tls' | 'unauthorized';

/** A failed Kubernetes API call. Messages never contain credentials. */
export class KubeError extends Error {
  override name = 'KubeError';
  constructor(
    message: string,
    readonly failure: KubeFailure,
    readonly status?: number,
    /** From `Retry-After` (seconds or HTTP-date), when the server sent one. */
    readonly retryAfterMs?: number,
    /** The error code Bun reported (e.g. `UNABLE_TO_VERIFY_LEAF_SIGNATURE`, `ECONNREFUSED`), if any. */
    readonly code?: string,
  ) {
    super(message);
  }
}

/** Error codes Bun's fetch reports for certificate problems, with what to check. */
const TLS_HINTS: Record<string, string> = {
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'check certificate-authority in the kubeconfig',
  UNABLE_TO_GET_ISSUER_CERT: 'check certificate-authority in the kubeconfig',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'check certificate-authority in the kubeconfig',
  SELF_SIGNED_CERT_IN_CHAIN: 'check certificate-authority in the kubeconfig',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'the server uses a self-signed certificate; put it in certificate-authority in the kubeconfig',
  CERT_SIGNATURE_FAILURE: 'check certificate-authority in the kubeconfig',
  CERT_UNTRUSTED: 'check certificate-authority in the kubeconfig',
  CERT_HAS_EXPIRED: 'the server certificate has expired (or this machine\'s clock is wrong)',
  CERT_NOT_YET_VALID: 'the server certificate is not valid yet (or this machine\'s clock is wrong)',
  CERT_REVOKED: 'the server certificate is revoked',
  ERR_TLS_CERT_ALTNAME_INVALID: 'the certificate does not name this host; check the server URL or tls-server-name in the kubeconfig',
};

/** The KubeError for a failure below HTTP (TLS, connection), with the code Bun reported and a hint. */
export function transportError(target: string, what: string, e: unknown): KubeError {
  const err = e as { code?: unknown; message?: unknown };
  const code = typeof err?.code === 'string' ? err.code : undefined;
  const reason = typeof err?.message === 'string' ? err.message.replace(/ fetching "[^"]*"\..*$/s, '').replace(/\. For more information.*$/s, '') : String(e);
  if (code && (Object.hasOwn(TLS_HINTS, code) || /CERT|SSL|TLS/.test(code))) {
    const hint = TLS_HINTS[code] ?? 'check certificate-authority in the kubeconfig';
    const detail = reason === code ? code : `${reason} [${code}]`;
    return new KubeError(`certificate verify failed talking to ${target}: ${detail} (${hint})`, 'tls', undefined, undefined, code);
  }
  if (code === 'EPROTO') {
    return new KubeError(
      `TLS handshake with ${target} failed [EPROTO] (the server may require a client certificate, or may not speak TLS on this port)`,
      'tls', undefined, undefined, code,
    );
  }
  const detail = code && !reason.startsWith(code) ? `${reason} [${code}]` : reason;
  return new KubeError(`cannot reach ${target}: ${detail} (${what})`, 'connection', undefined, undefined, code);
}

/** The KubeError for an error status: the API server's Status message and reason when it sent one. */
export function httpError(target: string, what: string, status: number, text: string, retryAfter: string | null): KubeError {
  let message = '';
  let reason = '';
  try {
    const s = JSON.parse(text);
    if (s && s.kind === 'Status') {
      message = typeof s.message === 'string' ? s.message : '';
      reason = typeof s.reason === 'string' ? s.reason : '';
    }
  } catch { /* not a Status */ }
  if (!message) message = text.trim().slice(0, 200).replace(/\s+/g, ' ');
  const label = reason ? `${status} ${reason}` : `${status}`;
  const retryAfterMs = parseRetryAfter(retryAfter);
  if (status === 401) {
    return new KubeError(`${target} answered ${label} to ${what}: the credentials were rejected (check the token or client certificate)`, 'unauthorized', status, retryAfterMs);
  }
  return new KubeError(`${target} answered ${label} to ${what}${message ? `: ${message}` : ''}`, 'http', status, retryAfterMs);
}

/** `Retry-After` as milliseconds: delay-seconds or an HTTP-date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | undefined {
  if (!value) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
