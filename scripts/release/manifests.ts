/**
 * The rendered manifests a release carries: each kustomization of deploy/ a user applies on its own, rendered by
 * kustomize, with fluxgate's container image set to the one the release built (`kubectl apply -f
 * fluxgate-install.yaml` then runs that release without a checkout or kustomize).
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';

/** File name in the release → the kustomization under deploy/ it renders. */
export const RENDERED: Readonly<Record<string, string>> = {
  'fluxgate-install.yaml': 'overlays/in-cluster',
  'fluxgate-ha.yaml': 'overlays/ha',
  'fluxgate-rbac-discovery.yaml': 'rbac/discovery',
  'fluxgate-rbac-flux-receivers.yaml': 'rbac/flux-receivers',
  'fluxgate-monitoring.yaml': 'monitoring',
};

/** The container that runs fluxgate, in every workload deploy/ renders. */
const CONTAINER = 'fluxgate';

/** `rendered` (YAML documents) with the image of every `fluxgate` container set to `image`. */
export function withImage(rendered: string, image: string): string {
  return parseAllDocuments(rendered)
    .map((document) => document.toJS())
    .filter(Boolean)
    .map((object) => {
      for (const container of object?.spec?.template?.spec?.containers ?? []) if (container.name === CONTAINER) container.image = image;
      return stringify(object);
    })
    .join('---\n');
}

/** Renders each of RENDERED from `deployDir` with the kustomize binary `kustomize` into `outdir`; returns the files. */
export function renderManifests(options: { kustomize: string; deployDir: string; image: string; outdir: string }): string[] {
  return Object.entries(RENDERED).map(([file, dir]) => {
    const run = spawnSync(options.kustomize, ['build', join(options.deployDir, dir)], { encoding: 'utf8', timeout: 120_000 });
    if (run.error) throw new Error(`${options.kustomize}: ${run.error.message}`);
    if (run.status !== 0) throw new Error(`kustomize build deploy/${dir} failed:\n${run.stderr}`);
    const path = join(options.outdir, file);
    writeFileSync(path, `# fluxgate: deploy/${dir}, rendered for ${options.image}\n${withImage(run.stdout, options.image)}`);
    return path;
  });
}
