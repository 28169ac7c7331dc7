/**
 * The lines of deploy/ that pin fluxgate's release — the image tag an overlay sets, the tag a Flux GitRepository or
 * an Argo CD Application follows — each marked with `# fluxgate release`, so a release moves them together and a
 * check finds one left behind.
 *
 *   newTag: "0.1.0" # fluxgate release
 *   tag: v0.1.0 # fluxgate release
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/** A pinned value (`0.1.0` or `v0.1.0`, quoted or not) before the marker. */
const PINNED = /(["']?)v?(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)\1(\s+# fluxgate release\b)/;

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return yamlFiles(path);
    return name.endsWith('.yaml') ? [path] : [];
  });
}

/** Every marked line of deploy/ with the version it pins. */
export function pinnedVersionFiles(root: string): { file: string; version: string }[] {
  return yamlFiles(join(root, 'deploy')).flatMap((path) =>
    readFileSync(path, 'utf8')
      .split('\n')
      .flatMap((line) => {
        const match = PINNED.exec(line);
        return match ? [{ file: relative(root, path), version: match[2]! }] : [];
      }),
  );
}

/** Sets every marked line of deploy/ to `version` (keeping each one's `v` and quotes). */
export function pinVersion(root: string, version: string): void {
  for (const path of yamlFiles(join(root, 'deploy'))) {
    const text = readFileSync(path, 'utf8');
    const pinned = text
      .split('\n')
      .map((line) => line.replace(PINNED, (whole, quote: string, _old: string, marker: string) => `${quote}${whole.startsWith(`${quote}v`) ? 'v' : ''}${version}${quote}${marker}`))
      .join('\n');
    if (pinned !== text) writeFileSync(path, pinned);
  }
}
