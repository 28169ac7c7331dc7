/** Registry events: one image event, and what OCI allows a tag and a digest to look like. */
import type { Event, ImageEvent } from './contract.ts';

const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const DIGEST = /^sha(256:[a-f0-9]{64}|512:[a-f0-9]{128})$/;

/** Whether `value` is a valid OCI tag (`v1.2.0`, `latest`). */
export function isTag(value: string): boolean {
  return TAG.test(value);
}

/** Whether `value` is a well-formed sha256 or sha512 digest. */
export function isDigest(value: string): boolean {
  return DIGEST.test(value);
}

/**
 * An image reference without its tag or digest: what follows the first `:` or `@` of the last path segment, so a
 * registry's `:port` stays. One pass over the string, whatever it holds (the pattern `/[:@][^/]*$/` backtracks
 * quadratically on a long run of `:` that a `/` follows).
 *
 * @example withoutReference('harbor.example.com:8443/library/nginx:1.27') // 'harbor.example.com:8443/library/nginx'
 * @example withoutReference('ghcr.io/org/app@sha256:0123…')               // 'ghcr.io/org/app'
 */
export function withoutReference(reference: string): string {
  const segment = reference.lastIndexOf('/') + 1;
  const colon = reference.indexOf(':', segment);
  const at = reference.indexOf('@', segment);
  const cut = colon < 0 ? at : at < 0 ? colon : Math.min(colon, at);
  return cut < 0 ? reference : reference.slice(0, cut);
}

/**
 * The event of one pushed (or deleted) image: no repositories, the image, and its tag and digest also as the
 * event's `tag` and `commit`, so targets' `tags` filters apply to image tags.
 *
 * @example imageEvent('PUSH_ARTIFACT', { name: 'harbor.example.com/library/nginx', tag: 'v1' }) // { event, repositories: [], image, tag: 'v1' }
 */
export function imageEvent(event: string, image: ImageEvent, deleted = false): Event {
  const { name, tag, digest } = image;
  return {
    event,
    repositories: [],
    image: { name, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) },
    ...(tag ? { tag } : {}),
    ...(digest ? { commit: digest } : {}),
    ...(deleted ? { deleted: true } : {}),
  };
}
