/**
 * What Bun enforces on a Worker, measured (the CEL evaluator's design rests on it, src/receivers/cel-evaluator.ts):
 *
 * - `resourceLimits` (web Worker and node:worker_threads): does a worker limited to a 64 MB heap get to keep
 *   300 MB of strings?
 * - `smol: true`: the same allocation (it picks JSC's small heap size: more frequent collections, no limit);
 * - `terminate()` during a JavaScript loop, and during one native `Array.prototype.join` building 1 GB: how long
 *   until the worker has ended, and how high the process's RSS went;
 * - the evaluator's own worker on the attack (1,000 pieces joined with a 1 MB separator): its answer, and RSS.
 *
 * Each scenario runs in a fresh worker of this process; RSS is this process's VmRSS, sampled every 5 ms.
 *
 * usage: bun bench/worker-limits.ts
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker as NodeWorker } from 'node:worker_threads';
import { createCelEvaluator } from '../src/receivers/cel-evaluator.ts';
import { createFilterCompiler } from '../src/receivers/cel-filter.ts';
import { systemClock } from '../src/core/clock.ts';
import { tempDir } from '../test/support/temp-dir.ts';
import { printMachine, printTable } from './support.ts';

const dir = tempDir('fluxgate-worker-limits-');
const script = join(dir.path, 'worker.ts');
writeFileSync(
  script,
  `const threads = require('node:worker_threads');
const viaNode = threads.workerData === 'node';
const post = (message: unknown) => (viaNode ? threads.parentPort.postMessage(message) : postMessage(message));
const run = (kind: string) => {
  const started = performance.now();
  try {
    if (kind === 'retain') {
      const kept: string[] = [];
      // 300 distinct, flat 1 MB strings (a rope would not take its memory until read).
      for (let index = 0; index < 300; index += 1) kept.push(Buffer.alloc(1_000_000, String(index)).toString('latin1'));
      post({ done: \`kept \${kept.length} MB\`, ms: performance.now() - started });
    } else if (kind === 'loop') {
      post({ started: true });
      for (;;);
    } else if (kind === 'join') {
      post({ started: true });
      const joined = 'x'.repeat(1000).split('').join('y'.repeat(1_000_000));
      post({ done: \`joined \${joined.length} characters\`, ms: performance.now() - started });
    }
  } catch (error) {
    post({ done: String(error), ms: performance.now() - started });
  }
};
if (viaNode) threads.parentPort.on('message', run);
else addEventListener('message', (event) => run((event as MessageEvent).data));
`,
);

const rssMiB = () => Number(readFileSync('/proc/self/status', 'utf8').match(/^VmRSS:\s+(\d+) kB/m)?.[1] ?? NaN) / 1024;

interface Outcome {
  result: string;
  /** From terminate() to the worker's end, when the scenario terminates it. */
  terminatedMs?: number;
  peakGrowthMiB: number;
}

/** Runs `kind` in a fresh worker; with `terminateAfterMs`, terminates it that long after it says it started. */
async function scenario(make: () => { post(kind: string): void; on(listener: (message: any) => void): void; terminate(): void; onExit(listener: () => void): void }, kind: string, terminateAfterMs?: number): Promise<Outcome> {
  Bun.gc(true);
  await Bun.sleep(100);
  const idle = rssMiB();
  let peak = idle;
  const sampler = setInterval(() => (peak = Math.max(peak, rssMiB())), 5);
  const worker = make();
  const outcome = await new Promise<Omit<Outcome, 'peakGrowthMiB'>>((resolve) => {
    let terminatedAt = 0;
    let result = '';
    worker.onExit(() => resolve({ result, ...(terminatedAt ? { terminatedMs: performance.now() - terminatedAt } : {}) }));
    worker.on((message) => {
      if (message.started && terminateAfterMs !== undefined) {
        setTimeout(() => {
          terminatedAt = performance.now();
          worker.terminate();
        }, terminateAfterMs);
      }
      if (message.done) {
        result = `${message.done} in ${Math.round(message.ms)} ms`;
        if (terminateAfterMs === undefined) worker.terminate();
      }
    });
    worker.post(kind);
  });
  clearInterval(sampler);
  return { ...outcome, result: outcome.result || 'ended before finishing', peakGrowthMiB: peak - idle };
}

const web = (options: Record<string, unknown>) => () => {
  const worker = new Worker(script, options as WorkerOptions);
  return { post: (kind: string) => worker.postMessage(kind), on: (listener: (message: any) => void) => worker.addEventListener('message', (event) => listener(event.data)), terminate: () => worker.terminate(), onExit: (listener: () => void) => worker.addEventListener('close', listener) };
};
const node = (options: Record<string, unknown>) => () => {
  const worker = new NodeWorker(script, { ...options, workerData: 'node' });
  return { post: (kind: string) => worker.postMessage(kind), on: (listener: (message: any) => void) => worker.on('message', listener), terminate: () => void worker.terminate(), onExit: (listener: () => void) => worker.on('exit', listener) };
};
const limits = { resourceLimits: { maxOldGenerationSizeMb: 64, maxYoungGenerationSizeMb: 16 } };

printMachine('fluxgate bench: what Bun enforces on a Worker');
const rows: (string | number)[][] = [];
const add = (name: string, outcome: Outcome) => rows.push([name, outcome.result, outcome.terminatedMs === undefined ? '-' : `${outcome.terminatedMs.toFixed(0)} ms`, outcome.peakGrowthMiB.toFixed(0)]);
add('Worker, resourceLimits 64 MB heap: keep 300 MB', await scenario(web(limits), 'retain'));
add('node:worker_threads, resourceLimits 64 MB: keep 300 MB', await scenario(node(limits), 'retain'));
add('Worker, smol: keep 300 MB', await scenario(web({ smol: true }), 'retain'));
add('Worker: keep 300 MB', await scenario(web({}), 'retain'));
add('Worker: terminate 100 ms into a JS loop', await scenario(web({}), 'loop', 100));
add('Worker: terminate 100 ms into a 1 GB join', await scenario(web({}), 'join', 100));

// The evaluator's worker on the attack: bounded before the join runs.
const filter = createFilterCompiler().compile("req.a.split('').join(req.b).size() > 0", { claims: false });
if ('problem' in filter) throw new Error(filter.problem);
const evaluator = createCelEvaluator({ clock: systemClock });
await evaluator.filter({ req: {}, lists: [], stepsSpent: 0 }); // started and warm
Bun.gc(true);
const idle = rssMiB();
let peak = idle;
const sampler = setInterval(() => (peak = Math.max(peak, rssMiB())), 5);
const startedAt = performance.now();
const answer = await evaluator.filter({ req: { a: 'x'.repeat(1000), b: 'y'.repeat(1_000_000) }, lists: [{ filters: [filter], objects: [{ metadata: { name: 'app' } }] }], stepsSpent: 0 });
const ms = performance.now() - startedAt;
clearInterval(sampler);
evaluator.close();
add('fluxgate CEL worker: the attack', { result: `${JSON.stringify(answer)} in ${Math.round(ms)} ms`, peakGrowthMiB: peak - idle });

printTable(['scenario', 'result', 'terminate → ended', 'peak RSS growth MiB'], rows);
dir.remove();
process.exit(0);
