/**
 * Argo CD at scale, against the REAL kube-apiserver the test suite builds (test/support/kube-apiserver): N
 * Applications (default 15,000, the scale of argoproj/argo-cd#28620) in the `argocd` namespace, discovered by
 * fluxgate (`discovery: { kinds: [Application], namespaces: [argocd] }`, every other setting at its default, Events
 * on). A mono-repository `your-org/bench-apps` holds 5 teams of D Applications each (default 1,000), each with
 * `path: teams/team-<t>/apps/app-<i>` and `argocd.argoproj.io/manifest-generate-paths: .;/teams/team-<t>/base`;
 * the other Applications follow 500 other repositories. One signed GitHub push to main that changed
 * `teams/team-0/base/kustomization.yaml` concerns the D Applications of team 0 (the other 4·D of the same
 * repository are near misses, decided by their annotation).
 *
 * Each round, interleaved with its baseline:
 * - fluxgate: the push's answer time, and the time from sending it to the D-th `argocd.argoproj.io/refresh: normal`
 *   seen on the API server (a watch of this process, not in fluxgate's path);
 * - baseline: the same D Applications annotated by raw keep-alive JSON merge patches from this process, 16 in
 *   flight (fluxgate's default `reconcile.concurrency`), timed to the D-th annotation seen by the same watch.
 * Between the two, the annotation is removed again (as Argo CD's controller does once it has refreshed).
 * Also: the time from fluxgate's start to `/readyz` 200 (its first LIST of the N Applications indexed).
 *
 * usage: bun bench/argocd.ts [--applications 15000] [--concerned 1000] [--rounds 3]
 */
