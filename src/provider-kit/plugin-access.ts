/**
 * Who may change the code fluxgate runs. A plugin runs with the gateway's rights (its secrets, its Kubernetes
 * credentials), so pluginsDir and each plugin file must be writable only by their owner, and that owner must be
 * fluxgate's own user or root: anyone else who can write there can run code as fluxgate. On a read-only mount
 * (a ConfigMap volume, whose directory is mode 777) nobody can write, whatever the mode says.
 */
import { accessSync, constants, type Stats } from 'node:fs';

/**
 * Why the plugin directory or file at `path`, with these stats, may not be trusted, or undefined when it may;
 * `uid` is the process's user.
 *
 * @example
 * unsafeAccess('/p', { mode: 0o40775, uid: 0 }, 0); // 'writable by group or others (mode 775); plugins run with …'
 */
export function unsafeAccess(path: string, stats: Pick<Stats, 'mode' | 'uid'>, uid: number): string | undefined {
  if ((stats.mode & 0o022) !== 0 && !onReadOnlyMount(path)) {
    const mode = (stats.mode & 0o777).toString(8).padStart(3, '0');
    return `writable by group or others (mode ${mode}); plugins run with fluxgate's rights, so only their owner may write to them (chmod go-w)`;
  }
  if (stats.uid !== uid && stats.uid !== 0) {
    return `owned by uid ${stats.uid}, neither fluxgate's user (uid ${uid}) nor root; plugins run with fluxgate's rights, so one of these must own them`;
  }
  return undefined;
}

function onReadOnlyMount(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EROFS';
  }
}

/** The process's user id; a platform without one (Windows) has its modes checked only. */
export function processUid(): number {
  return process.getuid?.() ?? 0;
}
