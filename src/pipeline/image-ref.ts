/**
 * Image identity: the many spellings of one image (`nginx`, `library/nginx`, `docker.io/library/nginx:1.27`,
 * `index.docker.io/library/nginx@sha256:…`) become one comparable name, `registry/path`, and `match.images`
 * patterns compile against it.
 *
 * Rules (as Docker and containerd read references): lowercase; a tag (`:v1`) or digest (`@sha256:…`) is dropped;
 * the first segment is a registry when it has a `.` or a `:` or is `localhost`, else the registry is `docker.io`;
 * `index.docker.io`, `registry-1.docker.io` and `registry.hub.docker.com` are `docker.io`; on `docker.io` a
 * one-segment name is in `library/`.
 */
import { compileGlob, isGlobPattern } from '../core/index.ts';

const DOCKER_HUB_ALIASES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io', 'registry.hub.docker.com']);

/**
 * @example normalizeImage('nginx:1.27')                          // 'docker.io/library/nginx'
 * @example normalizeImage('GHCR.io/Org/App@sha256:0123…')        // 'ghcr.io/org/app'
 * @example normalizeImage('registry.example.com:5000/team/api')  // 'registry.example.com:5000/team/api'
 */
export function normalizeImage(input: string): string {
  let name = input.trim().toLowerCase();
  const at = name.indexOf('@');
  if (at >= 0) name = name.slice(0, at);
  const lastSlash = name.lastIndexOf('/');
  const colon = name.indexOf(':', lastSlash + 1);
  if (colon >= 0) name = name.slice(0, colon);
  const segments = name.split('/').filter(Boolean);
  const first = segments[0] ?? '';
  const hasRegistry = segments.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost');
  let registry = hasRegistry ? segments.shift()! : 'docker.io';
  if (DOCKER_HUB_ALIASES.has(registry)) registry = 'docker.io';
  if (registry === 'docker.io' && segments.length === 1) segments.unshift('library');
  return segments.length === 0 ? '' : `${registry}/${segments.join('/')}`;
}

/**
 * Compiles a `match.images` entry once: a name (any spelling) or a glob over normalized names (`ghcr.io/org/*`,
 * `docker.io/library/**`; a glob without a registry, like `org/*`, means Docker Hub's). Throws on a malformed glob.
 *
 * @example imageMatcher('nginx')('index.docker.io/library/nginx:latest') // true
 */
export function imageMatcher(pattern: string): (name: string) => boolean {
  const wanted = normalizeImage(pattern);
  if (wanted === '') throw new Error(`invalid image "${pattern}": it names no image`);
  if (!isGlobPattern(pattern)) return (name) => normalizeImage(name) === wanted;
  const glob = compileGlob(wanted);
  return (name) => glob(normalizeImage(name));
}
