/** syncHooks on its own: a host that echoes a secret in its error never gets it printed. */
import { expect, test } from 'bun:test';
import { registration } from '../../plugins/gitlab/registration.ts';
import { HostError } from '../../src/provider-kit/host-error.ts';
import type { HookHost } from '../../src/provider-kit/hook-host.ts';
import type { RegisterJob } from '../../src/register/jobs.ts';
import { syncHooks } from '../../src/register/sync-hooks.ts';

test("a host's message quoting the token or the secret is shown with them redacted", async () => {
  const job: RegisterJob = {
    provider: 'gitlab',
    host: 'gitlab',
    registration,
    apiUrl: 'https://gitlab.example.com',
    token: 'glpat-quoted-0123',
    scopes: [{ kind: 'project', name: 'acme/app' }],
    wanted: { provider: 'gitlab', url: 'https://gw.example.com/hook/gitlab', events: ['push_events'], secret: 'hook-secret-4567' },
  };
  const host: HookHost = {
    list: async () => [],
    create: async () => {
      throw new HostError(422, 'POST /api/v4/projects/acme%2Fapp/hooks', 'token hook-secret-4567 rejected for user of glpat-quoted-0123');
    },
    update: async () => undefined,
    remove: async () => {},
    explain: (error) => (error as Error).message,
  };
  const rows = await syncHooks([job], { dryRun: false, prune: false, rotateSecret: false, gatewayPrefix: 'https://gw.example.com/hook/', hostFor: () => host });
  expect(rows).toHaveLength(1);
  expect(rows[0]!.error).toBe('POST /api/v4/projects/acme%2Fapp/hooks: 422 token [redacted] rejected for user of [redacted]');
});
