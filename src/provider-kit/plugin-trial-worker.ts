/**
 * A Worker that imports one plugin file and builds its codec with the kit, then says whether that ended and how.
 * It exists to be stopped: a plugin whose import or factory never returns (a synchronous infinite loop) cannot
 * be interrupted on the main thread, but this worker can be terminated (plugin-trial.ts).
 */
import { providerKit } from './kit.ts';

declare const self: Worker;

self.onmessage = async (message: MessageEvent<{ specifier: string }>) => {
  try {
    const module = (await import(message.data.specifier)) as { default?: unknown };
    if (typeof module.default === 'function') module.default(providerKit);
    postMessage({ ok: true });
  } catch (error) {
    postMessage({ ok: false, message: String((error as Error)?.message ?? error).split('\n')[0] });
  }
};
