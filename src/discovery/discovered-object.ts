/**
 * What discovery keeps of a watched object: where it is filed (normalized repository URL or image), what ref it
 * follows, and whether it opted out. Built once per change of the object, so a push only compares strings.
 *
 * - GitRepository: `spec.url`, `spec.ref` (follows.ts).
 * - OCIRepository: `spec.url` (`oci://registry/repo`) as an image, `spec.ref` (digest, semver, tag; `latest`).
 * - ImageRepository: `spec.image`; every tag pushed to it concerns it (it scans the tags itself) but those its
 *   `spec.exclusionList` leaves out (exclusion-list.ts).
 * - Application (Argo CD): each of `spec.sources[]`, or `spec.source` when `spec.sources` lists none (as Argo CD
 *   reads them): `repoURL` + `targetRevision`; a Helm chart source (`chart` set) is not a Git repository and is not
 *   filed.
 * Annotations: `fluxgate.io/ignore: "true"` opts out; `fluxgate.io/paths: apps/**, shared/**` narrows to pushes that
 * changed those paths (same rules as `match.paths`; passes when the provider does not report paths); on an
 * Application, Argo CD's `argocd.argoproj.io/manifest-generate-paths` narrows as argocd-server does
 * (manifest-generate-paths.ts).
 */
import { redactUrl } from '../core/index.ts';
import { compileMatch, type MatchResult } from '../pipeline/index.ts';
import type { Event } from '../provider-kit/index.ts';
import { normalizeImage } from '../pipeline/index.ts';
import { normalizeRepository } from '../pipeline/index.ts';
import type { WatchedObject } from '../kube/index.ts';
import { tagExclusions } from './exclusion-list.ts';
import { MANIFEST_GENERATE_PATHS_ANNOTATION, refreshPaths, type RefreshPaths } from './manifest-generate-paths.ts';
import { argoFollows, gitRepositoryFollows, ociRepositoryFollows, type Follows } from './follows.ts';

export const IGNORE_ANNOTATION = 'fluxgate.io/ignore';
export const PATHS_ANNOTATION = 'fluxgate.io/paths';

/** The kinds discovery watches. */
export const DISCOVERED_KINDS = ['GitRepository', 'OCIRepository', 'ImageRepository', 'Application'] as const;
export type DiscoveredKind = (typeof DISCOVERED_KINDS)[number];

export interface DiscoveredSource {
  /** Index keys: `repo:<host>/<path>` and `path:<path>` for a Git URL, `image:<name>` for an image. */
  keys: readonly string[];
  /**
   * For people: `url https://github.com/org/app`, `image ghcr.io/org/app`, `source https://…`; the URL without its
   * credentials (`https://user:token@…` is shown `https://…`): this is what rules on the page, in /api/deliveries
   * and in `fluxgate explain` quote.
   */
  shown: string;
  /** What it follows; undefined: every push to it. */
  follows?: Follows;
  /** An Application source's `argocd.argoproj.io/manifest-generate-paths`, resolved against its `path`. */
  refresh?: RefreshPaths;
}

export interface DiscoveredObject {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
  /** `GitRepository flux-system/app` */
  label: string;
  sources: readonly DiscoveredSource[];
  suspended: boolean;
  ignored: boolean;
  /** The `fluxgate.io/paths` filter, or why it could not be read. */
  paths?: { patterns: string; check: (event: Event) => MatchResult } | { invalid: string };
}

/**
 * @example
 * discoveredObject({ apiVersion: 'source.toolkit.fluxcd.io/v1', kind: 'GitRepository', metadata: { name: 'app', namespace: 'flux-system' },
 *   spec: { url: 'ssh://git@github.com/Org/App.git', ref: { branch: 'main' } } });
 * // { …, label: 'GitRepository flux-system/app', sources: [{ keys: ['repo:github.com/org/app', 'path:org/app'], follows: { kind: 'branch', name: 'main' } }] }
 */
export function discoveredObject(object: WatchedObject): DiscoveredObject {
  const namespace = object.metadata.namespace ?? '';
  const annotations = object.metadata.annotations ?? {};
  const spec = (typeof object.spec === 'object' && object.spec !== null ? object.spec : {}) as Record<string, any>;
  return {
    apiVersion: object.apiVersion,
    kind: object.kind,
    namespace,
    name: object.metadata.name,
    label: `${object.kind} ${namespace}/${object.metadata.name}`,
    sources: sourcesOf(object.kind, spec, annotations[MANIFEST_GENERATE_PATHS_ANNOTATION]),
    suspended: spec.suspend === true,
    ignored: annotations[IGNORE_ANNOTATION]?.trim().toLowerCase() === 'true',
    ...(annotations[PATHS_ANNOTATION] !== undefined ? { paths: pathsFilter(annotations[PATHS_ANNOTATION]) } : {}),
  };
}

