/**
 * Loads a plugin file once in a Worker, under a time limit, before the main thread imports it: an import (or
 * factory) that never ends — a `while (true) {}` dropped into pluginsDir — would otherwise freeze the process,
 * both listeners and signal handling included. Over the limit the worker is terminated and the load fails.
 */
import { workerUrl } from '../core/index.ts';

/** How long a plugin's import and factory may take, in the worker, before its load fails. */
export const PLUGIN_LOAD_TIMEOUT_MS = 5000;

const workerScript = () => workerUrl(import.meta.url, 'provider-kit/plugin-trial-worker.ts');

/**
 * Why the plugin at `specifier` could not be loaded within `timeoutMs` (its import threw, or it did not finish),
 * or undefined when it loaded.
 *
 * @example
 * await trialLoad('/etc/fluxgate/plugins/acme.ts?v=3f2a'); // undefined
 * await trialLoad('/etc/fluxgate/plugins/loop.ts?v=9c1e'); // 'its import did not finish within 5 s'
 */
export function trialLoad(specifier: string, timeoutMs = PLUGIN_LOAD_TIMEOUT_MS): Promise<string | undefined> {
  const worker = new Worker(workerScript());
  let settled = false;
  return new Promise<string | undefined>((resolve) => {
    const done = (reason: string | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      worker.terminate();
      resolve(reason);
    };
    const timer = setTimeout(() => done(`its import did not finish within ${timeoutMs / 1000} s`), timeoutMs);
    worker.onmessage = (message: MessageEvent<{ ok: boolean; message?: string }>) => done(message.data.ok ? undefined : `its import failed: ${message.data.message}`);
    worker.onerror = (event) => done(`its import failed: ${event.message}`);
    worker.addEventListener('close', () => done('it ended its worker before it was loaded'));
    worker.postMessage({ specifier });
  });
}
