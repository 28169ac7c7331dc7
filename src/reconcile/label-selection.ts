/**
 * Resolves a label selector (`matchLabels`) to object names with one LIST (retried like a patch). A burst of
 * webhooks for the same selector must not become a burst of LISTs, so a result is shared for `maxAgeMs` from
 * the moment its LIST started (the debounce window: the staleness reconcile accepts anyway), and a LIST in
 * flight is shared by every request that arrives while it runs. Failures are not kept.
 *
 * This caches a query; it does not coalesce reconcile requests: every request still reaches each selected
 * object's own state in the reconciler, which alone decides when that object is patched.
 *
 * A selector with a filter (named or by labels) lists its objects' metadata instead — by `metadata.name` field
 * selector when named, so reading one object needs the same `list` permission as a label selector — shares that
 * LIST the same way, and applies its filter to them on every call: the filter belongs to one webhook. A
 * webhook's filtered selectors are selected together (`selectFiltered`): every LIST first, then every filter in
 * one turn, so that they decide in one evaluation.
 */
import type { Clock } from '../core/index.ts';
import type { Dispatcher, JobResult } from './dispatcher.ts';
import { labelSelector, type KubeClient } from '../kube/index.ts';
import type { FilterVerdict, ObjectSelector } from '../core/index.ts';

/** `problems`: objects a filter could not decide on (they are left alone), for the log and the delivery log. */
export type SelectionResult = (JobResult & { ok: true; names: string[]; problems?: string }) | (JobResult & { ok: false });

type Listed = (JobResult & { ok: true; objects: Record<string, unknown>[] }) | (JobResult & { ok: false });

/** Filter problems named in one report at most; the rest are counted. */
const SHOWN_PROBLEMS = 3;

export interface LabelSelection {
  select(selector: ObjectSelector, signal: AbortSignal): Promise<SelectionResult>;
  /** One webhook's selectors with a filter, decided together; a result per selector, in order. */
  selectFiltered(selectors: readonly ObjectSelector[], signal: AbortSignal): Promise<SelectionResult[]>;
}

interface SelectionOptions {
  client: KubeClient;
  dispatcher: Dispatcher;
  clock: Clock;
  maxAgeMs: number;
}

/**
 * @example
 * const selection = createLabelSelection({ client, dispatcher, clock, maxAgeMs: 2000 });
 * const result = await selection.select(kustomizationsOfMyApp, signal); // { ok: true, names: ['app-a', 'app-b'], attempts: 1 }
 */
export function createLabelSelection(options: SelectionOptions): LabelSelection {
  const sharedNames = sharing<SelectionResult>(options);
  const sharedObjects = sharing<Listed>(options);

  async function selectFiltered(selectors: readonly ObjectSelector[], signal: AbortSignal): Promise<SelectionResult[]> {
    const listed = await Promise.all(selectors.map((selector) => sharedObjects(selector.key, () => listObjects(options, selector, signal))));
    // In one turn: the webhook's filters decide together.
    const decisions = listed.map((result, index) => (result.ok ? selectors[index]!.filter?.accepts(result.objects) : undefined));
    return Promise.all(
      listed.map(async (result, index): Promise<SelectionResult> => {
        if (!result.ok) return result;
        const { objects, ...job } = result;
        const verdicts = await (decisions[index] ?? Promise.resolve(objects.map(() => true)));
        return chosen(job, objects, verdicts);
      }),
    );
  }

  return {
    async select(selector, signal) {
      if (selector.filter !== undefined) return (await selectFiltered([selector], signal))[0]!;
      return sharedNames(selector.key, () => listNames(options, selector, signal));
    },
    selectFiltered,
  };
}

