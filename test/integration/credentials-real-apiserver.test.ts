/**
 * Credentials in Git URLs, against the REAL kube-apiserver: GitRepositories and an Argo CD Application whose URL
 * carries a password or a token (https, an x-access-token, ssh, git's scp-like form) are discovered and patched,
 * and a CI job's generic delivery names its repository with its job token; the password never appears in
 * /api/deliveries, on the status page or a delivery's page, in a log line or in the Kubernetes Events written,
 * while the URLs are still shown without it.
 */
import { afterEach, expect, test } from 'bun:test';
import { stringify as toYaml } from 'yaml';
import type { TestGateway } from '../support/gateway.ts';
import { type TestCluster } from '../support/kube-apiserver/cluster.ts';
import { clusterForFile } from '../support/cluster-for-file.ts';
import { githubWebhook, post } from '../support/webhooks.ts';
import { freshRepository, gitRepositoryAt, readyz } from './discovery-support.ts';
import { GITHUB_SECRET, applyAll, eventually, freshNamespace, startGateway } from './support.ts';

let cluster: TestCluster;
let gateway: TestGateway | undefined;

clusterForFile((started) => void (cluster = started));
afterEach(async () => {
  await gateway?.stop();
  gateway = undefined;
}, 30_000);

const SECRETS = ['SuperSecretPass123', 'ghp_TokenSecret0123456789abcdefABCDEF0123', 'SshSecretPass456', 'ScpSecretPass789', 'ArgoSecretPass321', 'CiJobTokenSecret654'];
const CI_PATH = '/hook/ci-5b0d9e1f7a3c2e48';

function leaks(text: string): string[] {
  return SECRETS.filter((secret) => text.includes(secret));
}

test('a password or token in a discovered URL or a payload URL is never recorded, logged, shown or written to an Event', async () => {
  const repo = freshRepository();
  const ns = await freshNamespace(cluster, 'creds');
  await applyAll(cluster, [
    gitRepositoryAt(ns, 'https-password', `https://user:SuperSecretPass123@github.com/your-org/${repo}`, { branch: 'main' }),
    gitRepositoryAt(ns, 'https-token', `https://x-access-token:ghp_TokenSecret0123456789abcdefABCDEF0123@github.com/your-org/${repo}.git`, { branch: 'main' }),
    gitRepositoryAt(ns, 'ssh-password', `ssh://git:SshSecretPass456@github.com/your-org/${repo}.git`, { branch: 'main' }),
    gitRepositoryAt(ns, 'scp-password', `deploy:ScpSecretPass789@github.com:your-org/${repo}.git`, { branch: 'main' }),
    gitRepositoryAt(ns, 'dev', `https://user:SuperSecretPass123@github.com/your-org/${repo}`, { branch: 'dev' }), // a near miss
    {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Application',
      metadata: { name: 'argo-password', namespace: ns },
      spec: { source: { repoURL: `https://argo:ArgoSecretPass321@github.com/your-org/${repo}.git`, targetRevision: 'main' } },
    },
  ]);
  gateway = await startGateway(
    toYaml({
      server: { address: '127.0.0.1:0', shutdownTimeout: '3s' },
      kubernetes: { mode: 'kubeconfig', kubeconfig: cluster.kubeconfigPath, requestTimeout: '5s' },
      reconcile: { debounce: '100ms', retry: { maxAttempts: 8, initialDelay: '100ms', maxDelay: '1s' } },
      providers: [
        { name: 'github', type: 'github', secret: { env: 'GITHUB_WEBHOOK_SECRET' } },
        { name: 'ci', type: 'generic', allowUnsigned: true, path: CI_PATH },
      ],
      discovery: { enabled: true, namespaces: [ns], kinds: ['GitRepository', 'Application'] },
    }),
  );
  await eventually('/readyz after the first lists', async () => (await readyz(gateway!)).status === 200, { timeoutMs: 20_000 });

  const github = await post(gateway.hook('github'), githubWebhook(GITHUB_SECRET, { repository: `your-org/${repo}`, branch: 'main' }));
  expect({ status: github.status, body: await github.json() }).toMatchObject({ status: 202, body: { discovered: 5 } });
  // A CI job's delivery naming the repository by its clone URL, job token included.
  const ci = await fetch(`${gateway.url}${CI_PATH}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-delivery': `ci-${repo}` },
    body: JSON.stringify({ repository: `https://gitlab-ci-token:CiJobTokenSecret654@github.com/your-org/${repo}.git`, ref: 'refs/heads/main', commit: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b' }),
  });
  expect({ status: ci.status, body: await ci.json() }).toMatchObject({ status: 202, body: { discovered: 5 } });

  // Every patch ended, and the Events are written (the CI job's names it on each object).
  const api = async () => (await fetch(`${gateway!.adminUrl}/api/deliveries`)).text();
  await eventually('both deliveries settled', async () => {
    const { deliveries } = JSON.parse(await api()) as { deliveries: { state?: string }[] };
    return deliveries.length === 2 && deliveries.every((record) => record.state === 'patched');
  });
  let items: { note?: string; regarding?: { name?: string } }[] = [];
  const events = await eventually(
    'an Event naming the CI delivery on each object',
    async () => {
      items = (await cluster.request('GET', `/apis/events.k8s.io/v1/namespaces/${ns}/events`)).body.items ?? [];
      const named = new Set(items.filter((event) => event.note?.includes(`delivery ci-${repo}`)).map((event) => event.regarding?.name));
      return named.size === 5 && items;
    },
    { timeoutMs: 15_000, describe: () => JSON.stringify(items.map((event) => [event.regarding?.name, event.note]), null, 1) },
  );

  const recorded = await api();
  const { deliveries } = JSON.parse(recorded) as { deliveries: { deliveryId: string; repository?: string; objects: { rule?: string }[]; nearMisses?: string[] }[] };
  // The URLs are still there to read, without their credentials.
  expect(deliveries[0]!.repository).toBe(`https://github.com/your-org/${repo}.git`);
  const rules = deliveries[1]!.objects.map((object) => object.rule).sort();
  expect(rules).toEqual([
    `discovered: Application ${ns}/argo-password, source https://github.com/your-org/${repo}.git, revision main (branch)`,
    `discovered: GitRepository ${ns}/https-password, url https://github.com/your-org/${repo}, ref branch main`,
    `discovered: GitRepository ${ns}/https-token, url https://github.com/your-org/${repo}.git, ref branch main`,
    `discovered: GitRepository ${ns}/scp-password, url deploy@github.com:your-org/${repo}.git, ref branch main`,
    `discovered: GitRepository ${ns}/ssh-password, url ssh://git@github.com/your-org/${repo}.git, ref branch main`,
  ]);
  expect(deliveries[1]!.nearMisses).toEqual([`GitRepository ${ns}/dev: follows branch dev, not branch main`]);
  expect(events.map((event) => event.note)).toContain(
    `Reconcile requested by fluxgate: push https://github.com/your-org/${repo}.git refs/heads/main at 9f86d081884c via ci delivery ci-${repo}`,
  );

  const page = await (await fetch(`${gateway.adminUrl}/?refresh=off`)).text();
  expect(page).toContain(`url ssh://git@github.com/your-org/${repo}.git`);
  const shown = [recorded, page];
  for (const record of deliveries) shown.push(await (await fetch(`${gateway.adminUrl}/deliveries/${encodeURIComponent(record.deliveryId)}`)).text());
  shown.push(JSON.stringify(gateway.log.lines), JSON.stringify(events));
  expect(shown.flatMap(leaks)).toEqual([]);
}, 60_000);
