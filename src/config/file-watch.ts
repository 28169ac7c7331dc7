/**
 * Notices that the config, or a file it names, may have changed. Files are watched through their directory,
 * not by themselves: editors save by writing a new file and renaming it over the old one, and Kubernetes
 * updates a mounted ConfigMap or Secret by swapping a `..data` symlink — both replace the inode a per-file
 * watch would be holding. A burst of events (an editor's several writes, a volume's swap) is one change
 * `settleMs` after the last of them.
 */
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Clock } from '../core/index.ts';

export interface WatchSet {
  /** Files whose change matters (absolute paths). */
  files: readonly string[];
  /** Directories in which any change matters (pluginsDir). */
  directories: readonly string[];
}

export interface FileWatch {
  /** Watches this set instead of the previous one (after a reload named other files). */
  update(set: WatchSet): void;
  /** Closes every watcher and the pending timer. */
  stop(): void;
}

/**
 * Kubernetes' atomic writer: `..data` (the symlink swapped on update) and `..<timestamp>` directories; any
 * event on those names means every file of the volume may have changed.
 */
const volumeSwap = (name: string) => name.startsWith('..');

/**
 * @example
 * const files = watchFiles({ files: ['/etc/fluxgate/fluxgate.yaml'], directories: [] }, { clock, settleMs: 250, onChange: () => reload('file change') });
 */
export function watchFiles(initial: WatchSet, options: { clock: Clock; settleMs: number; onChange(): void; onError(directory: string, error: Error): void }): FileWatch {
  const { clock } = options;
  let watchers = new Map<string, FSWatcher>();
  let timer: unknown;
  let stopped = false;

  function changed(): void {
    if (stopped) return;
    if (timer !== undefined) clock.clearTimer(timer);
    timer = clock.setTimer(() => {
      timer = undefined;
      options.onChange();
    }, options.settleMs);
  }

  function update(set: WatchSet): void {
    // Per directory: the names that matter in it (undefined: every name).
    const wanted = new Map<string, Set<string> | undefined>();
    for (const file of set.files) {
      const directory = dirname(file);
      if (wanted.has(directory) && wanted.get(directory) === undefined) continue;
      const names = wanted.get(directory) ?? new Set<string>();
      names.add(basename(file));
      wanted.set(directory, names);
    }
    for (const directory of set.directories) wanted.set(directory, undefined);

    // The new watchers start before the old ones close, so no event falls between them.
    const next = new Map<string, FSWatcher>();
    for (const [directory, names] of wanted) {
      try {
        const watcher = watch(directory, { persistent: false }, (_event, name) => {
          // Some platforms give no name: then anything may have changed.
          if (names === undefined || name === null || names.has(String(name)) || volumeSwap(String(name))) changed();
        });
        watcher.on('error', (error) => options.onError(directory, error));
        next.set(directory, watcher);
      } catch (error) {
        options.onError(directory, error as Error);
      }
    }
    for (const watcher of watchers.values()) watcher.close();
    watchers = next;
  }

  update(initial);
  return {
    update,
    stop() {
      stopped = true;
      if (timer !== undefined) clock.clearTimer(timer);
      for (const watcher of watchers.values()) watcher.close();
      watchers.clear();
    },
  };
}