function sourcesOf(kind: string, spec: Record<string, any>, manifestGeneratePaths: string | undefined): DiscoveredSource[] {
  switch (kind) {
    case 'GitRepository':
      return gitSource(spec.url, 'url', gitRepositoryFollows(spec.ref));
    case 'OCIRepository': {
      const url = typeof spec.url === 'string' ? spec.url.replace(/^oci:\/\//i, '') : '';
      return imageSource(url, `url ${redactUrl(String(spec.url))}`, ociRepositoryFollows(spec.ref));
    }
    case 'ImageRepository':
      return imageSource(typeof spec.image === 'string' ? spec.image : '', `image ${redactUrl(String(spec.image))}`, { kind: 'image-tags', exclusions: tagExclusions(spec.exclusionList) });
    case 'Application': {
      // Argo CD's GetSources: `spec.sources` when it lists any (then `spec.source` is not used), else `spec.source`.
      const sources: any[] = Array.isArray(spec.sources) && spec.sources.length > 0 ? spec.sources : [spec.source];
      return sources.flatMap((source) => {
        if (typeof source !== 'object' || source === null || source.chart) return [];
        const refresh = refreshPaths(manifestGeneratePaths, source.path);
        return gitSource(source.repoURL, 'source', argoFollows(source.targetRevision)).map((found) => (refresh ? { ...found, refresh } : found));
      });
    }
    default:
      return [];
  }
}

function gitSource(url: unknown, word: string, follows: Follows): DiscoveredSource[] {
  if (typeof url !== 'string' || url === '') return [];
  const keys = repositoryKeys(url);
  return keys.length === 0 ? [] : [{ keys, shown: `${word} ${redactUrl(url)}`, follows }];
}

function imageSource(image: string, shown: string, follows?: Follows): DiscoveredSource[] {
  const name = image === '' ? '' : normalizeImage(image);
  return name === '' ? [] : [{ keys: [`image:${name}`], shown, ...(follows ? { follows } : {}) }];
}

/** Where a repository spelling is filed: by host and path, and by path alone (for senders that give only a slug). */
export function repositoryKeys(spelling: string): string[] {
  const { host, path } = normalizeRepository(spelling);
  if (path === '') return [];
  return host === undefined ? [`path:${path}`] : [`repo:${host}/${path}`, `path:${path}`];
}

/**
 * The keys an event is looked up under: its repository spellings by host and path (by path alone only when no
 * spelling names a host: a slug cannot prove which host it is on), its image.
 */
export function eventKeys(event: Event): Set<string> {
  const keys = new Set<string>();
  if (event.image) {
    const name = normalizeImage(event.image.name);
    if (name !== '') keys.add(`image:${name}`);
    return keys;
  }
  const hosted: string[] = [];
  const slugs: string[] = [];
  for (const spelling of event.repositories) {
    const { host, path } = normalizeRepository(spelling);
    if (path === '') continue;
    if (host === undefined) slugs.push(`path:${path}`);
    else hosted.push(`repo:${host}/${path}`);
  }
  for (const key of hosted.length > 0 ? hosted : slugs) keys.add(key);
  return keys;
}

/** Patterns one annotation may hold: a push costs changed paths × patterns per object. */
const MAX_PATH_PATTERNS = 64;

function pathsFilter(value: string): DiscoveredObject['paths'] {
  const patterns = value.split(/[,\n]/).map((pattern) => pattern.trim()).filter((pattern) => pattern !== '');
  if (patterns.length === 0) return { invalid: `${PATHS_ANNOTATION} names no path` };
  if (patterns.length > MAX_PATH_PATTERNS) return { invalid: `${PATHS_ANNOTATION} has more than ${MAX_PATH_PATTERNS} patterns` };
  try {
    return { patterns: patterns.join(', '), check: compileMatch({ paths: patterns }) };
  } catch (error) {
    return { invalid: `${PATHS_ANNOTATION}: ${(error as Error).message.replace(/^match\.paths/, 'pattern')}` };
  }
}
