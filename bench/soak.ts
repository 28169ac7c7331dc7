/**
 * Soak benchmark: fluxgate under a steady 500 signed pushes/s for N minutes, patching a real kube-apiserver.
 * 90% of the pushes go to one repository whose target names 5 GitRepositories (debounce coalesces them), the rest
 * round-robin over 20 repositories with an object each. fluxgate's RSS is sampled every 10 s (between 10-s blocks
 * of load, each paced as an open loop); prints the samples, the growth after warm-up (the first minute), and the
 * count of 5xx answers, which must be 0.
 * Baseline: the RSS at the end of warm-up, in the same run.
 *
 * usage: bun bench/soak.ts [--minutes 5] [--rate 500] [--warm-up 60]
 */
import { parseArgs } from 'node:util';
import { createGitRepositories, kubeconfigBlock, withCluster } from './api-server.ts';
import { freePort, githubProvider, githubPush, paced, printMachine, printTable, rssMiB, startFluxgate } from './support.ts';

const { values } = parseArgs({ options: { minutes: { type: 'string', default: '5' }, rate: { type: 'string', default: '500' }, 'warm-up': { type: 'string', default: '60' } } });
const blocks = Math.round((Number(values.minutes) * 60) / 10);
const rate = Number(values.rate);
const warmUpBlocks = Math.round(Number(values['warm-up']) / 10);
if (warmUpBlocks < 1 || warmUpBlocks >= blocks) throw new Error('--warm-up must be at least 10 s and shorter than --minutes');
const shared = Array.from({ length: 5 }, (_, index) => `soak-${index}`);
const own = Array.from({ length: 20 }, (_, index) => `soak-repo-${index}`);

printMachine(`soak: ${rate} pushes/s for ${values.minutes} min, 90% to one repository (5 objects), 10% over ${own.length} repositories; RSS every 10 s`);

await withCluster(async (cluster, namespace) => {
  await createGitRepositories(cluster, namespace, [...shared, ...own]);
  const resources = shared.map((name) => `{ kind: GitRepository, name: ${name}, namespace: ${namespace} }`).join(', ');
  const targets = [
    `  - { name: shared, providers: [github], match: { repository: bench/soak, branches: [main] }, resources: [${resources}] }`,
    ...own.map((name) => `  - { name: ${name}, providers: [github], match: { repository: bench/${name}, branches: [main] }, resources: [{ kind: GitRepository, name: ${name}, namespace: ${namespace} }] }`),
  ];
  // /metrics is on the admin listener: a port known in advance, so the summary can read it.
  const adminPort = freePort();
  const gateway = await startFluxgate(
    (address) => `server: { address: ${address}, adminAddress: 127.0.0.1:${adminPort} }\n${kubeconfigBlock(cluster)}\nreconcile: { debounce: 2s, concurrency: 16 }\n${githubProvider}\ntargets:\n${targets.join('\n')}\n`,
  );
  try {
    const sharedPush = githubPush('bench/soak');
    const ownPushes = own.map((name) => githubPush(`bench/${name}`));
    const hook = `${gateway.url}/hook/github`;
    let sentTotal = 0;
    const send = () => {
      const index = sentTotal++;
      return (index % 10 === 9 ? ownPushes[Math.floor(index / 10) % ownPushes.length]! : sharedPush).send(hook).then(
        (answer) => answer.status,
        () => 0, // connection failed
      );
    };
    const idle = rssMiB(gateway.pid);
    const samples: { second: number; rss: number; answers: Map<number, number>; rate: number }[] = [];
    for (let block = 1; block <= blocks; block += 1) {
      const { results, seconds } = await paced(rate, 10, send);
      const answers = new Map<number, number>();
      for (const status of results) answers.set(status, (answers.get(status) ?? 0) + 1);
      samples.push({ second: block * 10, rss: rssMiB(gateway.pid), answers, rate: results.length / seconds });
    }

    const warm = samples[warmUpBlocks - 1]!.rss;
    printTable(
      ['t', 'RSS', 'vs warm-up', 'pushes/s', 'answers'],
      [
        ['0 s', `${idle.toFixed(1)} MiB`, '', '', 'idle, after start'],
        ...samples.map((sample, index) => [
          `${sample.second} s`,
          `${sample.rss.toFixed(1)} MiB`,
          index < warmUpBlocks - 1 ? '' : `${(((sample.rss - warm) / warm) * 100).toFixed(1)}%`,
          sample.rate.toFixed(0),
          [...sample.answers].map(([status, n]) => `${n}×${status || 'failed'}`).join(' '),
        ]),
      ],
    );
    const total = (predicate: (status: number) => boolean) => samples.reduce((sum, sample) => sum + [...sample.answers].filter(([status]) => predicate(status)).reduce((s, [, n]) => s + n, 0), 0);
    const final = samples.at(-1)!.rss;
    const peak = Math.max(...samples.slice(warmUpBlocks - 1).map((sample) => sample.rss));
    const fiveHundreds = total((status) => status >= 500);
    console.log(`\nRSS at the end of warm-up (baseline) ${warm.toFixed(1)} MiB; at the end ${final.toFixed(1)} MiB: growth ${(((final - warm) / warm) * 100).toFixed(1)}% (peak after warm-up ${(((peak - warm) / warm) * 100).toFixed(1)}%)`);
    console.log(`pushes ${sentTotal}; 5xx answers ${fiveHundreds} (must be 0); failed connections ${total((status) => status === 0)}; other non-202 ${total((status) => status !== 202 && status !== 0 && status < 500)}`);
    const metrics = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
    const outcomes = metrics.split('\n').filter((line) => /^fluxgate_(reconcile_requests_total|debounce_coalesced_total)/.test(line));
    console.log(`fluxgate: ${outcomes.join('; ')}`);
    console.log(`fluxgate warnings/errors logged: ${await gateway.problems()}`);
    if (fiveHundreds > 0) process.exitCode = 1;
  } finally {
    await gateway.stop();
  }
});
