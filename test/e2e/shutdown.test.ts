/** SIGTERM on the real process: stop accepting, flush pending debounced requests, exit 0. */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fluxgateArgs, waitForLogLine } from '../support/cli.ts';
import { startFakeKubeApiServer, type FakeKubeApiServer } from '../support/fake-kube-apiserver.ts';
import { tempDir } from '../support/temp-dir.ts';
import { until } from '../support/until.ts';
import { startTestGateway } from '../support/gateway.ts';
import { manualClock, settle } from '../support/manual-clock.ts';
import { githubWebhook, post } from '../support/webhooks.ts';

const SECRET = 'shutdown-test-secret';
let kube: FakeKubeApiServer;
const dir = tempDir();

beforeAll(async () => {
  kube = await startFakeKubeApiServer();
  kube.addObject({ apiVersion: 'source.toolkit.fluxcd.io/v1', kind: 'GitRepository', namespace: 'flux-system', name: 'app' });
});
afterAll(async () => {
  await kube.stop();
  dir.remove();
});

// Starts a fluxgate process; on a busy machine that takes longer than bun's default 5 s.
test('SIGTERM flushes the pending trailing patch before exiting 0', async () => {
  const kubeconfig = kube.writeKubeconfig(dir.path);
  const configPath = join(dir.path, 'fluxgate.yaml');
  writeFileSync(
    configPath,
    `server: { address: 127.0.0.1:0, adminAddress: 127.0.0.1:0 }
kubernetes: { mode: kubeconfig, kubeconfig: ${kubeconfig} }
reconcile: { debounce: 1h }
providers:
  - { name: github, type: github, secret: { env: HOOK_SECRET } }
targets:
  - name: app
    providers: [github]
    resources: [{ kind: GitRepository, name: app, namespace: flux-system }]
`,
  );
  const child = Bun.spawn(fluxgateArgs('serve', '--config', configPath), { env: { ...process.env, HOOK_SECRET: SECRET }, stdout: 'ignore', stderr: 'pipe' });
  const lines: string[] = [];
  const listening = await waitForLogLine(child.stderr, (line) => line.msg === 'fluxgate listening', lines);
  const url = `http://${listening.address}/hook/github`;

  expect((await post(url, githubWebhook(SECRET))).status).toBe(202);
  await until(() => kube.patches.length >= 1, 'the leading patch');
  expect((await post(url, githubWebhook(SECRET))).status).toBe(202);
  expect(kube.patches).toHaveLength(1);

  child.kill('SIGTERM');
  expect(await child.exited).toBe(0);
  // The second push was waiting for the end of a one-hour window; shutdown sent it at once.
  expect(kube.patches).toHaveLength(2);
  expect(kube.patches[1]!.body.metadata.annotations['reconcile.fluxcd.io/requestedAt']).not.toBe(kube.patches[0]!.body.metadata.annotations['reconcile.fluxcd.io/requestedAt']);
}, 30_000);

test('a webhook whose body completes after shutdown began is refused with 503, never accepted without a patch after it', async () => {
  const clock = manualClock(Date.now());
  const kubeconfig = kube.writeKubeconfig(dir.path);
  const gateway = await startTestGateway({
    config: `server: { address: 127.0.0.1:0, adminAddress: 127.0.0.1:0, shutdownTimeout: 30s }
kubernetes: { mode: kubeconfig, kubeconfig: ${kubeconfig} }
reconcile: { debounce: 1h }
providers:
  - { name: github, type: github, secret: { value: ${SECRET} } }
targets:
  - name: app
    providers: [github]
    resources: [{ kind: GitRepository, name: app, namespace: flux-system }]
`,
    clock,
  });
  kube.patches.length = 0;
  // The first patch hangs, so shutdown stays in its waiting phase while the late body arrives.
  kube.injectFaults({ method: 'PATCH', path: '/gitrepositories/app' }, [{ status: 'hang' }]);
  expect((await post(gateway.hook('github'), githubWebhook(SECRET))).status).toBe(202);
  await until(() => kube.requests.some((request) => request.method === 'PATCH'), 'the first PATCH');

  // A second delivery: its headers are in and the handler is reading the body when shutdown begins.
  const hook = githubWebhook(SECRET);
  let reading!: () => void;
  const started = new Promise<void>((resolve) => (reading = resolve));
  let finish!: () => void;
  const released = new Promise<void>((resolve) => (finish = resolve));
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      reading();
      await released;
      controller.enqueue(hook.body);
      controller.close();
    },
  });
  const late = gateway.handle(new Request(gateway.hook('github'), { method: 'POST', headers: hook.headers, body, duplex: 'half' } as RequestInit));
  await started;
  const stopping = gateway.shutdown();
  await settle();
  finish();
  const answer = await late;
  expect(answer.status).toBe(503);
  expect(await answer.json()).toEqual({ error: 'shutting down' });
  expect(answer.headers.get('retry-after')).toBe('5');

  await clock.advance(30_000); // the hung patch is given up at the shutdown timeout
  expect(await stopping).toEqual({ unfinished: 1 });
});
