/**
 * Where a Worker's script is: beside the module that starts it, in a checkout. In a binary compiled by
 * scripts/build.ts, which lists each worker as an entry point, it is embedded at its path under `src/` (the entry
 * points' common root): the starting module may sit in a chunk elsewhere, so its own URL does not lead there.
 *
 * @example workerUrl(import.meta.url, 'receivers/cel-worker.ts') // file:///…/src/receivers/cel-worker.ts
 */
export function workerUrl(here: string, underSrc: string): string {
  const embeddedRoot = /^file:\/\/\/(?:\$bunfs|[A-Za-z]:\/~BUN)\/root\//.exec(here);
  if (embeddedRoot) return `${embeddedRoot[0]}${underSrc}`;
  return new URL(`./${underSrc.slice(underSrc.lastIndexOf('/') + 1)}`, here).href;
}
