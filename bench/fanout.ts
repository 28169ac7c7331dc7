/**
 * Fan-out benchmark: one signed push whose target selects 1,000 GitRepositories by label (`matchLabels`,
 * reconcile.concurrency 16), from its 202 until the last of the 1,000 patches is acknowledged by a real
 * kube-apiserver. fluxgate lists the selector first (one LIST, paged by 500), then patches each object.
 * Baseline, in the same run: 1,000 raw keep-alive PATCHes of the same objects at concurrency 16 from this process,
 * from the first sent to the last acknowledged (no LIST: the names are known).
 *
 * "Acknowledged" = this process reads the watch event with the new value (see bench/api-server.ts): a watch is
 * outside fluxgate's path. Rounds alternate baseline and fluxgate, each after the previous round's debounce
 * windows have closed, so every object takes its leading-edge patch at once.
 *
 * usage: bun bench/fanout.ts [--objects 1000] [--rounds 3]
 */
import { parseArgs } from 'node:util';
import { resourcePath } from '../test/support/kube-apiserver/cluster.ts';
import { createGitRepositories, GIT_REPOSITORY, kubeconfigBlock, rawPatcher, watchAnnotation, withCluster, type AnnotationWatch } from './api-server.ts';
import { githubProvider, githubPush, ms, percentile, printMachine, printTable, ratio, startFluxgate } from './support.ts';

const { values } = parseArgs({ options: { objects: { type: 'string', default: '1000' }, rounds: { type: 'string', default: '3' } } });
const count = Number(values.objects);
const rounds = Number(values.rounds);
const concurrency = 16;
const debounceMs = 2_000;
const names = Array.from({ length: count }, (_, index) => `fan-${index}`);

printMachine(`fanout: one push → ${count} objects selected by label, concurrency ${concurrency}, until the last patch is acknowledged (watch)`);

/** Resolves with when the last of `names` changed, after all have. */
async function allChanged(watch: AnnotationWatch): Promise<() => Promise<number>> {
  const changes = names.map((name) => watch.nextChange(name, 120_000));
  return async () => Math.max(...(await Promise.all(changes)).map((change) => change.at));
}

await withCluster(async (cluster, namespace) => {
  await createGitRepositories(cluster, namespace, names, { 'bench-fanout': 'yes' });
  await createGitRepositories(cluster, namespace, ['warm-up', 'warm-up-raw']);
  const gateway = await startFluxgate(
    (address) => `server: { address: ${address}, adminAddress: 127.0.0.1:0 }
${kubeconfigBlock(cluster)}
reconcile: { debounce: ${debounceMs}ms, concurrency: ${concurrency} }
${githubProvider}
targets:
  - { name: fanout, providers: [github], match: { repository: bench/fanout, branches: [main] }, resources: [{ kind: GitRepository, namespace: ${namespace}, matchLabels: { bench-fanout: "yes" } }] }
  - { name: warm-up, providers: [github], match: { repository: bench/warm-up, branches: [main] }, resources: [{ kind: GitRepository, name: warm-up, namespace: ${namespace} }] }
`,
  );
  const watch = await watchAnnotation(cluster, namespace);
  const patch = rawPatcher(cluster, namespace);
  const push = githubPush('bench/fanout');
  const hook = `${gateway.url}/hook/github`;

  const baseline = async () => {
    const last = await allChanged(watch);
    const started = performance.now();
    let next = 0;
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (next < count) await patch(names[next++]!);
    }));
    return (await last()) - started;
  };
  /** The LIST fluxgate sends for the selector (pages of 500), timed from this process, for context. */
  const listSelector = async () => {
    const started = performance.now();
    let next = '';
    do {
      const page = await cluster.request('GET', `${resourcePath(GIT_REPOSITORY.apiVersion, GIT_REPOSITORY.plural, namespace)}?labelSelector=bench-fanout%3Dyes&limit=500${next ? `&continue=${next}` : ''}`);
      next = page.body.metadata.continue ?? '';
    } while (next);
    return performance.now() - started;
  };
  const viaFluxgate = async () => {
    const last = await allChanged(watch);
    const answer = await push.send(hook);
    if (answer.status !== 202) throw new Error(`the fan-out push was answered ${answer.status}`);
    return (await last()) - answer.answeredAt;
  };

  try {
    // Warm-up: connections, fluxgate's API discovery, the JIT on both sides.
    const warmed = watch.nextChange('warm-up');
    if ((await githubPush('bench/warm-up').send(hook)).status !== 202) throw new Error('warm-up push refused');
    await warmed;
    for (let index = 0; index < 20; index += 1) await patch('warm-up-raw');

    const results: { raw: number; fluxgate: number }[] = [];
    const lists: number[] = [];
    for (let round = 0; round < rounds; round += 1) {
      const raw = await baseline();
      await Bun.sleep(debounceMs + 500); // the baseline's patches do not touch fluxgate's windows; the pause is for symmetry
      lists.push(await listSelector());
      const fluxgate = await viaFluxgate();
      await Bun.sleep(debounceMs + 500); // fluxgate's windows close, so the next round starts from idle objects
      results.push({ raw, fluxgate });
    }
    const rows = results.map((result, index) => [`round ${index + 1}`, ms(result.raw), ms(result.fluxgate), ratio(result.fluxgate, result.raw)]);
    const median = (pick: (result: { raw: number; fluxgate: number }) => number) => percentile(results.map(pick), 50);
    rows.push(['median', ms(median((r) => r.raw)), ms(median((r) => r.fluxgate)), ratio(median((r) => r.fluxgate), median((r) => r.raw))]);
    printTable(['', `raw PATCH ×${count}`, 'fluxgate (202 →)', 'fluxgate/raw'], rows);
    // Each round pairs the two runs back to back: on a shared machine the median of the paired ratios is the steadier figure.
    const paired = percentile(results.map((result) => result.fluxgate / result.raw), 50);
    console.log(`median of the rounds' own ratios: ${paired.toFixed(2)}×`);
    const rate = (elapsed: number) => `${((count / elapsed) * 1000).toFixed(0)}/s`;
    console.log(`\npatches per second (median round): raw ${rate(median((r) => r.raw))}, fluxgate ${rate(median((r) => r.fluxgate))}`);
    console.log(`the selector's LIST alone (same query from this process, just before each fluxgate round): median ${ms(percentile(lists, 50))}`);
    console.log(`fluxgate warnings/errors logged: ${await gateway.problems()}`);
  } finally {
    watch.stop();
    await gateway.stop();
  }
});
