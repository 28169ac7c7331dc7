/**
 * A secret canary: a gateway run with distinctive secret values (webhook secrets from env and from a file, a
 * GitLab signing token, an unsigned provider's hashed route, the admin token), exercised with good and bad
 * deliveries, a refused reload, an unknown hook, explain and validate — then every log line, every answer body,
 * `/metrics`, the status page, the drill-down pages and `/api/*` are searched for those values.
 */
import { afterAll, expect, test } from 'bun:test';
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { builtinProviders } from '../../plugins/index.ts';
import { runExplain } from '../../src/commands/explain.ts';
import { runValidate } from '../../src/commands/validate.ts';
import { startTestGateway } from '../support/gateway.ts';
import { tempDir } from '../support/temp-dir.ts';
import { githubWebhook, gitlabSignedWebhook, gitlabWebhook, post } from '../support/webhooks.ts';

const CANARIES = {
  github: 'canary-gh-5f1d9a7c3e',
  githubFile: 'canary-file-8b2e4d6f0a',
  gitlab: 'canary-gl-1c7e3a9b5d',
  signing: `whsec_${Buffer.from('canary-signing-key-0123456789ab').toString('base64')}`,
  route: 'canaryroute4e8f1a2b6c9d',
  admin: 'canary-admin-7d3f5b1e9a',
};
const dir = tempDir();
afterAll(() => dir.remove());

test('no secret value reaches a log line, an answer, the metrics, the pages or the API', async () => {
  writeFileSync(join(dir.path, 'github-secret'), `${CANARIES.githubFile}\n`);
  writeFileSync(join(dir.path, 'admin-token'), CANARIES.admin);
  const config = `server: { address: 127.0.0.1:0 }
kubernetes: { mode: dry-run }
admin: { token: { file: admin-token } }
providers:
  - { name: github, type: github, secret: { env: GH_SECRET } }
  - { name: github-file, type: github, secret: { file: github-secret } }
  - { name: gitlab, type: gitlab, secret: { env: GL_TOKEN }, signingSecret: { env: GL_SIGNING } }
  - { name: ci, type: generic, allowUnsigned: true, path: /hook/${CANARIES.route} }
targets:
  - name: app
    providers: [github, github-file, gitlab, ci]
    resources: [{ kind: GitRepository, name: app, namespace: flux-system }]
`;
  const env = { GH_SECRET: CANARIES.github, GL_TOKEN: CANARIES.gitlab, GL_SIGNING: CANARIES.signing };
  const gateway = await startTestGateway({ config, env, files: { 'github-secret': `${CANARIES.githubFile}\n`, 'admin-token': CANARIES.admin } });
  const seen: string[] = [];
  const keep = async (response: Response) => {
    seen.push(`${response.status} ${JSON.stringify([...response.headers])} ${await response.text()}`);
    return response.status;
  };
  try {
    // Good and bad deliveries on every provider.
    expect(await keep(await post(gateway.hook('github'), githubWebhook(CANARIES.github)))).toBe(202);
    expect(await keep(await post(gateway.hook('github'), githubWebhook(`${CANARIES.github}x`)))).toBe(401);
    expect(await keep(await post(gateway.hook('github-file'), githubWebhook(CANARIES.githubFile)))).toBe(202);
    expect(await keep(await post(gateway.hook('gitlab'), gitlabWebhook(CANARIES.gitlab)))).toBe(202);
    expect(await keep(await post(gateway.hook('gitlab'), gitlabWebhook(`${CANARIES.gitlab.slice(0, -1)}`)))).toBe(401);
    expect(await keep(await post(gateway.hook('gitlab'), gitlabSignedWebhook(CANARIES.signing, Math.floor(Date.now() / 1000) - 3600)))).toBe(401);
    expect(await keep(await post(`${gateway.url}/hook/${CANARIES.route}`, githubWebhook('unsigned')))).toBeLessThan(300);
    expect(await keep(await post(`${gateway.url}/hook/${CANARIES.route.slice(0, -1)}`, githubWebhook('x')))).toBe(404);

    // A reload that is refused because a secret became a placeholder-shaped mistake, then the pages.
    writeFileSync(join(gateway.dir, 'fluxgate.yaml.tmp'), config.replace('{ env: GL_SIGNING }', `{ value: "whsec_${CANARIES.gitlab}" }`));
    renameSync(join(gateway.dir, 'fluxgate.yaml.tmp'), join(gateway.dir, 'fluxgate.yaml'));
    const refused = await gateway.reload('test');
    expect(refused.last?.outcome).toBe('failure');
    seen.push(JSON.stringify(refused));

    const admin = { authorization: `Bearer ${CANARIES.admin}` };
    for (const path of ['/', '/?refresh=off', '/api/deliveries', '/metrics', '/healthz', '/readyz']) await keep(await fetch(`${gateway.adminUrl}${path}`, { headers: admin }));
    await keep(await fetch(`${gateway.adminUrl}/`, { headers: { authorization: 'Bearer wrong' } }));
    const { deliveries } = (await (await fetch(`${gateway.adminUrl}/api/deliveries`, { headers: admin })).json()) as { deliveries: { deliveryId?: string }[] };
    for (const delivery of deliveries.filter((item) => item.deliveryId)) {
      await keep(await fetch(`${gateway.adminUrl}/deliveries/${encodeURIComponent(delivery.deliveryId!)}`, { headers: admin }));
      await keep(await fetch(`${gateway.adminUrl}/api/deliveries/${encodeURIComponent(delivery.deliveryId!)}`, { headers: admin }));
    }
    seen.push(JSON.stringify(gateway.log.lines));

    // The commands that read the same config.
    const say = (line: string) => seen.push(line);
    await runExplain({ path: join(gateway.dir, 'fluxgate.yaml'), builtins: builtinProviders, env, output: 'json', provider: 'gitlab', repository: 'your-org/your-repo', branch: 'main' }, say, say);
    await runValidate({ path: join(gateway.dir, 'fluxgate.yaml'), builtins: builtinProviders, env }, say, say);
  } finally {
    await gateway.stop();
  }
  const everything = seen.join('\n');
  expect(everything).toContain('signature'); // the sample did reach the places searched
  for (const [name, value] of Object.entries(CANARIES)) {
    expect({ name, found: everything.includes(value) }).toEqual({ name, found: false });
  }
  // The signing key's raw bytes and the admin token's tail would betray them as well.
  expect(everything).not.toContain('canary-signing-key');
}, 30_000);
