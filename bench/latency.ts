/**
 * Latency benchmark: a signed GitHub push answered 202 → its patch acknowledged by a real kube-apiserver, p50 and
 * p99, for pushes one after another and at a fixed rate. Every push names its own GitRepository (its own
 * repository and target), so debounce never holds a patch back.
 * Baseline, in the same run, on the same objects and as many times: a raw keep-alive JSON merge patch of the same
 * annotation from this process (Bun fetch with the cluster's CA and token), from sending it to its
 * acknowledgement.
 *
 * "Acknowledged" is when this process reads the watch event carrying the new value (bench/api-server.ts): a watch
 * sits outside fluxgate's path, where a proxy in front of the API server would add a hop to the very thing
 * measured. The watch's own delay is in both columns; the raw PATCH's answer time is printed too, to show it.
 * Sequential: each raw PATCH and each push waits for its acknowledgement before the next starts (interleaved, so
 * noise on this shared machine hits both alike). Rate: an open loop; the baseline phase runs first, then the
 * same raw PATCHes with at most 16 in flight (fluxgate's reconcile.concurrency; printed below the table, to tell
 * the concurrency cap from fluxgate's own cost), then fluxgate.
 *
 * `--no-events` turns fluxgate's Kubernetes Events off (`kubernetes.events: false`): each patch then costs the API
 * server one write, as a raw PATCH does, instead of a PATCH and an Event.
 *
 * usage: bun bench/latency.ts [--sequential 100] [--rate 200] [--seconds 10] [--no-events]
 */
import { parseArgs } from 'node:util';
import { createGitRepositories, kubeconfigBlock, rawPatcher, watchAnnotation, withCluster } from './api-server.ts';
import { githubProvider, githubPush, limited, ms, paced, percentile, printMachine, printTable, ratio, startFluxgate } from './support.ts';

const { values } = parseArgs({ options: { sequential: { type: 'string', default: '100' }, rate: { type: 'string', default: '200' }, seconds: { type: 'string', default: '10' }, 'no-events': { type: 'boolean', default: false } } });
const sequential = Number(values.sequential);
const rate = Number(values.rate);
const seconds = Number(values.seconds);
const objects = Math.max(sequential, rate * seconds);
const warmUp = 20;
/** The kubernetes block, with Events off under --no-events. */
const withEvents = (block: string) => (values['no-events'] ? block.replace(/ }$/, ', events: false }') : block);
const names = Array.from({ length: objects + warmUp }, (_, index) => `repo-${index}`);

printMachine(`latency: push answered 202 → patch acknowledged (watch), ${sequential} sequential and ${rate}/s for ${seconds} s, each push to its own object${values['no-events'] ? ', Kubernetes Events off' : ''}`);

