/**
 * .github/workflows/release.yml, read and run: the file's shape (a tag trigger, least permissions, actions pinned by
 * commit, the image for both platforms, the binaries after the image), then its `meta` and `binaries` jobs' commands
 * on a copy of this checkout made release-ready as docs/releasing.md says (`scripts/release.ts prepare`, a commit,
 * the tag), with the variables GitHub Actions sets, up to the step that publishes. What they leave is checked as
 * a user of the release would: both binaries, the rendered manifests naming the image the image job pushes, LICENSE,
 * SHA256SUMS that `sha256sum -c` accepts, and the notes from the CHANGELOG.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import packageJson from '../package.json' with { type: 'json' };
import { sections } from '../scripts/release/changelog.ts';
import { tempDir } from './support/temp-dir.ts';

// Two `npm ci` and two compiles on two shared cores.
setDefaultTimeout(300_000);

const root = resolve(import.meta.dir, '..');
const text = readFileSync(join(root, '.github', 'workflows', 'release.yml'), 'utf8');
const workflow = parse(text);
const version = packageJson.version;
const tag = `v${version}`;
const scratch = tempDir('fluxgate-release-');
const checkout = join(scratch.path, 'checkout');
const runnerTemp = join(scratch.path, 'runner-temp');

interface Step {
  id?: string;
  name?: string;
  uses?: string;
  run?: string;
  env?: Record<string, string>;
  with?: Record<string, string>;
}

const steps = (job: string): Step[] => workflow.jobs[job].steps;

function sh(command: string, args: string[], cwd: string, env: Record<string, string> = {}) {
  const run = spawnSync(command, args, { cwd, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 240_000 });
  if (run.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${run.status}):\n${run.stdout}\n${run.stderr}`);
  return run.stdout;
}

/** `${{ needs.<job>.outputs.<name> }}` from the jobs run so far; any other expression in a run line is an error. */
function resolveExpressions(value: string, outputs: Record<string, Record<string, string>>): string {
  return value.replace(/\$\{\{\s*([^}]+?)\s*\}\}/g, (_, expression: string) => {
    const need = /^needs\.([\w-]+)\.outputs\.([\w-]+)$/.exec(expression);
    const resolved = need ? outputs[need[1]!]?.[need[2]!] : undefined;
    if (resolved === undefined) throw new Error(`cannot evaluate \${{ ${expression} }} locally`);
    return resolved;
  });
}

/**
 * Runs `job`'s steps as a runner would, with bash -e, in the copy: `uses` steps are the checkout (the copy is one)
 * and setup-node (this machine's Node); stops before the step `stopAt`. Returns what the steps wrote to $GITHUB_OUTPUT.
 */
function runJob(job: string, outputs: Record<string, Record<string, string>>, stopAt?: string): Record<string, string> {
  const outputFile = join(scratch.path, `${job}.output`);
  writeFileSync(outputFile, '');
  const jobEnv = Object.fromEntries(Object.entries<string>(workflow.jobs[job].env ?? {}).map(([name, value]) => [name, resolveExpressions(String(value), outputs)]));
  for (const step of steps(job)) {
    if (step.id !== undefined && step.id === stopAt) break;
    if (step.uses) {
      expect(step.uses).toMatch(/^actions\/(checkout|setup-node)@/);
      continue;
    }
    const env = {
      CI: 'true',
      GITHUB_ACTIONS: 'true',
      GITHUB_REF: `refs/tags/${tag}`,
      GITHUB_REF_NAME: tag,
      GITHUB_REPOSITORY_OWNER: 'Your-Org',
      GITHUB_OUTPUT: outputFile,
      RUNNER_TEMP: runnerTemp,
      // The same commands; npm takes what its cache holds instead of the registry's copy of the same tarballs.
      npm_config_prefer_offline: 'true',
      ...jobEnv,
      ...Object.fromEntries(Object.entries(step.env ?? {}).map(([name, value]) => [name, resolveExpressions(String(value), outputs)])),
    };
    sh('bash', ['-e', '-o', 'pipefail', '-c', resolveExpressions(step.run!, outputs)], checkout, env);
  }
  const written = readFileSync(outputFile, 'utf8').split('\n').filter(Boolean).map((line) => line.split(/=(.*)/s).slice(0, 2) as [string, string]);
  return Object.fromEntries(written);
}

beforeAll(() => {
  // The checkout as `git clone` at the tag would give it: tracked and new files, none that .gitignore leaves out.
  const files = sh('git', ['ls-files', '-co', '--exclude-standard', '-z'], root).split('\0').filter(Boolean);
  for (const file of files) {
    if (!existsSync(join(root, file))) continue;
    mkdirSync(dirname(join(checkout, file)), { recursive: true });
    cpSync(join(root, file), join(checkout, file));
  }
  mkdirSync(runnerTemp);
  // docs/releasing.md's release commit and tag.
  sh(process.execPath, ['scripts/release.ts', 'prepare', version, '--date', '2026-01-15'], checkout);
  const git = (...args: string[]) => sh('git', ['-c', 'user.name=release test', '-c', 'user.email=release@example.invalid', '-c', 'commit.gpgsign=false', '-c', 'tag.gpgsign=false', ...args], checkout);
  git('init', '-q');
  git('add', '-A');
  git('commit', '-q', '-m', `Release ${version}`);
  git('tag', '-a', tag, '-m', `fluxgate ${version}`);
});
afterAll(() => scratch.remove());

