/** Registry events: one image event, and what OCI allows a tag and a digest to look like. */
import type { Event, ImageEvent } from '../pipeline/provider.ts';

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