await withCluster(async (cluster, namespace) => {
  await createGitRepositories(cluster, namespace, names);
  const targets = names.map(
    (name) => `  - { name: ${name}, providers: [github], match: { repository: bench/${name}, branches: [main] }, resources: [{ kind: GitRepository, name: ${name}, namespace: ${namespace} }] }`,
  );
  const gateway = await startFluxgate(
    (address) => `server: { address: ${address}, adminAddress: 127.0.0.1:0 }\n${withEvents(kubeconfigBlock(cluster))}\nreconcile: { debounce: 2s, concurrency: 16 }\n${githubProvider}\ntargets:\n${targets.join('\n')}\n`,
  );
  const watch = await watchAnnotation(cluster, namespace);
  const patch = rawPatcher(cluster, namespace);
  const pushes = names.map((name) => githubPush(`bench/${name}`));
  const hook = `${gateway.url}/hook/github`;
  const refused: number[] = [];

  /** Raw PATCH → acknowledged; also when its own answer came. */
  const raw = async (index: number) => {
    const name = names[index]!;
    const acked = watch.nextChange(name);
    const sentAt = performance.now();
    await patch(name);
    const answeredAt = performance.now();
    return { ack: (await acked).at - sentAt, answer: answeredAt - sentAt };
  };
  /**
   * Raw PATCH with at most 16 PATCHes in flight (fluxgate's reconcile.concurrency), timed from when it was due,
   * so the wait for a free slot counts, as it does for fluxgate's queued patches.
   */
  const patchCapped = limited(16, patch);
  const rawCapped = async (index: number) => {
    const name = names[index]!;
    const acked = watch.nextChange(name);
    const dueAt = performance.now();
    await patchCapped(name);
    return { ack: (await acked).at - dueAt };
  };
  /** Push → 202 → acknowledged; also from sending the push. */
  const viaFluxgate = async (index: number) => {
    const name = names[index]!;
    const acked = watch.nextChange(name);
    const answer = await pushes[index]!.send(hook);
    if (answer.status !== 202) {
      refused.push(answer.status);
      acked.catch(() => {}); // no patch will come: its timeout must not end the run
      return undefined;
    }
    const at = (await acked).at;
    return { ack: at - answer.answeredAt, fromSent: at - answer.sentAt };
  };

  try {
    // Warm-up on objects not measured: connections, fluxgate's API discovery, the JIT on both sides.
    for (let index = objects; index < objects + warmUp; index += 1) {
      await raw(index);
      await viaFluxgate(index);
    }
    const rawSequential: { ack: number; answer: number }[] = [];
    const fluxSequential: { ack: number; fromSent: number }[] = [];
    for (let index = 0; index < sequential; index += 1) {
      rawSequential.push(await raw(index));
      const result = await viaFluxgate(index);
      if (result) fluxSequential.push(result);
    }
    const rawRate = await paced(rate, seconds, raw);
    // The same with at most 16 PATCHes in flight, as fluxgate's reconcile.concurrency allows: is a gap the cap or fluxgate?
    const capped = await paced(rate, seconds, rawCapped);
    const fluxRate = await paced(rate, seconds, viaFluxgate);
    const fluxRateResults = fluxRate.results.filter((result) => result !== undefined);

    const row = (what: string, p: number, base: number[], measured: number[]) => [what, ms(percentile(base, p)), ms(percentile(measured, p)), ratio(percentile(measured, p), percentile(base, p))];
    const acks = (list: { ack: number }[]) => list.map((result) => result.ack);
    printTable(
      ['', 'raw PATCH', 'fluxgate', 'fluxgate/raw'],
      [
        row(`sequential (${sequential}) p50`, 50, acks(rawSequential), acks(fluxSequential)),
        row(`sequential (${sequential}) p99`, 99, acks(rawSequential), acks(fluxSequential)),
        row(`${rate}/s × ${seconds} s p50`, 50, acks(rawRate.results), acks(fluxRateResults)),
        row(`${rate}/s × ${seconds} s p99`, 99, acks(rawRate.results), acks(fluxRateResults)),
      ],
    );
    const answers = (list: { answer: number }[]) => list.map((result) => result.answer);
    const fromSent = (list: { fromSent: number }[]) => list.map((result) => result.fromSent);
    console.log(`\nraw PATCH answered (no watch): sequential p50 ${ms(percentile(answers(rawSequential), 50))} p99 ${ms(percentile(answers(rawSequential), 99))}; ${rate}/s p50 ${ms(percentile(answers(rawRate.results), 50))} p99 ${ms(percentile(answers(rawRate.results), 99))}`);
    console.log(`fluxgate from sending the push: sequential p50 ${ms(percentile(fromSent(fluxSequential), 50))} p99 ${ms(percentile(fromSent(fluxSequential), 99))}; ${rate}/s p50 ${ms(percentile(fromSent(fluxRateResults), 50))} p99 ${ms(percentile(fromSent(fluxRateResults), 99))}`);
    console.log(`raw PATCH with at most 16 in flight (fluxgate's concurrency), ${rate}/s: p50 ${ms(percentile(acks(capped.results), 50))} p99 ${ms(percentile(acks(capped.results), 99))} (fluxgate/capped p50 ${ratio(percentile(acks(fluxRateResults), 50), percentile(acks(capped.results), 50))})`);
    console.log(`achieved rate: raw ${(rawRate.results.length / rawRate.seconds).toFixed(0)}/s, fluxgate ${(fluxRate.results.length / fluxRate.seconds).toFixed(0)}/s; pushes not answered 202: ${refused.length}${refused.length ? ` (${[...new Set(refused)].join(', ')})` : ''}`);
    console.log(`fluxgate warnings/errors logged: ${await gateway.problems()}`);
  } finally {
    watch.stop();
    await gateway.stop();
  }
});
