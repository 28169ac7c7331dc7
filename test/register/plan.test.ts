/** The plan for one scope: found by URL, compared field by field, pruned only under this gateway's /hook/. */
import { describe, expect, test } from 'bun:test';
import type { HostHook, WantedHook } from '../../src/provider-kit/hook-host.ts';
import { differences, planScope } from '../../src/register/plan.ts';

const url = 'https://gw.example.com/hook/github';
const wanted: WantedHook = { provider: 'github', url, events: ['push'], secret: 's3cr3t-value' };
const hook = (id: number, fields: Partial<HostHook> = {}): HostHook => ({ id, url, events: ['push'], contentType: 'json', active: true, tlsVerification: true, ...fields });
const options = { rotateSecret: false, prune: false, gatewayPrefix: 'https://gw.example.com/hook/' };

describe('differences', () => {
  test.each([
    ['nothing differs', hook(1), false, []],
    ['events', hook(1, { events: ['issues', 'push'] }), false, [{ field: 'events', from: 'issues, push', to: 'push' }]],
    ['content type', hook(1, { contentType: 'form' }), false, [{ field: 'content_type', from: 'form', to: 'json' }]],
    ['inactive', hook(1, { active: false }), false, [{ field: 'active', from: 'false', to: 'true' }]],
    ['TLS verification off', hook(1, { tlsVerification: false }), false, [{ field: 'tls_verification', from: 'off', to: 'on' }]],
    ['fields the host does not report are not compared', { id: 1, url, events: ['push'] }, false, []],
    ['a secret the host says is unset', hook(1, { secretSet: false }), false, [{ field: 'secret', from: 'not set', to: 'the configured secret' }]],
    ['a secret that may be set is kept', hook(1, { secretSet: true }), false, []],
    ['--rotate-secret sends it anyway', hook(1), true, [{ field: 'secret', from: 'set', to: 'the configured secret (rotated)' }]],
  ] as const)('%s', (_, existing, rotate, expected) => {
    expect(differences(existing as HostHook, wanted, rotate)).toEqual(expected as unknown as ReturnType<typeof differences>);
  });

  test('no field change ever carries the secret', () => {
    expect(JSON.stringify(differences(hook(1, { secretSet: false }), wanted, true))).not.toContain('s3cr3t-value');
  });
});

describe('planScope', () => {
  test('a missing hook is created; an equal one left alone', () => {
    expect(planScope([], [wanted], options)).toEqual([{ action: 'create', wanted }]);
    expect(planScope([hook(4)], [wanted], options)).toEqual([{ action: 'unchanged', hook: hook(4), wanted }]);
  });

  test('--prune removes hooks under this gateway the config does not want, and duplicates (the oldest is kept), never other URLs', () => {
    const stale = hook(2, { url: 'https://gw.example.com/hook/renamed' });
    const foreign = hook(3, { url: 'https://gw.example.com/jenkins/hook' });
    const other = hook(5, { url: 'https://ci.example.net/hook/github' });
    const duplicate = hook(9);
    const steps = planScope([duplicate, stale, foreign, hook(1), other], [wanted], { ...options, prune: true });
    expect(steps.map((step) => [step.action, 'hook' in step ? step.hook.id : undefined])).toEqual([
      ['unchanged', 1],
      ['remove', 2],
      ['remove', 9],
    ]);
    expect(steps[2]).toMatchObject({ reason: 'a duplicate of the hook kept' });
  });

  test('without --prune a duplicate is pointed out, not removed', () => {
    expect(planScope([hook(1), hook(7)], [wanted], options)).toEqual([{ action: 'unchanged', hook: hook(1), wanted, note: 'also hook 7 with this URL (--prune removes it)' }]);
  });

  test('two providers on one scope: each finds its own hook, and neither is pruned as the other\'s', () => {
    const gitlabWanted: WantedHook = { provider: 'second', url: 'https://gw.example.com/hook/second', events: ['push'] };
    const steps = planScope([hook(1), hook(2, { url: gitlabWanted.url })], [wanted, gitlabWanted], { ...options, prune: true });
    expect(steps.map((step) => step.action)).toEqual(['unchanged', 'unchanged']);
  });
});
