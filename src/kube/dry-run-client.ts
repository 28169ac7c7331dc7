/**
 * The KubeClient of dry-run mode: it talks to no cluster. Label selectors resolve to nothing, and patches are
 * accepted and dropped; the caller logs what would have been sent.
 */
import { KubeError, type KubeApi, type KubeClient } from './client.ts';

/** Nothing to read or watch in dry-run: every call fails, so a watch logs its kind as unavailable. */
const noCluster = (): Promise<never> => Promise.reject(new KubeError('dry-run: there is no cluster to ask', 'connection'));
const api: KubeApi = { target: 'dry-run', request: noCluster, stream: noCluster, collectionPath: noCluster, forgetDiscovery() {} };

export function createDryRunClient(): KubeClient {
  return {
    target: 'dry-run',
    api,
    async ping() {},
    async listNames() {
      return []; // no cluster to select from: the caller logs that label selectors cannot be resolved in dry-run
    },
    async mergePatch() {
      return {};
    },
    async canI() {
      return true;
    },
  };
}
