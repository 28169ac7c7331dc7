/**
 * Many replicas on NATS JetStream, as users run them: three fluxgate processes behind a round-robin proxy (a
 * Service), a three-node JetStream cluster on loopback (streams and buckets R3), the real kube-apiserver behind the
 * fault proxy that records every PATCH. One fluxgate is killed (-9) in the middle of a burst, then one NATS node:
 * every delivery answered 202 is followed by a patch of its object that reached the API server after it was sent,
 * a redelivery of an accepted delivery (to another replica) is a duplicate and never patched a second time within
 * the debounce window, and every surviving replica's /api/deliveries lists every delivery. Then every NATS node
 * goes down: 503 with Retry-After, /readyz not ready, one log line; and back: 202 again.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { clusterForFile } from '../support/cluster-for-file.ts';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.ts';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.ts';
import type { TestCluster } from '../support/kube-apiserver/cluster.ts';
import { startNatsServers, type NatsServers } from '../support/nats-server.ts';
import { startRoundRobinProxy, type RoundRobinProxy } from '../support/round-robin-proxy.ts';
import { tempDir } from '../support/temp-dir.ts';
import { githubWebhook, post } from '../support/webhooks.ts';
import { applyAll, eventually, freshNamespace, gitRepository } from './support.ts';

const SECRET = 'nats-replicas-secret-4b81';
const OBJECTS = 6;
const DEBOUNCE_MS = 2_000;
/** Longer than JetStream's leader elections after a node's loss (a few seconds): losing a node moves no lease. */
const LEASE = '10s';

let cluster: TestCluster;
let apiProxy: FaultProxy;
let nats: NatsServers;
clusterForFile((started) => void (cluster = started));
beforeAll(async () => {
  apiProxy = await startFaultProxy({ upstream: cluster.server, upstreamCaPem: cluster.caPem });
  nats = await startNatsServers({ nodes: 3 });
}, 120_000);
afterAll(async () => {
  await nats?.stop();
  await apiProxy?.stop();
});

/** Object i is reconciled by pushes to branch b<i>. */
function writeConfig(dir: string, namespace: string, name: string): string {
  writeFileSync(join(dir, 'kubeconfig.yaml'), apiProxy.kubeconfig({ token: cluster.adminToken }));
  const path = join(dir, 'fluxgate.yaml');
  writeFileSync(
    path,
    toYaml({
      server: { address: '127.0.0.1:0', adminAddress: '127.0.0.1:0', shutdownTimeout: '1s' },
      admin: { recentDeliveries: 1000 },
      kubernetes: { mode: 'kubeconfig', kubeconfig: 'kubeconfig.yaml', requestTimeout: '2s', events: false },
      reconcile: { debounce: `${DEBOUNCE_MS}ms`, retry: { initialDelay: '100ms', maxDelay: '500ms' } },
      state: { store: 'nats', nats: { servers: nats.urls, name, replicas: 3, lease: LEASE } },
      providers: [{ name: 'github', type: 'github', secret: { value: SECRET } }],
      targets: Array.from({ length: OBJECTS }, (_, i) => ({
        name: `app-${i}`,
        providers: ['github'],
        match: { repository: 'your-org/your-repo', branches: [`b${i}`] },
        resources: [{ kind: 'GitRepository', namespace, name: `app-${i}` }],
      })),
    }),
  );
  return path;
}

interface Sent {
  object: number;
  deliveryId: string;
  sentAt: number;
  status?: number;
  body?: string;
  retryAfter?: string | null;
}

function patchTimes(namespace: string, object: number): number[] {
  return apiProxy.requests.filter((r) => r.method === 'PATCH' && r.status === 200 && r.path.endsWith(`/namespaces/${namespace}/gitrepositories/app-${object}`)).map((r) => r.at);
}

function unserved(namespace: string, sent: readonly Sent[]): Sent[] {
  return sent.filter((delivery) => delivery.status === 202 && !patchTimes(namespace, delivery.object).some((at) => at > delivery.sentAt));
}

