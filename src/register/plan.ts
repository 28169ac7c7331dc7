/**
 * The plan for one scope (a repository, organization, project or group): compares the hooks the host has with the
 * hooks the config wants, found by URL. Pure: the same inputs give the same plan, which is what `--dry-run` prints
 * and what the real run then applies.
 */
import type { FieldChange, HostHook, WantedHook } from '../provider-kit/index.ts';

export type Step =
  | { action: 'create'; wanted: WantedHook }
  | { action: 'update'; hook: HostHook; wanted: WantedHook; fields: FieldChange[] }
  | { action: 'unchanged'; hook: HostHook; wanted: WantedHook; note?: string }
  | { action: 'remove'; hook: HostHook; reason: string };

export interface PlanOptions {
  /** `--rotate-secret`: send the configured secrets to every existing hook. */
  rotateSecret: boolean;
  /** `--prune`: remove hooks under `gatewayPrefix` that the config does not want (and duplicates). */
  prune: boolean;
  /** `<server.publicUrl>/hook/`: a hook URL starting with it points at this gateway. */
  gatewayPrefix: string;
}

const list = (events: readonly string[]) => (events.length === 0 ? '(none)' : events.join(', '));
const onOff = (value: boolean) => (value ? 'on' : 'off');

/**
 * The fields of `hook` that differ from `wanted`, field by field. Fields the host does not report are not compared;
 * a secret cannot be read back, so it is only sent when rotating or when the host says none is set.
 *
 * @example
 * differences({ id: 1, url, events: ['push'], active: true }, { provider: 'github', url, events: ['create', 'push'] }, false);
 * // [{ field: 'events', from: 'push', to: 'create, push' }]
 */
export function differences(hook: HostHook, wanted: WantedHook, rotateSecret: boolean): FieldChange[] {
  const changes: FieldChange[] = [];
  if (hook.events.join('\n') !== wanted.events.join('\n')) changes.push({ field: 'events', from: list(hook.events), to: list(wanted.events) });
  if (hook.contentType !== undefined && hook.contentType !== 'json') changes.push({ field: 'content_type', from: hook.contentType, to: 'json' });
  if (hook.active === false) changes.push({ field: 'active', from: 'false', to: 'true' });
  if (hook.tlsVerification === false) changes.push({ field: 'tls_verification', from: onOff(false), to: onOff(true) });
  if (wanted.secret !== undefined && (rotateSecret || hook.secretSet === false)) {
    changes.push({ field: 'secret', from: hook.secretSet === false ? 'not set' : 'set', to: rotateSecret ? 'the configured secret (rotated)' : 'the configured secret' });
  }
  if (wanted.signingSecret !== undefined && (rotateSecret || hook.signingSecretSet === false)) {
    changes.push({ field: 'signing_secret', from: hook.signingSecretSet === false ? 'not set' : 'set', to: rotateSecret ? 'the configured signing secret (rotated)' : 'the configured signing secret' });
  }
  return changes;
}

/**
 * The steps that bring one scope in line: a create, update or unchanged step per wanted hook, in the order given;
 * then, with `prune`, a remove step for each other hook pointing at this gateway (by id).
 *
 * @example
 * planScope(await host.list(scope), [wanted], { rotateSecret: false, prune: true, gatewayPrefix: 'https://gw.example.com/hook/' });
 */
export function planScope(existing: readonly HostHook[], wanted: readonly WantedHook[], options: PlanOptions): Step[] {
  const byUrl = new Map<string, HostHook[]>();
  for (const hook of [...existing].sort((a, b) => a.id - b.id)) byUrl.set(hook.url, [...(byUrl.get(hook.url) ?? []), hook]);
  const steps: Step[] = [];
  const kept = new Set<number>();
  for (const want of wanted) {
    const [hook, ...duplicates] = byUrl.get(want.url) ?? [];
    if (!hook) {
      steps.push({ action: 'create', wanted: want });
      continue;
    }
    kept.add(hook.id);
    // The host has the same URL twice: the oldest is kept; the others are pruned, or pointed out.
    if (!options.prune) duplicates.forEach((duplicate) => kept.add(duplicate.id));
    const fields = differences(hook, want, options.rotateSecret);
    const note = !options.prune && duplicates.length > 0 ? `also hook ${duplicates.map((duplicate) => duplicate.id).join(', ')} with this URL (--prune removes ${duplicates.length === 1 ? 'it' : 'them'})` : undefined;
    steps.push(fields.length > 0 ? { action: 'update', hook, wanted: want, fields } : { action: 'unchanged', hook, wanted: want, ...(note ? { note } : {}) });
  }
  if (options.prune) {
    const wantedUrls = new Set(wanted.map((want) => want.url));
    for (const hook of [...existing].sort((a, b) => a.id - b.id)) {
      if (kept.has(hook.id) || !hook.url.startsWith(options.gatewayPrefix)) continue;
      steps.push({ action: 'remove', hook, reason: wantedUrls.has(hook.url) ? 'a duplicate of the hook kept' : 'points at this gateway but no provider of the config wants it' });
    }
  }
  return steps;
}
