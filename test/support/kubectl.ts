/**
 * kubectl for the deploy/ tests, two of them:
 * - `renderKustomization(dir)` renders with a current kustomize (v4+, as `kubectl kustomize` in kubectl 1.21+
 *   and `kubectl apply -k` run it for users): $FLUXGATE_KUSTOMIZE_KUBECTL, else `kubectl` on PATH;
 * - `dryRunKubectl()` is kubectl v1.20.2 from prepare-kubectl.sh (cached), the version of the test
 *   kube-apiserver, for `kubectl apply --dry-run=server` ($FLUXGATE_KUBECTL overrides).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
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

/** The kubectl that renders kustomizations, checked to bundle kustomize v4 or later. */
export function kustomizeKubectl(): string {
  const kubectl = process.env.FLUXGATE_KUSTOMIZE_KUBECTL || 'kubectl';
  let version = '';
  try {
    version = JSON.parse(runKubectl(kubectl, ['version', '--client', '-o', 'json']).stdout).kustomizeVersion ?? '';
  } catch (error) {
    throw new Error(`no kubectl to render deploy/ with (${(error as Error).message}): install kubectl 1.27+ or set FLUXGATE_KUSTOMIZE_KUBECTL`);
  }
  const major = Number(/^v(\d+)\./.exec(version)?.[1] ?? 0);
  if (major < 4) throw new Error(`${kubectl} bundles kustomize ${version || '(unknown)'}; deploy/ needs v4+ (kubectl 1.21+, 1.27+ recommended): set FLUXGATE_KUSTOMIZE_KUBECTL`);
  return kubectl;
}

/** `kubectl kustomize DIR` as YAML text (throws with kustomize's message when it fails). */
export function renderKustomizationText(dir: string): string {
  const run = runKubectl(kustomizeKubectl(), ['kustomize', dir]);
  if (run.code !== 0) throw new Error(`kubectl kustomize ${dir} failed:\n${run.stderr}`);
  return run.stdout;
}

/** The objects `kubectl kustomize DIR` renders. */
export function renderKustomization(dir: string): any[] {
  return parseAllDocuments(renderKustomizationText(dir)).map((document) => document.toJS()).filter(Boolean);
}

/** kubectl v1.20.2 (prepare-kubectl.sh), for server-side dry runs against the test kube-apiserver. */
export function dryRunKubectl(): string {
  if (process.env.FLUXGATE_KUBECTL) return process.env.FLUXGATE_KUBECTL;
  const run = spawnSync('bash', [PREPARE], { encoding: 'utf8', timeout: 600_000 });
  if (run.status !== 0) throw new Error(`prepare-kubectl.sh failed (${run.status}):\n${run.stderr}`);
  const path = run.stdout.trim().split('\n').pop();
  if (!path) throw new Error('prepare-kubectl.sh printed no path');
  return path;
}