describe('the workflow file', () => {
  test('runs on version tags only, with no permission but those each job names', () => {
    expect(workflow.on).toEqual({ push: { tags: ['v*'] } });
    expect(workflow.permissions).toEqual({});
    expect(workflow.jobs.meta.permissions).toEqual({ contents: 'read' });
    expect(workflow.jobs.image.permissions).toEqual({ contents: 'read', packages: 'write' });
    expect(workflow.jobs.binaries.permissions).toEqual({ contents: 'write' });
  });

  test('every action is pinned by a full commit, with the version it is in a comment', () => {
    const uses = [...text.matchAll(/^\s*(?:- )?uses: (\S+)(.*)$/gm)];
    expect(uses.length).toBeGreaterThan(5);
    for (const [, action, comment] of uses) expect(`${action}${comment}`).toMatch(/^[\w.-]+\/[\w.-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$/);
  });

  test('the image is pushed for linux/amd64 and linux/arm64 under the name meta gives, with the commit stamped in', () => {
    const build = steps('image').find((step) => step.uses?.startsWith('docker/build-push-action@'))!;
    expect(build.with).toMatchObject({ context: '.', push: true, tags: '${{ needs.meta.outputs.image }}', 'build-args': 'FLUXGATE_BUILD_COMMIT=${{ needs.meta.outputs.commit }}' });
    expect(String(build.with!.platforms).split(',')).toEqual(['linux/amd64', 'linux/arm64']);
    expect(workflow.jobs.image.needs).toBe('meta');
  });

  test('the binaries job publishes last, once the image it names is pushed', () => {
    expect(workflow.jobs.binaries.needs).toEqual(['meta', 'image']);
    const last = steps('binaries').at(-1)!;
    expect(last.id).toBe('publish');
    expect(last.run).toStartWith('gh release create "$GITHUB_REF_NAME" --verify-tag');
    expect(last.run).toContain('--notes-file "$RUNNER_TEMP/notes.md" "$OUT"/*');
  });
});

describe('its commands, run here on the release commit', () => {
  let meta: Record<string, string> = {};
  let out = '';

  test('meta accepts the tag and names the image (owner in lower case) and the commit', () => {
    meta = runJob('meta', {});
    const commit = sh('git', ['rev-parse', '--short=12', 'HEAD'], checkout).trim();
    expect(meta).toEqual({ version, image: `ghcr.io/your-org/fluxgate:${version}`, commit });
  });

  test('binaries builds both binaries, the manifests for that image, LICENSE and their sums; then only publishing is left', () => {
    expect(meta.image).toBeDefined();
    runJob('binaries', { meta }, 'publish');
    out = join(checkout, workflow.jobs.binaries.env.OUT);
    const manifests = ['fluxgate-install.yaml', 'fluxgate-ha.yaml', 'fluxgate-rbac-discovery.yaml', 'fluxgate-rbac-flux-receivers.yaml', 'fluxgate-monitoring.yaml'];
    expect(readdirSync(out).sort()).toEqual(['LICENSE', 'SHA256SUMS', 'fluxgate-linux-arm64', 'fluxgate-linux-x64', ...manifests].sort());
    expect(sh('sha256sum', ['-c', 'SHA256SUMS'], out).trim().split('\n')).toHaveLength(readdirSync(out).length - 1);
    expect(sh(join(out, 'fluxgate-linux-x64'), ['version'], scratch.path).trim()).toBe(`fluxgate ${version}+${meta.commit}`);
    expect(readFileSync(join(out, 'LICENSE'), 'utf8')).toBe(readFileSync(join(root, 'LICENSE'), 'utf8'));
  });

  test('the rendered install and ha run the pushed image; the notes are the CHANGELOG section of the version', () => {
    for (const file of ['fluxgate-install.yaml', 'fluxgate-ha.yaml']) {
      const objects = parseAllDocuments(readFileSync(join(out, file), 'utf8')).map((document) => document.toJS());
      const deployment = objects.find((object) => object.kind === 'Deployment');
      expect(deployment.metadata.namespace).toBe('flux-system');
      expect(deployment.spec.template.spec.containers.map((container: any) => container.image)).toEqual([meta.image]);
    }
    const changelog = readFileSync(join(checkout, 'CHANGELOG.md'), 'utf8');
    const section = sections(changelog).find((candidate) => candidate.name === version)!;
    expect(section.date).toBe('2026-01-15');
    expect(readFileSync(join(runnerTemp, 'notes.md'), 'utf8')).toBe(`${section.body}\n`);
    expect(sections(changelog)[0]).toEqual({ name: 'Unreleased', body: '' });
  });

  test('meta refuses a tag that is not the prepared version, saying what to do', () => {
    const run = spawnSync(process.execPath, ['scripts/release.ts', 'check', 'v9.9.9'], { cwd: checkout, encoding: 'utf8' });
    expect({ code: run.status, stderr: run.stderr }).toEqual({ code: 1, stderr: `release: tag v9.9.9 is not the version in package.json (${version}): tag v${version}, or prepare 9.9.9 first\n` });
  });
});
