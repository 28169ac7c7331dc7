/**
 * What fluxgate knows about the kinds it reconciles without being told: their default apiVersion and which
 * annotation asks their controller to reconcile. Resource plurals are NOT here: they come from API discovery
 * (see kube-client.ts), because English plurals are a guess (ImagePolicy → imagepolicies).
 */

/** Flux's on-demand reconcile annotation; any new value triggers one reconcile. */
export const REQUESTED_AT_ANNOTATION = 'reconcile.fluxcd.io/requestedAt';
/** Argo CD's refresh annotation; Argo CD removes it once the refresh is done. */
export const ARGO_REFRESH_ANNOTATION = 'argocd.argoproj.io/refresh';

const DEFAULT_API_VERSIONS: Readonly<Record<string, string>> = {
  GitRepository: 'source.toolkit.fluxcd.io/v1',
  OCIRepository: 'source.toolkit.fluxcd.io/v1',
  Bucket: 'source.toolkit.fluxcd.io/v1',
  HelmRepository: 'source.toolkit.fluxcd.io/v1',
  HelmChart: 'source.toolkit.fluxcd.io/v1',
  ExternalArtifact: 'source.toolkit.fluxcd.io/v1',
  Kustomization: 'kustomize.toolkit.fluxcd.io/v1',
  HelmRelease: 'helm.toolkit.fluxcd.io/v2',
  ImageRepository: 'image.toolkit.fluxcd.io/v1',
  ImagePolicy: 'image.toolkit.fluxcd.io/v1',
  ImageUpdateAutomation: 'image.toolkit.fluxcd.io/v1',
  Application: 'argoproj.io/v1alpha1',
};

/** The kinds fluxgate knows without being told their apiVersion (for "did you mean"). */
export const KNOWN_KINDS: readonly string[] = Object.freeze(Object.keys(DEFAULT_API_VERSIONS));

/**
 * The apiVersion fluxgate uses for `kind` when the config gives none; `undefined` for kinds it does not know
 * (those need an explicit apiVersion and annotation).
 *
 * @example defaultApiVersion('HelmRelease') // 'helm.toolkit.fluxcd.io/v2'
 */
export function defaultApiVersion(kind: string): string | undefined {
  return Object.hasOwn(DEFAULT_API_VERSIONS, kind) ? DEFAULT_API_VERSIONS[kind] : undefined;
}

export interface ReconcileAnnotation {
  readonly key: string;
  /** Set when the annotation has a fixed value (Argo CD's `refresh: normal`); otherwise each patch stamps a fresh requestedAt token. */
  readonly fixedValue?: string;
}

/**
 * The annotation that requests a reconcile of `kind`: Flux kinds get `reconcile.fluxcd.io/requestedAt` (a fresh
 * token per patch), Argo CD Applications `argocd.argoproj.io/refresh: normal`. A configured annotation wins; its
 * value is a requestedAt token too (or `normal` if it is Argo CD's refresh annotation).
 *
 * @example annotationFor('GitRepository') // { key: 'reconcile.fluxcd.io/requestedAt' }
 * @example annotationFor('Application')   // { key: 'argocd.argoproj.io/refresh', fixedValue: 'normal' }
 */
export function annotationFor(kind: string, configuredAnnotation?: string): ReconcileAnnotation {
  const key = configuredAnnotation || (kind === 'Application' ? ARGO_REFRESH_ANNOTATION : REQUESTED_AT_ANNOTATION);
  if (key === ARGO_REFRESH_ANNOTATION) return ARGO_REFRESH;
  return key === REQUESTED_AT_ANNOTATION ? REQUESTED_AT : { key };
}

// Every selector of a config holds one of these: shared, not one copy per target.
const REQUESTED_AT: ReconcileAnnotation = Object.freeze({ key: REQUESTED_AT_ANNOTATION });
const ARGO_REFRESH: ReconcileAnnotation = Object.freeze({ key: ARGO_REFRESH_ANNOTATION, fixedValue: 'normal' });

/**
 * Makes a requestedAt token source: RFC 3339 UTC with nanoseconds. The digits below the millisecond come from
 * the monotonic high-resolution clock, bumped when needed so that every value is later than the previous one of
 * the same source: two values never repeat, even for the same millisecond or when the wall clock steps back
 * (Flux reconciles only when the value changes). The composition root makes one per process; tests make their own.
 *
 * @example
 * const requestedAt = createRequestedAtClock();
 * requestedAt(new Date('2026-11-25T10:11:12.123Z')); // '2026-11-25T10:11:12.123456789Z'
 */
export function createRequestedAtClock(hrtime: () => bigint = process.hrtime.bigint): (now: Date) => string {
  let lastMs = Number.NEGATIVE_INFINITY;
  let lastSub = -1;
  return (now: Date) => {
    let ms = now.getTime();
    if (!Number.isFinite(ms)) throw new RangeError('requestedAt: invalid date');
    let sub = Number(hrtime() % 1_000_000n); // 0..999999 ns within the millisecond
    // Never at or before the previous value: same millisecond → next nanosecond; a clock that stepped back → stay on the last one.
    if (ms < lastMs || (ms === lastMs && sub <= lastSub)) [ms, sub] = [lastMs, lastSub + 1];
    if (sub > 999_999) { ms += 1; sub = 0; } // a million values in one millisecond: borrow the next one
    lastMs = ms;
    lastSub = sub;
    const iso = new Date(ms).toISOString(); // 2026-11-25T10:11:12.123Z
    return `${iso.slice(0, -1)}${String(sub).padStart(6, '0')}Z`;
  };
}
