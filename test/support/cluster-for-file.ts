/** The real kube-apiserver for one test file: started before its first test, stopped after its last. */
import { afterAll, beforeAll } from 'bun:test';
import { startTestCluster, type TestCluster } from './kube-apiserver/cluster.ts';

/**
 * Registers the file's cluster: `started` runs once it is up (keep it, write a kubeconfig, apply RBAC). The first
 * start of a machine builds the binaries, hence the long timeout.
 *
 * @example
 * let cluster: TestCluster;
 * clusterForFile((started) => void (cluster = started));
 */
export function clusterForFile(started: (cluster: TestCluster) => void | Promise<void>, options?: Parameters<typeof startTestCluster>[0]): void {
  let cluster: TestCluster | undefined;
  beforeAll(async () => {
    cluster = await startTestCluster(options);
    await started(cluster);
  }, 15 * 60_000);
  afterAll(async () => {
    await cluster?.stop();
  }, 60_000);
}
