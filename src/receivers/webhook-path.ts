/**
 * The route of a Flux Receiver, computed exactly as notification-controller does, so a webhook that a Git host
 * already calls keeps working: `/hook/` + the lowercase hex SHA-256 of `token + name + namespace`, joined with no
 * separator. `token` is the `token` key of the Receiver's Secret (empty for `generic-oidc`, which has none).
 *
 * The path is a credential for unsigned types (whoever knows it can trigger the Receiver): it is shown shortened
 * (`shortPath`) everywhere but the route table and the Receiver's own status.
 */
import { createHash } from 'node:crypto';

/**
 * @example receiverPath('s3cr3t', 'github-receiver', 'flux-system') // '/hook/' + 64 hex digits
 */
export function receiverPath(token: string, name: string, namespace: string): string {
  return `/hook/${createHash('sha256').update(token + name + namespace, 'utf8').digest('hex')}`;
}

/**
 * The path as logs and pages show it: enough to tell two Receivers apart, far too little to call one.
 * @example shortPath('/hook/5ad6c3b0…') // '/hook/5ad6c3…'
 */
export function shortPath(path: string): string {
  return `${path.slice(0, '/hook/'.length + 6)}…`;
}
