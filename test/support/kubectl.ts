/**
 * Kustomize and kubectl for the deploy/ tests:
 * - `renderKustomization(dir)` renders with kustomize v4.5.4 from prepare-kustomize.sh (cached; the version kubectl
 *   1.24–1.26 bundle, so `kubectl kustomize` and `kubectl apply -k` run the same for users), so a fresh checkout
 *   renders with nothing installed by hand ($FLUXGATE_KUSTOMIZE overrides);
 * - `dryRunKubectl()` is kubectl v1.20.2 from prepare-kubectl.sh (cached), the version of the test
 *   kube-apiserver, for `kubectl apply --dry-run=server` ($FLUXGATE_KUBECTL overrides).
 */
import { spawnSync } from 'node:child_process';
import { basename, join } from 'node:path';
import { parseAllDocuments } from 'yaml';

const PREPARE = join(import.meta.dir, 'kube-apiserver', 'prepare-kubectl.sh');

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export function runKubectl(kubectl: string, args: string[], input?: string): Run {
  const result = spawnSync(kubectl, args, { encoding: 'utf8', input, timeout: 120_000 });
  if (result.error) throw new Error(`${kubectl}: ${result.error.message}`);
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

const PREPARE_KUSTOMIZE = join(import.meta.dir, 'prepare-kustomize.sh');

/** The binary a prepare script caches (it prints the path as its last line), or the override from `variable`. */
function prepared(script: string, variable: string): string {
  const override = process.env[variable];
  if (override) return override;
  const name = basename(script);
  const run = spawnSync('bash', [script], { encoding: 'utf8', timeout: 600_000 });
  if (run.status !== 0) throw new Error(`${name} failed (${run.status}):\n${run.stderr}`);
  const path = run.stdout.trim().split('\n').pop();
  if (!path) throw new Error(`${name} printed no path`);
  return path;
}

/** The kustomize binary the deploy tests render with (prepare-kustomize.sh, or $FLUXGATE_KUSTOMIZE). */
export function kustomizeBinary(): string {
  return prepared(PREPARE_KUSTOMIZE, 'FLUXGATE_KUSTOMIZE');
}

/** `kustomize build DIR` as YAML text (throws with kustomize's message when it fails). */
export function renderKustomizationText(dir: string): string {
  const run = runKubectl(kustomizeBinary(), ['build', dir]);
  if (run.code !== 0) throw new Error(`kustomize build ${dir} failed:\n${run.stderr}`);
  return run.stdout;
}

/** The objects `kubectl kustomize DIR` renders. */
export function renderKustomization(dir: string): any[] {
  return parseAllDocuments(renderKustomizationText(dir)).map((document) => document.toJS()).filter(Boolean);
}

/** kubectl v1.20.2 (prepare-kubectl.sh), for server-side dry runs against the test kube-apiserver. */
export function dryRunKubectl(): string {
  return prepared(PREPARE, 'FLUXGATE_KUBECTL');
}