import { createHmac, randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { resourcePath, startTestCluster, type TestCluster } from '../test/support/kube-apiserver/cluster.ts';
import { deliveryBody } from '../test/support/webhooks.ts';
import { watchAnnotation, type AnnotationWatch } from './api-server.ts';
import { freePort, githubProvider, limited, printMachine, SECRET, startFluxgate } from './support.ts';

const { values } = parseArgs({ options: { applications: { type: 'string', default: '15000' }, concerned: { type: 'string', default: '1000' }, rounds: { type: 'string', default: '3' } } });
const N = Number(values.applications);
const D = Number(values.concerned);
const ROUNDS = Number(values.rounds);
const TEAMS = 5;
if (N < TEAMS * D) throw new Error(`--applications must be at least ${TEAMS} × --concerned`);
const NAMESPACE = 'argocd';
const APPLICATION = { apiVersion: 'argoproj.io/v1alpha1', plural: 'applications' } as const;
const REFRESH = 'argocd.argoproj.io/refresh';
const MONOREPO = 'your-org/bench-apps';

function application(i: number) {
  const team = Math.floor(i / D);
  const mono = team < TEAMS;
  const name = mono ? `team-${team}-app-${String(i % D).padStart(4, '0')}` : `other-${String(i).padStart(5, '0')}`;
  return {
    apiVersion: APPLICATION.apiVersion,
    kind: 'Application',
    metadata: { name, namespace: NAMESPACE, ...(mono ? { annotations: { 'argocd.argoproj.io/manifest-generate-paths': `.;/teams/team-${team}/base` } } : {}) },
    spec: {
      project: 'default',
      destination: { server: 'https://kubernetes.default.svc', namespace: name },
      source: mono
        ? { repoURL: `https://github.com/${MONOREPO}.git`, targetRevision: 'main', path: `teams/team-${team}/apps/app-${i % D}` }
        : { repoURL: `https://github.com/your-org/other-${i % 500}.git`, targetRevision: 'main', path: 'deploy' },
    },
  };
}

/** Creates the N Applications, 32 requests in flight; returns the names of team 0's (the ones the push concerns). */
async function populate(cluster: TestCluster): Promise<string[]> {
  await cluster.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } });
  const path = resourcePath(APPLICATION.apiVersion, APPLICATION.plural, NAMESPACE);
  const started = performance.now();
  const create = limited(32, async (i: number) => {
    const res = await cluster.request('POST', path, application(i));
    if (res.status !== 201 && res.status !== 409) throw new Error(`create application ${i}: ${res.status}`);
  });
  await Promise.all(Array.from({ length: N }, (_, i) => create(i)));
  console.error(`created ${N} Applications in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return Array.from({ length: D }, (_, i) => application(i).metadata.name);
}

/** JSON merge patches of the refresh annotation (`value`, or null to remove it) on `names`, 16 or 32 in flight. */
async function patchAll(cluster: TestCluster, names: string[], value: 'normal' | null, inFlight: number): Promise<void> {
  const base = cluster.server + resourcePath(APPLICATION.apiVersion, APPLICATION.plural, NAMESPACE);
  const body = JSON.stringify({ metadata: { annotations: { [REFRESH]: value } } });
  const patch = limited(inFlight, async (name: string) => {
    const response = await fetch(`${base}/${name}`, {
      method: 'PATCH',
      headers: { Authorization: `Bearer ${cluster.adminToken}`, Accept: 'application/json', 'Content-Type': 'application/merge-patch+json', 'User-Agent': 'bench' },
      body,
      tls: { ca: cluster.caPem },
    });
    await response.arrayBuffer();
    if (!response.ok) throw new Error(`PATCH ${name}: HTTP ${response.status}`);
  });
  await Promise.all(names.map((name) => patch(name)));
}

/** Milliseconds from `start` to the last of `names` seen refreshed. */
async function lastRefresh(watch: AnnotationWatch, names: string[], start: () => Promise<number>): Promise<number> {
  const seen = names.map((name) => watch.nextChange(name, 300_000));
  const startedAt = await start();
  const changes = await Promise.all(seen);
  return Math.max(...changes.map((change) => change.at)) - startedAt;
}

/** The push of MONOREPO main whose one commit changed team 0's base. */
function push(): { body: Uint8Array; signature: string } {
  const payload = JSON.parse(new TextDecoder().decode(deliveryBody('github/push-new-branch.json', { repository: MONOREPO, branch: 'main' })));
  payload.commits[0].added = [];
  payload.commits[0].removed = [];
  payload.commits[0].modified = ['teams/team-0/base/kustomization.yaml'];
  payload.head_commit = payload.commits[0];
  const body = new TextEncoder().encode(JSON.stringify(payload));
  return { body, signature: `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}` };
}

const median = (numbers: number[]) => [...numbers].sort((a, b) => a - b)[Math.floor(numbers.length / 2)]!;

printMachine(`argocd: ${N} Applications discovered, one push concerning ${D} of them (manifest-generate-paths), against ${D} raw PATCHes; real kube-apiserver`);
const cluster = await startTestCluster();
try {
  const names = await populate(cluster);
  const watch = await watchAnnotation(cluster, NAMESPACE, REFRESH, APPLICATION);
  const admin = `127.0.0.1:${freePort()}`;
  const fluxgate = await startFluxgate((address) =>
    [
      `server: { address: "${address}", adminAddress: "${admin}" }`,
      `kubernetes: { mode: kubeconfig, kubeconfig: ${JSON.stringify(cluster.kubeconfigPath)} }`,
      githubProvider,
      `discovery: { enabled: true, kinds: [Application], namespaces: [${NAMESPACE}] }`,
    ].join('\n'),
  );
  let readyMs = NaN;
  for (const started = performance.now(); ; await Bun.sleep(10)) {
    if (await fetch(`http://${admin}/readyz`).then((r) => r.status === 200, () => false)) {
      readyMs = fluxgate.startMs + performance.now() - started;
      break;
    }
    if (performance.now() - started > 300_000) throw new Error('fluxgate not ready in 300 s');
  }
  const { body, signature } = push();
  const results = { answer: [] as number[], fluxgate: [] as number[], raw: [] as number[] };
  try {
    for (let round = 0; round < ROUNDS; round++) {
      // Longer than the default debounce (2s): each push's requests go out at once, on the leading edge.
      await Bun.sleep(3000);
      let answerMs = NaN;
      results.fluxgate.push(
        await lastRefresh(watch, names, async () => {
          const sentAt = performance.now();
          const response = await fetch(`${fluxgate.url}/hook/github`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-github-delivery': randomUUID(), 'x-hub-signature-256': signature }, body });
          answerMs = performance.now() - sentAt;
          const answer = await response.text();
          if (response.status !== 202 || JSON.parse(answer).discovered !== D) throw new Error(`push answered ${response.status} ${answer.slice(0, 500)}`);
          return sentAt;
        }),
      );
      results.answer.push(answerMs);
      await patchAll(cluster, names, null, 32);
      results.raw.push(await lastRefresh(watch, names, async () => {
        const startedAt = performance.now();
        void patchAll(cluster, names, 'normal', 16);
        return startedAt;
      }));
      await patchAll(cluster, names, null, 32);
      console.error(`round ${round + 1}: answer ${answerMs.toFixed(1)} ms, fluxgate → last refresh ${results.fluxgate.at(-1)!.toFixed(0)} ms, raw → last ${results.raw.at(-1)!.toFixed(0)} ms`);
    }
    const problems = await fluxgate.problems();
    const answer = median(results.answer);
    const last = median(results.fluxgate);
    const raw = median(results.raw);
    console.log(`medians of ${ROUNDS} interleaved rounds:`);
    console.log(`fluxgate ready (first LIST of ${N} indexed):  ${readyMs.toFixed(0).padStart(6)} ms`);
    console.log(`push answered (202, ${D} discovered):        ${answer.toFixed(1).padStart(8)} ms`);
    console.log(`push → last of ${D} refreshed:             ${last.toFixed(0).padStart(6)} ms   ${D} raw PATCHes (16 in flight) ${raw.toFixed(0)} ms   ratio ${(last / raw).toFixed(2)}`);
    console.log(`fluxgate warnings and errors: ${problems}`);
  } finally {
    await fluxgate.stop();
    watch.stop();
  }
} finally {
  await cluster.stop();
}
