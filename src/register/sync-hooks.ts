/**
 * Brings the hosts in line with the jobs, scope by scope: list the scope's hooks, plan (plan.ts), and — unless it
 * is a dry run — apply each step. A scope that fails (a token without rights, a host that is down) is reported
 * and the others go on; nothing throws. Scopes are visited one at a time, which is gentle on rate limits and keeps
 * the order of requests (and so the output) stable.
 */
import type { FieldChange, HookHost, Scope } from '../provider-kit/index.ts';
import type { RegisterJob } from './jobs.ts';
import { planScope, type Step } from './plan.ts';

/** One line of the result: a hook created, updated, unchanged or removed (or planned so), or a scope that failed. */
export interface SyncRow {
  provider: string;
  /** The provider's type, whose host keeps the hook (`github`, `gitlab`, `gitea`). */
  host: string;
  /** The API's host name, e.g. `api.github.com`. */
  api: string;
  scope: Scope;
  action: 'create' | 'update' | 'unchanged' | 'remove' | 'error';
  hookId?: number;
  url?: string;
  fields?: FieldChange[];
  /** For a hook created: the events it subscribes to. */
  events?: string[];
  /** What the host did differently, or what the user may want to know. */
  note?: string;
  /** Why this step (or the whole scope, for `error`) failed. */
  error?: string;
}

export interface SyncOptions {
  dryRun: boolean;
  prune: boolean;
  rotateSecret: boolean;
  gatewayPrefix: string;
  /** The API client for a job (one per job: each provider has its own token). */
  hostFor(job: RegisterJob): HookHost | Promise<HookHost>;
  /** Called with each row as soon as it is known (progress), before the run ends. */
  onRow?(row: SyncRow): void;
}

/**
 * Replaces every occurrence of the given secrets in a message: the hosts' own messages are shown, and fluxgate
 * never shows a secret, whatever a host echoes.
 */
export function redactor(secrets: readonly string[]): (text: string) => string {
  const values = [...new Set(secrets.filter((secret) => secret.length > 0))].sort((a, b) => b.length - a.length);
  return (text) => values.reduce((result, secret) => result.split(secret).join('[redacted]'), text);
}

interface Group {
  scope: Scope;
  jobs: RegisterJob[];
}

/** Providers of the same host and API that share a scope are planned together, so one's hook is never the other's to prune. */
function groupByScope(jobs: readonly RegisterJob[]): Group[] {
  const groups = new Map<string, Group>();
  for (const job of jobs) {
    for (const scope of job.scopes) {
      const key = JSON.stringify([job.host, job.apiUrl.replace(/\/+$/, ''), scope.kind, scope.name.toLowerCase()]);
      const group = groups.get(key) ?? { scope, jobs: [] };
      if (!group.jobs.includes(job)) group.jobs.push(job);
      groups.set(key, group);
    }
  }
  return [...groups.values()];
}

type Emit = (row: SyncRow) => void;
type RowBase = Pick<SyncRow, 'provider' | 'host' | 'api' | 'scope'>;

const baseOf = (job: RegisterJob, scope: Scope): RowBase => ({ provider: job.provider, host: job.host, api: new URL(job.apiUrl).host, scope });

/** The row of one step, as planned. */
function stepRow(base: RowBase, step: Step): SyncRow {
  return {
    ...base,
    action: step.action,
    ...(step.action !== 'create' ? { hookId: step.hook.id, url: step.hook.url } : { url: step.wanted.url, events: step.wanted.events }),
    ...(step.action === 'update' ? { fields: step.fields } : {}),
    ...(step.action === 'remove' ? { note: step.reason } : {}),
    ...(step.action === 'unchanged' && step.note ? { note: step.note } : {}),
  };
}

/** Applies one step on the host; resolves to the host's note, if any. */
function applyStep(host: HookHost, scope: Scope, step: Exclude<Step, { action: 'unchanged' }>): Promise<string | undefined | void> {
  if (step.action === 'create') return host.create(scope, step.wanted);
  if (step.action === 'update') return host.update(scope, step.hook, step.wanted, step.fields.map((change) => change.field));
  return host.remove(scope, step.hook);
}

/** One scope: list, plan, and (unless a dry run) apply each step, emitting a row per step or per job when the listing fails. */
async function syncScope(group: Group, hosts: ReadonlyMap<RegisterJob, HookHost>, options: SyncOptions, emit: Emit): Promise<void> {
  const { scope, jobs: sharing } = group;
  const first = sharing[0]!;
  const lister = hosts.get(first)!;
  let steps: Step[];
  try {
    steps = planScope(await lister.list(scope), sharing.map((job) => job.wanted), options);
  } catch (error) {
    for (const job of sharing) emit({ ...baseOf(job, scope), action: 'error', url: job.wanted.url, error: lister.explain(error, scope) });
    return;
  }
  for (const step of steps) {
    // A step belongs to the provider whose hook it is; a removal to the provider that listed the scope.
    const job = step.action === 'remove' ? first : sharing.find((candidate) => candidate.wanted === step.wanted)!;
    const host = hosts.get(job)!;
    const row = stepRow(baseOf(job, scope), step);
    if (!options.dryRun && step.action !== 'unchanged') {
      try {
        const note = await applyStep(host, scope, step);
        if (note) row.note = note;
      } catch (error) {
        row.error = host.explain(error, scope);
      }
    }
    emit(row);
  }
}

/**
 * @example
 * const rows = await syncHooks(jobs, { dryRun: true, prune: false, rotateSecret: false, gatewayPrefix, hostFor });
 */
export async function syncHooks(jobs: readonly RegisterJob[], options: SyncOptions): Promise<SyncRow[]> {
  const redact = redactor(jobs.flatMap((job) => [job.token, job.wanted.secret ?? '', job.wanted.signingSecret ?? '']));
  const hosts = new Map(await Promise.all(jobs.map(async (job) => [job, await options.hostFor(job)] as const)));
  const rows: SyncRow[] = [];
  const emit: Emit = (row) => {
    const safe = { ...row, ...(row.error !== undefined ? { error: redact(row.error) } : {}), ...(row.note !== undefined ? { note: redact(row.note) } : {}) };
    rows.push(safe);
    options.onRow?.(safe);
  };
  for (const group of groupByScope(jobs)) await syncScope(group, hosts, options, emit);
  return rows;
}