async function send(url: string, object: number, deliveryId: string = randomUUID()): Promise<Sent> {
  const sent: Sent = { object, deliveryId, sentAt: performance.now() };
  try {
    const response = await post(`${url}/hook/github`, githubWebhook(SECRET, { branch: `b${object}`, deliveryId }));
    sent.status = response.status;
    sent.retryAfter = response.headers.get('retry-after');
    sent.body = await response.text();
  } catch {
    // no answer: no promise was made
  }
  return sent;
}

/** As a provider's retry does: a 503 (NATS electing a new leader, a replica between servers) is sent again. */
async function sendUntilTaken(url: string, object: number, refusals: string[], deliveryId: string = randomUUID()): Promise<Sent> {
  for (let attempt = 0; ; attempt += 1) {
    const sent = await send(url, object, deliveryId);
    if (sent.status !== 503 || attempt >= 120) return sent;
    refusals.push(sent.body ?? '');
    await Bun.sleep(250);
  }
}

async function metric(gateway: GatewayProcess, name: string): Promise<number> {
  const text = await (await fetch(`${gateway.adminUrl}/metrics`)).text();
  return text.split('\n').filter((line) => line.startsWith(name)).reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
}

async function listedIds(gateway: GatewayProcess): Promise<Set<string>> {
  const { deliveries } = (await (await fetch(`${gateway.adminUrl}/api/deliveries?outcome=accepted`)).json()) as { deliveries: { deliveryId?: string; outcome: string }[] };
  return new Set(deliveries.filter((delivery) => delivery.outcome === 'accepted').map((delivery) => delivery.deliveryId!));
}

