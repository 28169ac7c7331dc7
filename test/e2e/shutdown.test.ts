/** SIGTERM on the real process: stop accepting, flush pending debounced requests, exit 0. */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fluxgateArgs, waitForLogLine } from '../support/cli.ts';
import { startFakeKubeApiServer, type FakeKubeApiServer } from '../support/fake-kube-apiserver.ts';
import { tempDir } from '../support/temp-dir.ts';
import { until } from '../support/until.ts';
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

test('SIGTERM flushes the pending trailing patch before exiting 0', async () => {
  const kubeconfig = kube.writeKubeconfig(dir.path);
  const configPath = join(dir.path, 'fluxgate.yaml');
  writeFileSync(
    configPath,
    `server: { address: 127.0.0.1:0 }
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
});
