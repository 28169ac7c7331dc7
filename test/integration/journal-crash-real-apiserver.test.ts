/**
 * The promise of a 202, on the real kube-apiserver with fluxgate as a real process and the journal on sqlite:
 * `kill -9` at a random moment of a burst (before an answer, after a 202, during a patch, during the replay of
 * the next start), and an API-server outage across a SIGTERM and a `kill -9`. After the last restart, every
 * delivery that got a 202 has each of its objects patched by a PATCH that reached the API server after the
 * delivery was sent; extra patches are bounded by one per object per start.
 *
 * The API server is reached through the fault proxy, which records every PATCH (when it arrived, how it was
 * answered) across the gateway's restarts, and which can go down (connections refused) and come back.
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
import { tempDir } from '../support/temp-dir.ts';
import { githubWebhook, post } from '../support/webhooks.ts';
import { applyAll, eventually, freshNamespace, gitRepository } from './support.ts';

const SECRET = 'journal-crash-secret-71c2';
const OBJECTS = 4;
/** FLUXGATE_CRASH_TRIALS runs more (or, while working on it, fewer). */
const TRIALS = Number(process.env.FLUXGATE_CRASH_TRIALS ?? 50);

let cluster: TestCluster;
let proxy: FaultProxy;
clusterForFile((started) => void (cluster = started));
beforeAll(async () => {
  proxy = await startFaultProxy({ upstream: cluster.server, upstreamCaPem: cluster.caPem });
});
afterAll(async () => {
  await proxy?.stop();
});