describe('three replicas on a three-node JetStream cluster', () => {
  let gateways: GatewayProcess[] = [];
  let front: RoundRobinProxy | undefined;
  const stopAll = async () => {
    front?.stop();
    for (const gateway of gateways) gateway.kill('SIGKILL');
    await Promise.all(gateways.map((gateway) => gateway.exited));
  };

  test('one fluxgate killed mid-burst, then one NATS node: no accepted push lost, no redelivery patched twice, every replica lists every delivery', async () => {
    const namespace = await freshNamespace(cluster, 'ha');
    await applyAll(cluster, Array.from({ length: OBJECTS }, (_, i) => gitRepository(namespace, `app-${i}`)));
    const dir = tempDir('fluxgate-ha-');
    const config = writeConfig(dir.path, namespace, `ha${process.pid}`);
    try {
      gateways = await Promise.all([0, 1, 2].map(() => startGatewayProcess(config)));
      front = startRoundRobinProxy(gateways.map((gateway) => gateway.url));
      // The partitions settle on one owner each (32 shared, plus each replica's own).
      await eventually('the partitions shared by the three replicas', async () => {
        const owned = await Promise.all(gateways.map((gateway) => metric(gateway, 'fluxgate_store_owned_partitions')));
        return owned.every((count) => count > 1) && owned.reduce((a, b) => a + b, 0) === 35;
      }, { timeoutMs: 30_000, intervalMs: 200 });

      const sent: Sent[] = [];
      const redelivered: Sent[] = [];
      const refusals: string[] = [];
      for (let i = 0; i < 60; i += 1) {
        if (i === 20) gateways[1]!.kill('SIGKILL');
        if (i === 40) await nats.nodes[2]!.kill();
        const delivery = await sendUntilTaken(front.url, i % OBJECTS, refusals);
        sent.push(delivery);
        // Every fifth delivery is delivered again (GitHub's "redeliver"): the proxy hands it to another replica.
        if (i % 5 === 0 && delivery.status === 202) redelivered.push(await sendUntilTaken(front.url, delivery.object, refusals, delivery.deliveryId));
        await Bun.sleep(40);
      }
      const accepted = sent.filter((delivery) => delivery.status === 202);
      console.log(`nats replicas: ${sent.length} sent, ${accepted.length} answered 202, statuses ${JSON.stringify(sent.map((d) => d.status ?? 0))}, redelivered ${redelivered.length}, 503 then retried: ${refusals.length} ${JSON.stringify([...new Set(refusals)])}`);
      // Each delivery is taken, at once or after a 503 (with Retry-After) while NATS elected new leaders.
      expect(sent.map((delivery) => delivery.status)).toEqual(sent.map(() => 202));
      for (const again of redelivered) expect({ status: again.status, body: again.body }).toMatchObject({ status: 200, body: expect.stringContaining('duplicate delivery') });

      await eventually('every 202 followed by a patch of its object', () => unserved(namespace, sent).length === 0, {
        timeoutMs: 60_000,
        intervalMs: 200,
        describe: () => `unserved: ${JSON.stringify(unserved(namespace, sent))}`,
      });
      // One owner per object at a time: its patches are a debounce window apart (leading, then trailing edge), never
      // two replicas patching it at once. Half a window of slack for when the requests reached the proxy.
      for (let object = 0; object < OBJECTS; object += 1) {
        const times = patchTimes(namespace, object);
        const gaps = times.slice(1).map((at, i) => at - times[i]!);
        expect({ object, tooClose: gaps.filter((gap) => gap < DEBOUNCE_MS / 2), times: times.map((at) => Math.round(at - sent[0]!.sentAt)) }).toMatchObject({ object, tooClose: [] });
      }
      // The survivors list every accepted delivery, whichever replica answered it (the killed one's too).
      const survivors = [gateways[0]!, gateways[2]!];
      await eventually('every accepted delivery listed by each surviving replica', async () => {
        const lists = await Promise.all(survivors.map(listedIds));
        return lists.every((ids) => accepted.every((delivery) => ids.has(delivery.deliveryId)));
      }, { timeoutMs: 30_000, intervalMs: 200, describe: async () => JSON.stringify((await Promise.all(survivors.map(listedIds))).map((ids) => accepted.filter((d) => !ids.has(d.deliveryId)).map((d) => d.deliveryId))) });
    } finally {
      await stopAll();
      await nats.nodes[2]!.start();
    }
  }, 300_000);

  test('every NATS node down: 503 with Retry-After, /readyz not ready, counted, one log line; back: accepted again', async () => {
    const namespace = await freshNamespace(cluster, 'ha-down');
    await applyAll(cluster, Array.from({ length: OBJECTS }, (_, i) => gitRepository(namespace, `app-${i}`)));
    const dir = tempDir('fluxgate-ha-down-');
    const config = writeConfig(dir.path, namespace, `down${process.pid}`);
    try {
      gateways = await Promise.all([0, 1].map(() => startGatewayProcess(config)));
      front = startRoundRobinProxy(gateways.map((gateway) => gateway.url));
      expect((await send(front.url, 0)).status).toBe(202);
      for (const node of nats.nodes) await node.kill();
      const refused: Sent[] = [];
      for (let i = 0; i < 6; i += 1) refused.push(await send(front.url, i % OBJECTS));
      expect(refused.map((delivery) => delivery.status)).toEqual([503, 503, 503, 503, 503, 503]);
      expect(refused.every((delivery) => delivery.retryAfter !== null)).toBe(true);
      for (const gateway of gateways) {
        expect((await fetch(`${gateway.adminUrl}/readyz`)).status).toBe(503);
        expect(await metric(gateway, 'fluxgate_store_errors_total{operation="commit"}')).toBeGreaterThanOrEqual(3);
        // Three refusals within 10 s: one line.
        expect(gateway.lines.filter((line) => line.msg === 'the state store cannot be written: webhooks are answered 503 until it can')).toHaveLength(1);
      }
      await Promise.all(nats.nodes.map((node) => node.start()));
      await eventually('every replica ready again', async () => (await Promise.all(gateways.map(async (gateway) => (await fetch(`${gateway.adminUrl}/readyz`)).status))).every((status) => status === 200), { timeoutMs: 60_000, intervalMs: 250 });
      // A refused delivery was not remembered: the provider's retry is accepted, and patched.
      const retried = await send(front.url, refused[0]!.object, refused[0]!.deliveryId);
      expect(retried.status).toBe(202);
      await eventually('the retried delivery patched', () => patchTimes(namespace, retried.object).some((at) => at > retried.sentAt), { timeoutMs: 30_000, intervalMs: 200 });
    } finally {
      await stopAll();
    }
  }, 240_000);
});
