/**
 * Real traffic through a running fluxgate, for the tests that read /metrics: signed GitHub pushes over loopback
 * into a gateway patching a fake API server over HTTPS, with a burst (coalesced), a bad signature (401), a ping
 * (ignored), a duplicate, an object that is gone (404) and one whose patches fail until retries run out.
 * Time is the manual clock's: backoff and the debounce window pass when the helper advances it.
 *
 * @example
 * const traffic = await runMetricsTraffic();
 * const text = traffic.metrics; // /metrics after everything above
 * await traffic.stop();
 */
import { startFakeKubeApiServer } from './fake-kube-apiserver.ts';
import { startTestGateway } from './gateway.ts';
import { manualClock } from './manual-clock.ts';
import { tempDir } from './temp-dir.ts';
import { until } from './until.ts';
import { githubWebhook, post } from './webhooks.ts';

const SECRET = 'metrics-traffic-secret-81c2';

export interface MetricsTraffic {
  /** The /metrics answer after the traffic, and its content type. */
  metrics: string;
  contentType: string | null;
  /** HTTP statuses of the webhooks sent, in order. */
  statuses: number[];
  stop(): Promise<void>;
}

export async function runMetricsTraffic(): Promise<MetricsTraffic> {
  const kube = await startFakeKubeApiServer();
  const scratch = tempDir();
  const repository = (name: string) => ({ apiVersion: 'source.toolkit.fluxcd.io/v1', kind: 'GitRepository', namespace: 'flux-system', name });
  kube.addObject(repository('app'));
  kube.addObject(repository('flaky'));
  // The first three patches of "flaky" fail as a struggling API server answers: 503, a reset, 503.
  kube.injectFaults({ method: 'PATCH', path: '/gitrepositories/flaky' }, [{ status: 503 }, { status: 'reset' }, { status: 503 }]);
  const clock = manualClock(Date.now());
  const gateway = await startTestGateway({
    config: `server: { address: 127.0.0.1:0 }
kubernetes: { mode: kubeconfig, kubeconfig: ${kube.writeKubeconfig(scratch.path)} }
reconcile:
  debounce: 2s
  retry: { maxAttempts: 3, initialDelay: 100ms, maxDelay: 1s }
providers:
  - { name: github, type: github, secret: { env: GITHUB_SECRET }, previousSecret: { env: GITHUB_SECRET_OLD } }
targets:
  - name: app
    providers: [github]
    match: { repository: your-org/your-repo, branches: [main] }
    resources:
      - { kind: GitRepository, name: app, namespace: flux-system }
      - { kind: GitRepository, name: flaky, namespace: flux-system }
      - { kind: GitRepository, name: gone, namespace: flux-system }
`,
    env: { GITHUB_SECRET: SECRET, GITHUB_SECRET_OLD: `${SECRET}-old` },
    clock,
  });
  const logged = (message: string, count = 1) => until(() => gateway.log.lines.filter((line) => line.msg === message).length >= count, `${count}× "${message}"`);
  const send = async (hook: ReturnType<typeof githubWebhook>) => (await post(gateway.hook('github'), hook)).status;
  try {
    const statuses: number[] = [];
    const first = githubWebhook(SECRET);
    statuses.push(await send(first));
    // A burst: both join the patches already running for the three objects.
    statuses.push(await send(githubWebhook(SECRET)), await send(githubWebhook(SECRET)));
    statuses.push(await send(first)); // a redelivery: duplicate
    statuses.push(await send(githubWebhook('not-the-secret')));
    statuses.push(await send(githubWebhook(SECRET, { event: 'ping' })));
    // Leading patches: app succeeds, gone is 404 (not retried), flaky fails and backs off.
    await logged('reconcile requested');
    await logged('patch failed');
    await logged('patch failed, retrying');
    await clock.advance(1_000);
    await logged('patch failed, retrying', 2);
    await clock.advance(1_000);
    await logged('patch failed after retries');
    // The debounce window closes: the burst becomes one more patch of each object.
    await clock.advance(2_000);
    await logged('reconcile requested', 3);
    await logged('patch failed', 2);
    // The Events of those patches are written once the cluster's patches are done; the fake API server has no
    // Events API, so each is a counted failure. Waited for, so the scrape below always holds it.
    await logged('could not write a Kubernetes Event (reconcile requests are not affected)');
    const response = await fetch(`${gateway.adminUrl}/metrics`);
    const metrics = await response.text();
    return {
      metrics,
      contentType: response.headers.get('content-type'),
      statuses,
      async stop() {
        await gateway.stop();
        await kube.stop();
        scratch.remove();
      },
    };
  } catch (error) {
    await gateway.stop();
    await kube.stop();
    scratch.remove();
    throw error;
  }
}
