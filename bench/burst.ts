/**
 * Burst benchmark: 10,000 signed pushes in 10 s (an open loop at 1,000/s, each with its own delivery id) to one
 * repository whose target names 5 GitRepositories, debounce 2 s, against a real kube-apiserver. Counts the patches
 * each object received (expect at most 1 + ⌈sending time / debounce⌉ = 6: a leading patch, then one per window),
 * and checks that every object's last patch started after the last push was answered 202.
 *
 * Patches are counted from a watch on the API server (every patch writes a new, unique requestedAt; see
 * bench/api-server.ts), and a patch's start is its requestedAt value, which fluxgate stamps when the patch starts
 * (wall clock, compared with this process's wall clock at the 202). No proxy sits in fluxgate's path.
 * Baseline: the number of pushes accepted, so patches/pushes is the coalescing ratio.
 *
 * usage: bun bench/burst.ts [--pushes 10000] [--seconds 10] [--objects 5]
 */
import { parseArgs } from 'node:util';
import { createGitRepositories, kubeconfigBlock, watchAnnotation, withCluster } from './api-server.ts';
import { githubProvider, githubPush, paced, printMachine, printTable, startFluxgate } from './support.ts';

const { values } = parseArgs({ options: { pushes: { type: 'string', default: '10000' }, seconds: { type: 'string', default: '10' }, objects: { type: 'string', default: '5' } } });
const pushes = Number(values.pushes);
const seconds = Number(values.seconds);
const debounceMs = 2_000;
const names = Array.from({ length: Number(values.objects) }, (_, index) => `burst-${index}`);

printMachine(`burst: ${pushes} pushes in ${seconds} s to one repository, target of ${names.length} objects, debounce ${debounceMs / 1000} s`);

/** Wall-clock milliseconds (with the fraction) of an RFC 3339 requestedAt with nanoseconds. */
function requestedAtMs(value: string): number {
  const match = /^(.*T\d\d:\d\d:\d\d)\.(\d{3})(\d{6})Z$/.exec(value);
  if (!match) throw new Error(`not a requestedAt: ${value}`);
  return Date.parse(`${match[1]}.${match[2]}Z`) + Number(match[3]) / 1e6;
}

await withCluster(async (cluster, namespace) => {
  await createGitRepositories(cluster, namespace, names);
  const resources = names.map((name) => `{ kind: GitRepository, name: ${name}, namespace: ${namespace} }`).join(', ');
  const gateway = await startFluxgate(
    (address) => `server: { address: ${address}, adminAddress: 127.0.0.1:0 }
${kubeconfigBlock(cluster)}
reconcile: { debounce: ${debounceMs}ms, concurrency: 16 }
${githubProvider}
targets:
  - { name: burst, providers: [github], match: { repository: bench/burst, branches: [main] }, resources: [${resources}] }
`,
  );
  const watch = await watchAnnotation(cluster, namespace);
  try {
    const push = githubPush('bench/burst');
    const hook = `${gateway.url}/hook/github`;
    const sent = await paced(pushes / seconds, seconds, () => push.send(hook));
    const answered = performance.now();
    const accepted = sent.results.filter((answer) => answer.status === 202);
    const statuses = new Map<number, number>();
    for (const answer of sent.results) statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
    const last202 = Math.max(...accepted.map((answer) => answer.answeredWallMs));
    const span = (Math.max(...accepted.map((answer) => answer.answeredAt)) - Math.min(...accepted.map((answer) => answer.sentAt))) / 1000;

    // Quiet: no new patch for two debounce windows after the last push.
    const lastChange = () => Math.max(0, ...names.flatMap((name) => watch.history(name).map((change) => change.at)));
    const deadline = performance.now() + 60_000;
    while (performance.now() - Math.max(lastChange(), answered) < 2 * debounceMs && performance.now() < deadline) await Bun.sleep(250);

    const bound = 1 + Math.ceil(span / (debounceMs / 1000));
    let failed = false;
    const rows = names.map((name) => {
      const history = watch.history(name);
      const lastStart = history.length ? requestedAtMs(history.at(-1)!.value) : NaN;
      const after = lastStart - last202;
      const ok = history.length <= bound && after > 0;
      failed ||= !ok;
      return [name, history.length, accepted.length, `${((history.length / accepted.length) * 100).toFixed(3)}%`, `${after.toFixed(1)} ms`, ok ? 'ok' : 'FAIL'];
    });
    printTable(['object', 'patches', 'pushes (baseline)', 'patches/pushes', 'last patch start − last 202', ''], rows);
    console.log(`\nsent ${sent.results.length} in ${sent.seconds.toFixed(2)} s (${(sent.results.length / sent.seconds).toFixed(0)}/s), accepted ${accepted.length} over ${span.toFixed(2)} s; answers: ${[...statuses].map(([status, n]) => `${n}×${status}`).join(' ')}`);
    console.log(`expected at most ${bound} patches per object (1 + ⌈${span.toFixed(2)} s / ${debounceMs / 1000} s⌉: 6 when the pushes span at most 10 s) and each last patch after the last 202: ${failed ? 'FAILED' : 'held'}`);
    console.log(`fluxgate warnings/errors logged: ${await gateway.problems()}`);
    if (failed) process.exitCode = 1;
  } finally {
    watch.stop();
    await gateway.stop();
  }
});
