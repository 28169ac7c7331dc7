/**
 * A delivery in dry-run with the example config (a named GitRepository and a label selector) is logged as dry-run
 * work, never with a warning that reads like a failure: without a cluster there is nothing to list, and nothing went wrong.
 */
import { afterAll, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { until } from '../support/until.ts';
import { githubWebhook, post } from '../support/webhooks.ts';

const example = readFileSync(join(import.meta.dir, '..', '..', 'config.example.yaml'), 'utf8');
let gateway: TestGateway | undefined;
afterAll(() => gateway?.stop());

test('the example config in dry-run: a push reconciles both resources as dry-run, with no warning', async () => {
  gateway = await startTestGateway({ config: example, env: { GITHUB_WEBHOOK_SECRET: 'quiet-dry-run-4e1a', GITLAB_WEBHOOK_TOKEN: 'quiet-dry-run-7c2b' } });
  const started = gateway.log.lines.length;
  const answer = await post(gateway.hook('github'), githubWebhook('quiet-dry-run-4e1a'));
  expect(answer.status).toBe(202);
  const dryRun = () => gateway!.log.lines.slice(started).filter((line) => line.msg === 'dry-run: reconcile request not sent').map((line) => line.object);
  await until(() => dryRun().length === 2, 'both resources handled');
  expect(dryRun().sort()).toEqual(['GitRepository flux-system/flux-system', 'Kustomization flux-system/{app=my-app}']);
  expect(gateway.log.lines.slice(started).filter((line) => line.level === 'warn' || line.level === 'error')).toEqual([]);
  // The delivery log says why the selector listed nothing, as dry-run, not as a failure.
  const { deliveries } = (await (await fetch(`${gateway.adminUrl}/api/deliveries`)).json()) as { deliveries: { state: string; objects: { object: string; state: string; detail?: string }[] }[] };
  expect(deliveries[0]!.state).toBe('dry-run');
  expect(deliveries[0]!.objects.find((row) => row.object.startsWith('Kustomization'))).toMatchObject({ state: 'dry-run', detail: 'a label selector is listed only with a cluster: each object it selects there would be reconciled' });
});
