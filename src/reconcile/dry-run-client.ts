/**
 * The KubeClient of dry-run mode: it talks to no cluster. Label selectors resolve to nothing, and patches are
 * accepted and dropped; the caller logs what would have been sent.
 */
import type { KubeClient } from './kube-client.ts';

export function createDryRunClient(): KubeClient {
  return {
    target: 'dry-run',
    async ping() {},
    async listNames() {
      return []; // no cluster to select from: the caller logs that label selectors cannot be resolved in dry-run
    },
    async mergePatch() {},
    async canI() {
      return true;
    },
  };
}
