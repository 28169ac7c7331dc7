/**
 * What Flux's kustomize-controller and Argo CD's repo-server render from a path of this repository, done the way
 * each does it, with the suite's kustomize (v4.5.4), on a copy of deploy/:
 *
 * - Flux (fluxcd/pkg kustomize generator): the Kustomization's `patches` are appended to the path's
 *   kustomization.yaml, and each of its `images` is merged into the entry of the same name (newName; newTag and
 *   digest together) or appended; then `kustomize build`.
 * - Argo CD (util/kustomize): `kustomize edit set namespace`, `kustomize edit set image` with the source's images,
 *   the source's `patches` appended to kustomization.yaml; then `kustomize build`.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { kustomizeBinary, renderKustomizationText } from './kubectl.ts';
import { tempDir } from './temp-dir.ts';

const root = join(import.meta.dir, '..', '..');

/** A copy of deploy/ in a directory of its own, as a source artifact holds it. */
function copyOfDeploy(): { dir: string; remove(): void } {
  const scratch = tempDir('fluxgate-gitops-');
  cpSync(join(root, 'deploy'), join(scratch.path, 'deploy'), { recursive: true });
  return { dir: scratch.path, remove: scratch.remove };
}

function editKustomization(dir: string, edit: (kustomization: any) => void): void {
  const path = join(dir, 'kustomization.yaml');
  const kustomization = parse(readFileSync(path, 'utf8'));
  edit(kustomization);
  writeFileSync(path, stringify(kustomization));
}

/** What kustomize-controller applies for a Flux `Kustomization` whose source is this repository. */
export function renderAsFlux(kustomization: any): string {
  const copy = copyOfDeploy();
  try {
    const dir = join(copy.dir, kustomization.spec.path);
    editKustomization(dir, (k) => {
      for (const patch of kustomization.spec.patches ?? []) (k.patches ??= []).push({ patch: patch.patch, ...(patch.target ? { target: patch.target } : {}) });
      for (const image of kustomization.spec.images ?? []) {
        const existing = (k.images ??= []).find((entry: any) => entry.name === image.name);
        if (!existing) k.images.push({ ...image });
        else {
          if (image.newName) existing.newName = image.newName;
          if (image.newTag || image.digest) Object.assign(existing, { newTag: image.newTag, digest: image.digest });
          for (const key of ['newTag', 'digest']) if (existing[key] === undefined) delete existing[key];
        }
      }
    });
    return renderKustomizationText(dir);
  } finally {
    copy.remove();
  }
}

/** What Argo CD's repo-server renders for one kustomize `source` of an Application whose repository is this one. */
export function renderAsArgo(source: any): string {
  const copy = copyOfDeploy();
  try {
    const dir = join(copy.dir, source.path);
    const kustomize = kustomizeBinary();
    // `kustomize edit` works on the kustomization.yaml of the directory it runs in, as Argo CD runs it.
    const edit = (...args: string[]) => {
      const run = spawnSync(kustomize, ['edit', 'set', ...args], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
      if (run.status !== 0) throw new Error(`kustomize edit set ${args.join(' ')}: ${run.stderr}`);
    };
    const options = source.kustomize ?? {};
    if (options.namespace) edit('namespace', '--', options.namespace);
    if (options.images?.length) edit('image', ...options.images);
    if (options.patches?.length) editKustomization(dir, (k) => (k.patches = [...(k.patches ?? []), ...options.patches]));
    return renderKustomizationText(dir);
  } finally {
    copy.remove();
  }
}
