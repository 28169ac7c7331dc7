/** A fluxgate in dry-run on loopback for the HTTP tests: one signed GitHub provider, one target. */
import type { Clock } from '../../src/core/clock.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';

export const SECRET = 'http-test-secret-5d1e';

/** `server` holds extra `server:` keys as YAML lines, e.g. `maxBodySize: 1MiB`. */
export function httpConfig(server: string[] = []): string {
  return `server:
  address: 127.0.0.1:0
${server.map((line) => `  ${line}\n`).join('')}kubernetes: { mode: dry-run }
providers:
  - { name: github, type: github, secret: { env: HOOK_SECRET } }
targets:
  - name: app
    providers: [github]
    resources: [{ kind: GitRepository, name: app, namespace: flux-system }]
`;
}

export function startHttpGateway(options: { server?: string[]; clock?: Clock; tls?: { cert: string; key: string } } = {}): Promise<TestGateway> {
  const server = [...(options.server ?? []), ...(options.tls ? ['tls: { certFile: tls.crt, keyFile: tls.key }'] : [])];
  return startTestGateway({
    config: httpConfig(server),
    env: { HOOK_SECRET: SECRET },
    clock: options.clock,
    files: options.tls ? { 'tls.crt': options.tls.cert, 'tls.key': options.tls.key } : {},
  });
}

/** The value of one sample in Prometheus text, or undefined when the series is absent. */
export function sample(metrics: string, series: string): number | undefined {
  const line = metrics.split('\n').find((text) => text.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/**
 * Polls /metrics until `series` reads `value`: the gateway reads bodies and closes connections on its own
 * schedule. Gives up after 5 s, naming the last value read.
 */
export async function waitForSample(url: string, series: string, value: number): Promise<void> {
  const deadline = Date.now() + 5_000;
  let last: number | undefined;
  while ((last = sample(await (await fetch(`${url}/metrics`)).text(), series)) !== value) {
    if (Date.now() > deadline) throw new Error(`expected ${series} ${value}, last read ${last}`);
    await Bun.sleep(5);
  }
}
