/**
 * Live reload: on SIGHUP or a settled change of the config or a file it names, the config is loaded again by
 * the same loader `serve` started with. Plugin code is loaded only by SIGHUP (and the reload API): a reload the
 * file watch triggered keeps the plugins loaded and logs that a plugin changed, so dropping a file into
 * pluginsDir never runs it by itself. A config with problems is refused with its `file:line:col` lines and
 * the running one keeps serving; a good one is handed to `apply` (which swaps routes and targets in one step).
 * Settings the running process cannot change in place (listeners, the Kubernetes connections, reconcile
 * tuning, discovery) are reported as needing a restart and keep their running values.
 */
import { ConfigError } from '../config/index.ts';
import type { Logger } from '../core/index.ts';
import type { Clock } from '../core/index.ts';
import { watchFiles, type FileWatch, type WatchSet } from '../config/index.ts';
import type { Catalog } from '../provider-kit/index.ts';
import type { LoadedConfig } from './load-config.ts';
import type { ReloadStatus } from '../http/index.ts';

/** What a reload attempt counts as (a file put back as it was is no attempt). */
export type ReloadOutcome = Exclude<NonNullable<ReloadStatus['last']>['outcome'], 'restored'>;

export type { ReloadStatus };

export interface Reloader {
  /**
   * Loads the config again and applies it. Reloads never overlap: one asked for while another runs starts when
   * it ends (requests arriving meanwhile share that one, which reads the newest files).
   */
  reload(trigger: string): Promise<ReloadStatus>;
  status(): ReloadStatus;
  /** Stops watching files; a reload already running finishes. */
  stop(): void;
}

export interface ReloaderOptions {
  /** The config serve started with. */
  initial: LoadedConfig;
  /** Loads the config again; `plugins` says which plugins are loaded (LoadOptions.plugins). */
  load(plugins: { previous: Catalog; loadNew: boolean }): Promise<LoadedConfig>;
  /** Makes `next` the serving config; must not throw for a config the loader accepted. */
  apply(next: LoadedConfig): void | Promise<void>;
  /** Counts an attempt (metrics). */
  counted(outcome: ReloadOutcome): void;
  clock: Clock;
  log: Logger;
  /** Watch the files (off: SIGHUP only). */
  watch: boolean;
  /** Quiet time after the last file event before reloading. */
  settleMs: number;
}

/** The sections read once at start-up; a change to them is logged and waits for a restart. */
const startupSections = ['server', 'kubernetes', 'reconcile', 'clusters', 'discovery', 'feedback', 'upstream'] as const;

/** Dotted paths of the keys whose values differ between two sections (one level deep, which is what the messages need). */
function changedKeys(section: string, before: unknown, after: unknown): string[] {
  // A list (clusters) or a section that appears or goes is one change.
  if (Array.isArray(before) || Array.isArray(after) || typeof before !== 'object' || typeof after !== 'object' || !before || !after) {
    return JSON.stringify(before) === JSON.stringify(after) ? [] : [section];
  }
  const [was, is] = [before as Record<string, unknown>, after as Record<string, unknown>];
  const keys = new Set([...Object.keys(was), ...Object.keys(is)]);
  return [...keys].filter((key) => JSON.stringify(was[key]) !== JSON.stringify(is[key])).map((key) => `${section}.${key}`);
}

/** What the running process would need a restart for, compared with what it started with. */
export function restartNeeded(started: LoadedConfig, next: LoadedConfig): string[] {
  const keys = startupSections.flatMap((section) => changedKeys(section, started.config[section], next.config[section]));
  if (started.config.admin.recentDeliveries !== next.config.admin.recentDeliveries) keys.push('admin.recentDeliveries');
  // A relay's subscribers (tokens, filters) follow a reload; its retention and limits, or a relay added or removed, do not.
  keys.push(...changedKeys('relay', started.config.relay, next.config.relay).filter((key) => key !== 'relay.subscribers'));
  // The TLS files may change under the same paths; the Kubernetes target under the same kubeconfig path.
  if (JSON.stringify(started.tls) !== JSON.stringify(next.tls) && !keys.includes('server.tls')) keys.push('server.tls (certificate files)');
  if (started.kube.describe !== next.kube.describe || started.kube.mode !== next.kube.mode) keys.push(`kubernetes (now ${next.kube.mode}: ${next.kube.describe})`);
  return [...new Set(keys)];
}

