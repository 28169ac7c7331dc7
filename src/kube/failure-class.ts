/**
 * A failed Kubernetes API call in one word: what /readyz tells every reader (a probe, anyone who reaches the admin
 * port) without the URL, address or server text of the error itself.
 */
import { KubeError } from './client.ts';

export type FailureClass = 'unreachable' | 'timeout' | 'tls' | 'unauthorized' | 'forbidden' | 'not-found' | 'api-error' | 'error';

/**
 * @example failureClass(new KubeError('cannot reach https://10.0.0.1:6443: …', 'connection')) // 'unreachable'
 */
export function failureClass(error: unknown): FailureClass {
  // A caller's own deadline (AbortSignal.timeout) ends the call with its reason, a TimeoutError.
  if (error instanceof Error && error.name === 'TimeoutError') return 'timeout';
  if (!(error instanceof KubeError)) return 'error';
  switch (error.failure) {
    case 'connection':
      return 'unreachable';
    case 'timeout':
    case 'tls':
    case 'unauthorized':
      return error.failure;
    case 'http':
      return error.status === 403 ? 'forbidden' : error.status === 404 ? 'not-found' : 'api-error';
  }
}