/** Results of `load` by key, each shared for `maxAgeMs` from when it started; failures are not kept. */
function sharing<T extends { ok: boolean }>({ clock, maxAgeMs }: Pick<SelectionOptions, 'clock' | 'maxAgeMs'>): (key: string, load: () => Promise<T>) => Promise<T> {
  const recent = new Map<string, { startedAt: number; result: Promise<T> }>();
  return (key, load) => {
    const now = clock.now();
    const cached = recent.get(key);
    if (cached && now - cached.startedAt < maxAgeMs) return cached.result;
    // Selectors come from the config and the cluster's Receivers, so this map stays small; expired entries go when a new one comes.
    for (const [other, entry] of recent) if (now - entry.startedAt >= maxAgeMs) recent.delete(other);
    const entry = { startedAt: now, result: load() };
    recent.set(key, entry);
    void entry.result.then((result) => {
      if (!result.ok && recent.get(key) === entry) recent.delete(key);
    });
    return entry.result;
  };
}

/** The names of the objects a label selector matches, with one LIST retried like a patch. */
async function listNames({ client, dispatcher }: SelectionOptions, selector: ObjectSelector, signal: AbortSignal): Promise<SelectionResult> {
  let names: string[] = [];
  const result = await dispatcher.run(
    {
      kind: selector.kind,
      label: selector.label,
      attempt: async () => {
        names = await client.listNames(selector.apiVersion, selector.kind, selector.namespace, selector.matchLabels ?? {});
      },
    },
    signal,
  );
  return result.ok ? { ...result, names } : result;
}

/** Each selected object's apiVersion, kind and metadata (what a filter reads), with one LIST retried like a patch. */
async function listObjects({ client, dispatcher }: SelectionOptions, selector: ObjectSelector, signal: AbortSignal): Promise<Listed> {
  let objects: Record<string, unknown>[] = [];
  const attempt = async (attemptSignal: AbortSignal) => {
    objects = await readMetadata(client, selector, attemptSignal);
  };
  const result = await dispatcher.run({ kind: selector.kind, label: selector.label, attempt }, signal);
  return result.ok ? { ...result, objects } : result;
}

/** One LIST, page by page: by `metadata.name` field selector when named, else by labels; without managedFields. */
async function readMetadata(client: KubeClient, selector: ObjectSelector, signal: AbortSignal): Promise<Record<string, unknown>[]> {
  const path = await client.api.collectionPath(selector.apiVersion, selector.kind, selector.namespace);
  const found: Record<string, unknown>[] = [];
  let next: string | undefined;
  do {
    const query = new URLSearchParams({ limit: '500' });
    if (selector.name !== undefined) query.set('fieldSelector', `metadata.name=${selector.name}`);
    else query.set('labelSelector', labelSelector(selector.matchLabels ?? {}));
    if (next) query.set('continue', next);
    const list = await client.api.request('GET', `${path}?${query}`, { signal, wantBody: true });
    for (const item of list?.items ?? []) {
      if (typeof item?.metadata?.name !== 'string') continue;
      const { managedFields: _dropped, ...metadata } = item.metadata;
      found.push({ apiVersion: selector.apiVersion, kind: selector.kind, metadata });
    }
    next = typeof list?.metadata?.continue === 'string' && list.metadata.continue ? list.metadata.continue : undefined;
  } while (next);
  return found;
}

/** The names a filter accepted among `objects`, and what it could not decide. */
function chosen(job: JobResult & { ok: true }, objects: readonly Record<string, unknown>[], verdicts: FilterVerdict[] | { error: string }): SelectionResult {
  if (!Array.isArray(verdicts)) return { ...job, names: [], problems: `the filter could not decide for this delivery: ${verdicts.error}` };
  const names: string[] = [];
  const problems: string[] = [];
  objects.forEach((object, index) => {
    const name = (object.metadata as { name: string }).name;
    const verdict = verdicts[index] ?? { error: 'no verdict' };
    if (verdict === true) names.push(name);
    else if (verdict !== false) problems.push(`${name}: ${verdict.error}`);
  });
  if (problems.length === 0) return { ...job, names };
  const more = problems.length > SHOWN_PROBLEMS ? `; and ${problems.length - SHOWN_PROBLEMS} more` : '';
  return { ...job, names, problems: `the filter could not decide for ${problems.slice(0, SHOWN_PROBLEMS).join('; ')}${more}` };
}