export function watchSetOf(configPath: string, loaded: LoadedConfig): WatchSet {
  return { files: [configPath, ...loaded.files], directories: loaded.catalog.directory ? [loaded.catalog.directory] : [] };
}

/**
 * @example
 * const reloader = createReloader({ initial: loaded, load: () => loadConfigFile(options), apply, counted, clock, log, watch: true, settleMs: 250 });
 * process.on('SIGHUP', () => void reloader.reload('SIGHUP'));
 */
export function createReloader(configPath: string, options: ReloaderOptions): Reloader {
  const { log, clock } = options;
  let current = options.initial;
  let status: ReloadStatus = { generation: 0, restartNeeded: [] };
  let tail: Promise<unknown> = Promise.resolve();
  let waiting: Promise<ReloadStatus> | undefined;
  /** The plugin changes last reported as waiting for SIGHUP, so each is logged once. */
  let reportedPending = '';

  async function run(trigger: string): Promise<ReloadStatus> {
    let next: LoadedConfig;
    try {
      next = await options.load({ previous: current.catalog, loadNew: trigger !== 'file change' });
    } catch (error) {
      const problems = error instanceof ConfigError ? error.message.split('\n') : [`${configPath}: ${(error as Error).message}`];
      log.error('config reload refused: the running config keeps serving', { trigger, problems });
      options.counted('failure');
      status = { ...status, last: { at: clock.now(), trigger, outcome: 'failure', problems } };
      return status;
    }
    const pending = next.catalog.pending.join('\n');
    if (pending !== '' && pending !== reportedPending) log.warn('a plugin changed; send SIGHUP to load it', { changes: next.catalog.pending });
    reportedPending = pending;
    // A file event that changed nothing (a touch, a rewrite with the same content, a sibling file) is no reload;
    // after a refused one, it means the files are back to what is serving: the refusal no longer applies.
    if (next.fingerprint === current.fingerprint && trigger === 'file change') {
      if (status.last?.outcome !== 'failure') return status;
      log.info('config files back to the running config: the refused reload no longer applies', { generation: status.generation });
      status = { ...status, last: { at: clock.now(), trigger, outcome: 'restored' } };
      return status;
    }
    const restart = restartNeeded(options.initial, next);
    const newlyNeeded = restart.filter((key) => !status.restartNeeded.includes(key));
    if (newlyNeeded.length > 0) log.warn('config reload: these settings keep their running values until fluxgate restarts', { settings: newlyNeeded });
    await options.apply(next);
    current = next;
    files?.update(watchSetOf(configPath, next));
    status = { generation: status.generation + 1, last: { at: clock.now(), trigger, outcome: 'success' }, restartNeeded: restart };
    options.counted('success');
    log.info('config reloaded', { trigger, generation: status.generation, providers: next.config.providers.length, targets: next.config.targets.length });
    return status;
  }

  function reload(trigger: string): Promise<ReloadStatus> {
    if (waiting) return waiting;
    const queued: Promise<ReloadStatus> = tail.then(() => {
      waiting = undefined;
      return run(trigger);
    });
    waiting = queued;
    tail = queued.catch(() => undefined);
    return queued;
  }

  const files: FileWatch | undefined = options.watch
    ? watchFiles(watchSetOf(configPath, options.initial), {
        clock,
        settleMs: options.settleMs,
        onChange: () => void reload('file change'),
        onError: (directory, error) => log.warn('cannot watch a config directory: changes there need SIGHUP', { directory, error: error.message }),
      })
    : undefined;

  return {
    reload,
    status: () => status,
    stop: () => files?.stop(),
  };
}
