/**
 * `npm run bench`: every benchmark in sequence, each with its defaults, each in its own process (the cluster
 * benchmarks start and stop their own kube-apiserver). A failing one does not stop the others; the exit code
 * says whether any failed. About 25 minutes on 2 cores, most of it the 5-minute soak, the scale rounds, discovery and argocd.
 * usage: bun bench/all.ts [name …]   (e.g. `bun bench/all.ts latency burst`)
 */
import { join } from 'node:path';

const all = ['stages', 'ingest', 'startup', 'scale', 'latency', 'relay', 'fanout', 'burst', 'soak', 'discovery', 'argocd', 'attacks', 'attack-values', 'attack-413', 'attack-cel', 'attack-files', 'worker-limits', 'dedupe', 'journal', 'nats', 'feedback'];
const chosen = process.argv.length > 2 ? process.argv.slice(2) : all;
const unknown = chosen.filter((name) => !all.includes(name));
if (unknown.length > 0) {
  console.error(`unknown benchmark: ${unknown.join(', ')} (known: ${all.join(', ')})`);
  process.exit(2);
}

const failed: string[] = [];
for (const name of chosen) {
  console.log(`\n==== bench/${name}.ts (${new Date().toISOString()})`);
  const child = Bun.spawn([process.execPath, join(import.meta.dir, `${name}.ts`)], { stdout: 'inherit', stderr: 'inherit' });
  if ((await child.exited) !== 0) failed.push(name);
}
console.log(`\n==== ${chosen.length - failed.length} of ${chosen.length} benchmarks finished${failed.length ? `; failed: ${failed.join(', ')}` : ''}`);
process.exitCode = failed.length > 0 ? 1 : 0;
