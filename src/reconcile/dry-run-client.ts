/**
 * The KubeClient of dry-run mode: it talks to no cluster. Discovery answers from a static table of the Flux and
 * Argo CD kinds (the published CRDs' plurals), label selectors resolve to nothing, and patches are accepted and
 * dropped; the caller logs what would have been sent.
 */
import { KubeError, type KubeClient, type KubeResource } from './kube-client.ts';

/** group → kind → plural, as served by the published CRDs. All of them are namespaced. */
const KNOWN: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  'source.toolkit.fluxcd.io': {
    GitRepository: 'gitrepositories',
    OCIRepository: 'ocirepositories',
    Bucket: 'buckets',
    HelmRepository: 'helmrepositories',
    HelmChart: 'helmcharts',
    ExternalArtifact: 'externalartifacts',
  },
  'kustomize.toolkit.fluxcd.io': { Kustomization: 'kustomizations' },
  'helm.toolkit.fluxcd.io': { HelmRelease: 'helmreleases' },
  'image.toolkit.fluxcd.io': {
    ImageRepository: 'imagerepositories',
    ImagePolicy: 'imagepolicies',
    ImageUpdateAutomation: 'imageupdateautomations',
  },
  'argoproj.io': { Application: 'applications' },
};

/**
 * @example
 * const kube = createDryRunClient();
 * await kube.resource('image.toolkit.fluxcd.io/v1', 'ImagePolicy') // { plural: 'imagepolicies', namespaced: true }
 */
export function createDryRunClient(): KubeClient {
  return {
    target: 'dry-run',
    async ping() {},
    async resource(apiVersion: string, kind: string): Promise<KubeResource> {
      const group = apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '';
      const plural = Object.hasOwn(KNOWN, group) && Object.hasOwn(KNOWN[group]!, kind) ? KNOWN[group]![kind] : undefined;
      if (!plural) {
        throw new KubeError(`kind ${kind} not served by ${apiVersion} (dry-run knows only the Flux and Argo CD kinds; others are discovered on a real cluster)`, 'http', 404);
      }
      return { plural, namespaced: true };
    },
    async listNames() {
      return []; // no cluster to select from: the caller logs that label selectors cannot be resolved in dry-run
    },
    async mergePatch() {},
    async canI() {
      return true;
    },
  };
}
