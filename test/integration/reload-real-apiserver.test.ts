/**
 * Integration: live reload under load against a REAL kube-apiserver. Pushes keep arriving while the config
 * is replaced 20 times (alternately adding and removing a provider, saved by rename); afterwards every object
 * carries a requestedAt from a patch that started after the last accepted push, and every accepted delivery
 * shows each of its objects patched: nothing accepted was lost to a reload.
 */
import { afterEach, expect, test } from 'bun:test';
import { renameSync, writeFileSync } from 'node:fs';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { type TestCluster } from '../support/kube-apiserver/cluster.ts';
import { clusterForFile } from '../support/cluster-for-file.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { until } from '../support/until.ts';
import { githubWebhook, post } from '../support/webhooks.ts';
import { GIT_REPOSITORY, GITHUB_SECRET, REQUESTED_AT, annotationsOf, applyAll, eventually, freshNamespace, gatewayConfig, gitRepository, metricValue, metricsText } from './support.ts';

let cluster: TestCluster;
let kubeconfig: string;
let gateway: TestGateway | undefined;

clusterForFile((started) => {
  cluster = started;
  kubeconfig = cluster.writeKubeconfig({ token: cluster.adminToken, context: 'reload-admin' });
});
afterEach(async () => {
  await gateway?.stop();
  gateway = undefined;
}, 30_000);

test('20 reloads while pushes arrive: every accepted push is followed by a patch of each of its objects', async () => {
  const ns = await freshNamespace(cluster, 'reload');
  const names = ['a', 'b', 'c', 'd', 'e'];
  await applyAll(cluster, names.map((name) => gitRepository(ns, name)));
  const base = gatewayConfig({ kubeconfig, debounce: '50ms', resources: names.map((name) => ({ kind: 'GitRepository', name, namespace: ns })) });
  const withSecond = (() => {
    const parsed = parseYaml(base);
    parsed.providers.push({ name: 'second', type: 'github', secret: { env: 'GITHUB_WEBHOOK_SECRET' } });
    parsed.targets[0].providers.push('second');
    return toYaml(parsed);
  })();
  gateway = await startTestGateway({ config: base, env: { GITHUB_WEBHOOK_SECRET: GITHUB_SECRET }, watchConfig: true });
  const running = gateway;

  let reloading = true;
  let lastAcceptedSentAt = 0;
  let accepted = 0;
  const statuses: Record<number, number> = {};
  // Three senders, so pushes are in flight (bodies being read, patches pending) at every reload.
  const send = async () => {
    while (reloading) {
      const sentAt = Date.now();
      const response = await post(running.hook('github'), githubWebhook(GITHUB_SECRET));
      statuses[response.status] = (statuses[response.status] ?? 0) + 1;
      if (response.status === 202) {
        accepted += 1;
        lastAcceptedSentAt = Math.max(lastAcceptedSentAt, sentAt);
      }
    }
  };
  const senders = [send(), send(), send()];
  for (let index = 1; index <= 20; index += 1) {
    const before = accepted;
    await until(() => accepted >= before + 3, 'pushes accepted since the last reload', 10_000);
    writeFileSync(`${running.configPath}.tmp`, index % 2 === 1 ? withSecond : base);
    renameSync(`${running.configPath}.tmp`, running.configPath);
    const status = await running.reload('test');
    expect(status.last?.outcome).toBe('success');
  }
  reloading = false;
  await Promise.all(senders);

  // Only 202s: a reload never turns a delivery away.
  expect(Object.keys(statuses)).toEqual(['202']);
  expect(accepted).toBeGreaterThanOrEqual(60);
  await eventually('nothing left to patch', async () => metricValue(await metricsText(running), 'fluxgate_reconcile_pending') === 0 && metricValue(await metricsText(running), 'fluxgate_webhook_requests_total', '{provider="github",type="github",event="push",outcome="accepted"}') === accepted);
  for (const name of names) {
    const requestedAt = (await annotationsOf(cluster, GIT_REPOSITORY, ns, name))[REQUESTED_AT]!;
    // requestedAt is the patch's start, to the nanosecond: at or after the last accepted push was sent.
    expect({ name, after: Date.parse(requestedAt) >= lastAcceptedSentAt - 1 }).toEqual({ name, after: true });
  }
  const { deliveries } = (await (await fetch(`${running.adminUrl}/api/deliveries`)).json()) as { deliveries: { outcome: string; objects: { state: string }[] }[] };
  const unfinished = deliveries.filter((delivery) => delivery.outcome === 'accepted' && (delivery.objects.length !== names.length || delivery.objects.some((object) => object.state !== 'patched')));
  expect(unfinished).toEqual([]);
  expect(await running.shutdown()).toEqual({ unfinished: 0 });
}, 120_000);
