/**
 * /readyz tells every reader whether fluxgate is ready and why in a word (`unreachable`, `unauthorized`, …);
 * the detail (the API server's URL, the error's text) only a reader with the admin token, when one is set.
 * Probes carry no token: they need only the status code.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { startFakeKubeApiServer, type FakeKubeApiServer } from '../support/fake-kube-apiserver.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { tempDir } from '../support/temp-dir.ts';

const TOKEN = 'readyz-admin-token-8a2d6c';
const scratch = tempDir();
let kube: FakeKubeApiServer;
let kubeUrl = '';

function config(kubeconfig: string, admin: string): string {
  return `server: { address: 127.0.0.1:0 }
kubernetes: { mode: kubeconfig, kubeconfig: ${kubeconfig} }
${admin}providers:
  - { name: github, type: github, secret: { value: readyz-hook-secret } }
targets:
  - name: app
    providers: [github]
    resources: [{ kind: GitRepository, name: app, namespace: flux-system }]
`;
}

async function readyz(gateway: TestGateway, headers: Record<string, string> = {}): Promise<{ status: number; text: string; body: Record<string, unknown> }> {
  const response = await fetch(`${gateway.adminUrl}/readyz`, { headers });
  const text = await response.text();
  return { status: response.status, text, body: JSON.parse(text) };
}

beforeAll(async () => {
  kube = await startFakeKubeApiServer();
  kubeUrl = kube.url;
});
afterAll(async () => {
  await kube.stop();
  scratch.remove();
});

describe('with admin.token set, an API server that refuses the credentials', () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    const kubeconfig = kube.writeKubeconfig(scratch.path, { token: 'a-token-the-api-server-does-not-know', context: 'refused' });
    gateway = await startTestGateway({ config: config(kubeconfig, `admin: { token: { value: ${TOKEN} } }\n`) });
  });
  afterAll(() => gateway.stop());

  test('without the token, or with another, /readyz is 503 with the reason class and nothing else', async () => {
    for (const headers of [{}, { authorization: 'Bearer not-the-token' }] as Record<string, string>[]) {
      const answer = await readyz(gateway, headers);
      expect(answer.status).toBe(503);
      expect(answer.body).toEqual({ ready: false, reason: 'unauthorized' });
      expect(answer.text).not.toContain(new URL(kubeUrl).host);
    }
  });

  test('with the token, the detail names the API server and what it answered', async () => {
    const answer = await readyz(gateway, { authorization: `Bearer ${TOKEN}` });
    expect(answer.status).toBe(503);
    expect(answer.body).toMatchObject({ ready: false, reason: 'unauthorized' });
    expect(String(answer.body.detail)).toContain(kubeUrl);
    expect(String(answer.body.detail)).toContain('401');
  });
});

describe('an API server that does not answer', () => {
  let kubeconfig: string;
  let gone: string;
  beforeAll(async () => {
    const stopped = await startFakeKubeApiServer();
    gone = stopped.url;
    kubeconfig = stopped.writeKubeconfig(scratch.path, { context: 'gone' });
    await stopped.stop();
  });

  test('with admin.token set: a probe reads 503 and `unreachable`; the token reads the URL and the error', async () => {
    const gateway = await startTestGateway({ config: config(kubeconfig, `admin: { token: { value: ${TOKEN} } }\n`) });
    try {
      const probe = await readyz(gateway);
      expect(probe.status).toBe(503);
      expect(probe.body).toEqual({ ready: false, reason: 'unreachable' });
      expect(probe.text).not.toContain(new URL(gone).host);
      const admin = await readyz(gateway, { authorization: `Bearer ${TOKEN}` });
      expect(admin.body).toMatchObject({ ready: false, reason: 'unreachable' });
      expect(String(admin.body.detail)).toContain(`cannot reach ${gone}`);
    } finally {
      await gateway.stop();
    }
  });

  test('without admin.token: every reader reads the detail, as the page would show it', async () => {
    const gateway = await startTestGateway({ config: config(kubeconfig, '') });
    try {
      const answer = await readyz(gateway);
      expect(answer.status).toBe(503);
      expect(answer.body).toMatchObject({ ready: false, reason: 'unreachable' });
      expect(String(answer.body.detail)).toContain(`cannot reach ${gone}`);
    } finally {
      await gateway.stop();
    }
  });
});
