/**
 * Where a webhook's time goes, in process (no socket, so the machine's noise and the HTTP layer are out of it):
 * each stage of the ingest path timed alone on the same signed ~7 KB GitHub push, from the least any gateway must
 * do (decode + JSON.parse, HMAC) up to fluxgate's whole answer (`Gateway.handle`: routing, body limits, verify,
 * parse, match, dedupe, the reconcile hand-off in dry-run, metrics, the delivery log and a log line formatted at
 * info level). Each stage runs in rounds of `--iterations` after a warm-up; the median round is printed.
 * usage: bun bench/stages.ts [--iterations 20000] [--rounds 5]
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { builtinProviders } from '../plugins/index.ts';
import { startGateway } from '../src/app/gateway.ts';
import { loadConfigFile } from '../src/app/load-config.ts';
import { compileProviders } from '../src/pipeline/compile.ts';
import { decide } from '../src/pipeline/handle-webhook.ts';
import { annotationFor, defaultApiVersion } from '../src/core/kinds.ts';
import { createLogger } from '../src/core/log.ts';
import { tempDir } from '../test/support/temp-dir.ts';
import { deliveryBody } from '../test/support/webhooks.ts';
import { githubProvider, SECRET } from './support.ts';

const { values } = parseArgs({ options: { iterations: { type: 'string', default: '20000' }, rounds: { type: 'string', default: '5' } } });
const iterations = Number(values.iterations);
const rounds = Number(values.rounds);
const secret = SECRET;

const body = new Uint8Array(Buffer.from(deliveryBody('github/push-new-branch.json', { repository: 'your-org/your-repo', branch: 'main' })));
const signature = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
const dir = tempDir('fluxgate-stages-');
const configPath = join(dir.path, 'fluxgate.yaml');
writeFileSync(
  configPath,
  `server: { address: 127.0.0.1:0, adminAddress: 127.0.0.1:0 }
kubernetes: { mode: dry-run }
${githubProvider}
targets:
  - name: app
    providers: [github]
    match: { repository: your-org/your-repo, branches: [main] }
    resources: [{ kind: GitRepository, name: app, namespace: flux-system }]
`,
);
const env = { BENCH_SECRET: secret, HOME: dir.path };

let sequence = 0;
const headers = () =>
  new Headers({ 'content-type': 'application/json', 'x-github-event': 'push', 'x-hub-signature-256': signature, 'x-github-delivery': `stage-${(sequence += 1)}` });

/** Median microseconds per call of `run` over the rounds (after one warm-up round). */
async function time(run: () => unknown): Promise<number> {
  const perRound: number[] = [];
  for (let round = 0; round <= rounds; round += 1) {
    const started = performance.now();
    for (let index = 0; index < iterations; index += 1) {
      const result = run();
      if (result instanceof Promise) await result;
    }
    if (round > 0) perRound.push(((performance.now() - started) * 1000) / iterations);
  }
  return perRound.sort((a, b) => a - b)[Math.floor(perRound.length / 2)]!;
}

const loaded = await loadConfigFile({ path: configPath, builtins: builtinProviders, env });
const provider = compileProviders(loaded.config, loaded.providers, { defaultApiVersion, annotationFor }).get('github')!;
const decoder = new TextDecoder();
const expected = () => Buffer.from(`sha256=${createHmac('sha256', secret).update(body).digest('hex')}`);
const request = () => ({ body, headers: headers() });

// The gateway logs at info, formatted as JSON, to nowhere: formatting is measured, the terminal is not.
const gateway = await startGateway({ builtins: builtinProviders, configPath, version: 'bench', env, log: createLogger({ level: 'info', write: () => {} }), address: '127.0.0.1:0', adminAddress: '127.0.0.1:0', watchConfig: false });
const whole = () =>
  gateway.handle(new Request('http://127.0.0.1/hook/github', { method: 'POST', body, headers: headers() })).then((response) => {
    if (response.status !== 202) throw new Error(`expected 202, got ${response.status}`);
  });

const stages: [string, () => unknown][] = [
  ['new Headers (the benchmark\'s own cost)', () => headers()],
  ['new Request + arrayBuffer (its own cost)', () => new Request('http://127.0.0.1/hook/github', { method: 'POST', body, headers: headers() }).arrayBuffer()],
  ['decode + JSON.parse', () => JSON.parse(decoder.decode(body))],
  ['HMAC-SHA256 + constant-time compare', () => timingSafeEqual(Buffer.from(signature), expected())],
  ['codec: describe + verify', () => {
    const incoming = request();
    provider.codec.describe(incoming.headers);
    return provider.codec.verify(incoming, provider.key, new Date());
  }],
  ['codec: parse (JSON + reading the push)', () => {
    const incoming = request();
    return provider.codec.parse(incoming, provider.codec.describe(incoming.headers), provider.key);
  }],
  ['decide: parse + match targets', () => {
    const incoming = request();
    return decide(provider, incoming, provider.codec.describe(incoming.headers));
  }],
  ['whole answer (Gateway.handle, 202)', whole],
];

const results: [string, number][] = [];
try {
  for (const [name, run] of stages) results.push([name, await time(run)]);
} finally {
  await gateway.shutdown();
  dir.remove();
}
const total = results.at(-1)![1];
console.log(`stages: ${body.length} B signed GitHub push, in process, median of ${rounds} rounds × ${iterations}`);
for (const [name, micros] of results) console.log(`${name.padEnd(42)} ${micros.toFixed(2).padStart(8)} µs   ${((micros / total) * 100).toFixed(0).padStart(3)}% of the whole`);
