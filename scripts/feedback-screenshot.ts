/**
 * The README's picture of a delivery's page with following on (docs/feedback-drill-down.png), from a real run: the
 * real kube-apiserver the tests build, a GitRepository and three Kustomizations using it in two clusters, a signed
 * GitHub push, and this script playing source-controller and kustomize-controller by writing their status
 * subresources a few seconds apart (one Kustomization fails to build). Debian's chromium, driven by playwright-core,
 * takes the screenshot.
 *
 *   bun scripts/feedback-screenshot.ts [out.png]
 */
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { stringify as toYaml } from 'yaml';
import { resourcePath, startTestCluster, type TestCluster } from '../test/support/kube-apiserver/cluster.ts';
import { startTestGateway } from '../test/support/gateway.ts';
import { deliveryBody } from '../test/support/webhooks.ts';

const OUT = process.argv[2] ?? join(import.meta.dir, '..', 'docs', 'feedback-drill-down.png');
const CHROMIUM = process.env.FLUXGATE_CHROMIUM ?? '/usr/bin/chromium';
const SECRET = randomBytes(16).toString('hex');
const SOURCE = { apiVersion: 'source.toolkit.fluxcd.io/v1', plural: 'gitrepositories' };
const APPLIER = { apiVersion: 'kustomize.toolkit.fluxcd.io/v1', plural: 'kustomizations' };
const NS = 'flux-system';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const ready = (status: 'True' | 'False', reason: string, message: string) => [{ type: 'Ready', status, reason, message, lastTransitionTime: new Date().toISOString(), observedGeneration: 1 }];

async function writeStatus(cluster: TestCluster, type: typeof SOURCE, name: string, status: Record<string, unknown>): Promise<void> {
  const answer = await cluster.request('PATCH', `${resourcePath(type.apiVersion, type.plural, NS, name)}/status`, { status }, 'application/merge-patch+json');
  if (answer.status !== 200) throw new Error(`status of ${name}: ${answer.status}`);
}

async function requestedAt(cluster: TestCluster, name: string): Promise<string> {
  for (let tries = 0; tries < 200; tries += 1) {
    const value = (await cluster.get(SOURCE.apiVersion, SOURCE.plural, NS, name))?.metadata?.annotations?.['reconcile.fluxcd.io/requestedAt'];
    if (typeof value === 'string') return value;
    await sleep(50);
  }
  throw new Error('fluxgate never patched the GitRepository');
}

async function main(): Promise<void> {
  const cluster = await startTestCluster();
  try {
    const kustomization = (name: string) => ({ apiVersion: APPLIER.apiVersion, kind: 'Kustomization', metadata: { name, namespace: NS }, spec: { interval: '10m', path: `./${name}`, prune: true, sourceRef: { kind: 'GitRepository', name: 'app' } } });
    for (const object of [
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } },
      { apiVersion: SOURCE.apiVersion, kind: 'GitRepository', metadata: { name: 'app', namespace: NS }, spec: { url: 'https://github.com/your-org/app', interval: '10m', ref: { branch: 'main' } } },
      kustomization('infra'),
      kustomization('apps'),
      kustomization('monitoring'),
    ]) await cluster.apply(object);
    const second = cluster.writeKubeconfig({ token: cluster.adminToken, context: 'prod-us' });
    const config = toYaml({
      server: { address: '127.0.0.1:0', publicUrl: 'https://fluxgate.example.com' },
      clusters: [{ name: 'prod-eu', kubeconfig: cluster.kubeconfigPath }, { name: 'prod-us', kubeconfig: second }],
      state: { store: 'memory' },
      providers: [{ name: 'github', type: 'github', secret: { env: 'WEBHOOK_SECRET' } }],
      targets: [{ name: 'app', providers: ['github'], match: { repository: 'your-org/app', branches: ['main'] }, resources: [{ kind: 'GitRepository', name: 'app', namespace: NS }] }],
      feedback: { enabled: true, timeout: '10m' },
    });
    const gateway = await startTestGateway({ config, env: { WEBHOOK_SECRET: SECRET } });
    try {
      const commit = randomBytes(20).toString('hex');
      const body = deliveryBody('github/push-new-branch.json', { repository: 'your-org/app', branch: 'main', commit, pushedAt: Math.floor(Date.now() / 1000) - 2 });
      const deliveryId = randomUUID();
      const headers = { 'content-type': 'application/json', 'x-github-event': 'push', 'x-github-delivery': deliveryId, 'x-hub-signature-256': `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}` };
      const answer = await fetch(gateway.hook('github'), { method: 'POST', headers, body });
      if (answer.status !== 202) throw new Error(`the push was answered ${answer.status}`);
      const revision = `main@sha1:${commit}`;
      const handled = await requestedAt(cluster, 'app');
      await sleep(1800);
      await writeStatus(cluster, SOURCE, 'app', { lastHandledReconcileAt: handled, artifact: { revision, digest: `sha256:${commit}`, lastUpdateTime: new Date().toISOString() }, conditions: ready('True', 'Succeeded', `stored artifact for revision '${revision}'`) });
      await sleep(2600);
      await writeStatus(cluster, APPLIER, 'infra', { lastAppliedRevision: revision, lastAttemptedRevision: revision, conditions: ready('True', 'ReconciliationSucceeded', `Applied revision: ${revision}`) });
      await sleep(1900);
      await writeStatus(cluster, APPLIER, 'apps', { lastAppliedRevision: revision, lastAttemptedRevision: revision, conditions: ready('True', 'ReconciliationSucceeded', `Applied revision: ${revision}`) });
      await writeStatus(cluster, APPLIER, 'monitoring', { lastAttemptedRevision: revision, conditions: ready('False', 'BuildFailed', "kustomize build failed: accumulating resources from './monitoring/alerts': no such file or directory") });
      await sleep(500);
      const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
      try {
        const page = await browser.newPage({ viewport: { width: 1280, height: 720 }, deviceScaleFactor: 1 });
        await page.goto(`${gateway.adminUrl}/deliveries/${encodeURIComponent(deliveryId)}`);
        await page.locator('h2', { hasText: 'Followed' }).scrollIntoViewIfNeeded();
        await page.screenshot({ path: OUT, fullPage: true });
      } finally {
        await browser.close();
      }
      console.log(`wrote ${OUT}`);
    } finally {
      await gateway.stop();
    }
  } finally {
    await cluster.stop();
  }
}

await main();