/** A deterministic sequence of numbers in [0, 1): the same kill moments on every run of the same seed. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Object i is reconciled by pushes to branch b<i>: a delivery names one object, and the test knows which. */
function writeConfig(dir: string, namespace: string): string {
  writeFileSync(join(dir, 'kubeconfig.yaml'), proxy.kubeconfig({ token: cluster.adminToken }));
  const path = join(dir, 'fluxgate.yaml');
  writeFileSync(
    path,
    toYaml({
      server: { address: '127.0.0.1:0', adminAddress: '127.0.0.1:0', shutdownTimeout: '1s' },
      kubernetes: { mode: 'kubeconfig', kubeconfig: 'kubeconfig.yaml', requestTimeout: '2s', events: false },
      reconcile: { debounce: '500ms', retry: { initialDelay: '100ms', maxDelay: '500ms' } },
      state: { path: 'state' },
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
  sentAt: number;
  status?: number;
}

/** Patches of `app-<object>` in `namespace` the API server answered 200, by arrival time at the proxy. */
function patchTimes(namespace: string, object: number): number[] {
  return proxy.requests.filter((r) => r.method === 'PATCH' && r.status === 200 && r.path.endsWith(`/namespaces/${namespace}/gitrepositories/app-${object}`)).map((r) => r.at);
}

/** The deliveries answered 202 whose object has no successful PATCH that arrived after the delivery was sent. */
function unserved(namespace: string, sent: readonly Sent[]): Sent[] {
  return sent.filter((delivery) => delivery.status === 202 && !patchTimes(namespace, delivery.object).some((at) => at > delivery.sentAt));
}

async function send(gateway: GatewayProcess, object: number): Promise<Sent> {
  const sent: Sent = { object, sentAt: performance.now() };
  try {
    const response = await post(`${gateway.url}/hook/github`, githubWebhook(SECRET, { branch: `b${object}`, deliveryId: randomUUID() }));
    sent.status = response.status;
    await response.arrayBuffer();
  } catch {
    // killed before it answered: no promise was made
  }
  return sent;
}

async function waitServed(namespace: string, sent: readonly Sent[], timeoutMs = 60_000): Promise<void> {
  await eventually('every 202 followed by a patch of its object', () => unserved(namespace, sent).length === 0, {
    timeoutMs,
    intervalMs: 100,
    describe: () => `unserved: ${JSON.stringify(unserved(namespace, sent))}`,
  });
}

describe('the journal keeps each 202 through crashes and outages (sqlite)', () => {
  test(`${TRIALS} trials of a burst with kill -9 at a random moment: every 202 is followed by its patch, extra patches bounded`, async () => {
    const namespace = await freshNamespace(cluster, 'crash');
    await applyAll(cluster, Array.from({ length: OBJECTS }, (_, i) => gitRepository(namespace, `app-${i}`)));
    const dir = tempDir('fluxgate-crash-');
    const config = writeConfig(dir.path, namespace);
    const random = seeded(20261207);
    const sent: Sent[] = [];
    let starts = 0;
    let replayKills = 0;
    for (let trial = 0; trial < TRIALS; trial += 1) {
      const gateway = await startGatewayProcess(config);
      starts += 1;
      // Some trials kill the new process while it replays what the last one owed (its first patches).
      if (random() < 0.2) {
        replayKills += 1;
        await Bun.sleep(Math.floor(random() * 60));
        gateway.kill('SIGKILL');
        await gateway.exited;
        continue;
      }
      const killAfter = Math.floor(random() * 250);
      const timer = setTimeout(() => gateway.kill('SIGKILL'), killAfter);
      const burst: Promise<Sent>[] = [];
      for (let i = 0; i < 8; i += 1) {
        burst.push(send(gateway, Math.floor(random() * OBJECTS)));
        await Bun.sleep(Math.floor(random() * 30));
      }
      sent.push(...(await Promise.all(burst)));
      await gateway.exited;
      clearTimeout(timer);
    }
    const last = await startGatewayProcess(config);
    starts += 1;
    try {
      await waitServed(namespace, sent);
    } finally {
      last.kill('SIGTERM');
      await last.exited;
    }
    const accepted = sent.filter((delivery) => delivery.status === 202);
    const patches = Array.from({ length: OBJECTS }, (_, object) => patchTimes(namespace, object).length);
    console.log(`crash matrix: ${TRIALS} trials, ${starts} starts (${replayKills} killed while replaying), ${sent.length} deliveries sent, ${accepted.length} answered 202, ${sent.filter((d) => d.status === undefined).length} cut off by the kill, ${unserved(namespace, sent).length} unserved, ${patches.reduce((a, b) => a + b, 0)} patches`);
    // Kills land before, between and after answers: some deliveries got a 202, some never an answer.
    expect(accepted.length).toBeGreaterThan(20);
    expect(sent.some((delivery) => delivery.status === undefined)).toBe(true);
    expect(replayKills).toBeGreaterThan(0);
    expect(unserved(namespace, sent)).toEqual([]);
    for (let object = 0; object < OBJECTS; object += 1) {
      const owed = accepted.filter((delivery) => delivery.object === object).length;
      expect(patchTimes(namespace, object).length).toBeLessThanOrEqual(owed + starts);
    }
  }, 600_000);

  test('the API server down while pushes arrive, fluxgate stopped (SIGTERM) and killed (-9) meanwhile: every 202 is patched once it is back', async () => {
    const namespace = await freshNamespace(cluster, 'outage');
    await applyAll(cluster, Array.from({ length: OBJECTS }, (_, i) => gitRepository(namespace, `app-${i}`)));
    const dir = tempDir('fluxgate-outage-');
    const config = writeConfig(dir.path, namespace);
    const sent: Sent[] = [];
    const first = await startGatewayProcess(config);
    await proxy.down();
    try {
      for (let object = 0; object < OBJECTS; object += 1) sent.push(await send(first, object));
      expect(sent.map((delivery) => delivery.status)).toEqual([202, 202, 202, 202]);
      first.kill('SIGTERM');
      expect(await first.exited).toBe(0);
      expect(first.lines.some((line) => line.msg === 'shutdown timed out with patches unfinished: they stay in the journal and are patched at the next start')).toBe(true);

      const second = await startGatewayProcess(config);
      expect(second.lines.find((line) => line.msg === 'reconciling what was accepted before the restart and not yet patched')).toMatchObject({ items: OBJECTS });
      sent.push(await send(second, 0), await send(second, 1));
      second.kill('SIGKILL');
      await second.exited;
      expect(unserved(namespace, sent)).toHaveLength(sent.length);
    } finally {
      await proxy.up();
    }
    const third = await startGatewayProcess(config);
    try {
      await waitServed(namespace, sent);
    } finally {
      third.kill('SIGTERM');
      await third.exited;
    }
    expect(sent.every((delivery) => delivery.status === 202)).toBe(true);
  }, 120_000);
});
