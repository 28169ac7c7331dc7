/**
 * Resolves a label selector (`matchLabels`) to object names with one LIST (retried like a patch). A burst of
 * webhooks for the same selector must not become a burst of LISTs, so a result is shared for `maxAgeMs` from
 * the moment its LIST started (the debounce window: the staleness reconcile accepts anyway), and a LIST in
 * flight is shared by every request that arrives while it runs. Failures are not kept.
 *
 * This caches a query; it does not coalesce reconcile requests: every request still reaches each selected
 * object's own state in the reconciler, which alone decides when that object is patched.
 */
import type { Clock } from './clock.ts';
import type { Dispatcher, JobResult } from './dispatcher.ts';
import type { KubeClient } from './kube-client.ts';
import type { ObjectSelector } from './reconciler.ts';

export type SelectionResult = (JobResult & { ok: true; names: string[] }) | (JobResult & { ok: false });

export interface LabelSelection {
  select(selector: ObjectSelector, signal: AbortSignal): Promise<SelectionResult>;
}

/**
 * @example
 * const selection = createLabelSelection({ client, dispatcher, clock, maxAgeMs: 2000 });
 * const result = await selection.select(kustomizationsOfMyApp, signal); // { ok: true, names: ['app-a', 'app-b'], attempts: 1 }
 */
export function createLabelSelection(options: { client: KubeClient; dispatcher: Dispatcher; clock: Clock; maxAgeMs: number }): LabelSelection {
  const { client, dispatcher, clock, maxAgeMs } = options;
  const recent = new Map<string, { startedAt: number; result: Promise<SelectionResult> }>();

  async function list(selector: ObjectSelector, signal: AbortSignal): Promise<SelectionResult> {
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

  return {
    select(selector, signal) {
      const now = clock.now();
      const cached = recent.get(selector.key);
      if (cached && now - cached.startedAt < maxAgeMs) return cached.result;
      // Selectors come from the config, so this map stays small; expired entries go when a new one comes.
      for (const [key, entry] of recent) if (now - entry.startedAt >= maxAgeMs) recent.delete(key);
      const entry = { startedAt: now, result: list(selector, signal) };
      recent.set(selector.key, entry);
      void entry.result.then((result) => {
        if (!result.ok && recent.get(selector.key) === entry) recent.delete(selector.key);
      });
      return entry.result;
    },
  };
}
