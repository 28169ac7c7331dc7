#!/usr/bin/env bun
/**
 * The release steps that are not a build (docs/releasing.md; .github/workflows/release.yml runs them):
 *
 *   bun scripts/release.ts prepare 0.2.0 [--date 2027-01-15]   # the release commit: version, CHANGELOG, deploy/ pins
 *   bun scripts/release.ts check v0.2.0                        # the tag is v<package.json version>, CHANGELOG has it;
 *                                                              # prints the release notes (its CHANGELOG section)
 *   bun scripts/release.ts manifests --image IMAGE --outdir DIR  # deploy/ rendered for IMAGE ($KUSTOMIZE, else kustomize)
 *
 * Exit codes: 0 done, 1 the release is not ready (the message says what to change), 2 usage.
 */
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { cutRelease, releaseNotes } from './release/changelog.ts';
import { renderManifests } from './release/manifests.ts';
import { pinnedVersionFiles, pinVersion } from './release/pins.ts';

const root = resolve(import.meta.dir, '..');
const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?$/;
const USAGE = 'usage: bun scripts/release.ts prepare VERSION [--date YYYY-MM-DD] | check TAG | manifests --image IMAGE --outdir DIR';

const read = (path: string) => readFileSync(join(root, path), 'utf8');
const packageVersion = () => (JSON.parse(read('package.json')) as { version: string }).version;

function check(tag: string): string {
  if (!/^v/.test(tag) || !SEMVER.test(tag.slice(1))) throw new Error(`tag ${tag} is not v<semver> (v1.2.3)`);
  const version = packageVersion();
  if (tag !== `v${version}`) throw new Error(`tag ${tag} is not the version in package.json (${version}): tag v${version}, or prepare ${tag.slice(1)} first`);
  const unpinned = pinnedVersionFiles(root).filter(({ version: pinned }) => pinned !== version);
  if (unpinned.length > 0) throw new Error(`${unpinned.map(({ file, version: pinned }) => `${file} pins ${pinned}`).join(', ')}, not ${version}`);
  const notes = releaseNotes(read('CHANGELOG.md'), version);
  if ('problem' in notes) throw new Error(notes.problem);
  return notes.notes;
}

function prepare(version: string, date: string): void {
  if (!SEMVER.test(version)) throw new Error(`${version} is not a semantic version (1.2.3)`);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) throw new Error(`--date ${date} is not YYYY-MM-DD`);
  writeFileSync(join(root, 'CHANGELOG.md'), cutRelease(read('CHANGELOG.md'), version, date));
  for (const file of ['package.json', 'package-lock.json']) {
    const json = JSON.parse(read(file));
    json.version = version;
    if (json.packages?.['']) json.packages[''].version = version;
    writeFileSync(join(root, file), `${JSON.stringify(json, null, 2)}\n`);
  }
  pinVersion(root, version);
}

function main(argv: string[]): number {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { date: { type: 'string' }, image: { type: 'string' }, outdir: { type: 'string' } } });
  const [command, argument] = positionals;
  if (command === 'check' && argument && positionals.length === 2) {
    console.log(check(argument));
    return 0;
  }
  if (command === 'prepare' && argument && positionals.length === 2) {
    prepare(argument, values.date ?? new Date().toISOString().slice(0, 10));
    console.log(`prepared ${argument}: package.json, package-lock.json, CHANGELOG.md, ${pinnedVersionFiles(root).map(({ file }) => file).join(', ')}`);
    return 0;
  }
  if (command === 'manifests' && positionals.length === 1 && values.image && values.outdir) {
    mkdirSync(values.outdir, { recursive: true });
    for (const path of renderManifests({ kustomize: process.env.KUSTOMIZE || 'kustomize', deployDir: join(root, 'deploy'), image: values.image, outdir: values.outdir })) console.log(path);
    return 0;
  }
  console.error(USAGE);
  return 2;
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (error) {
  console.error(`release: ${(error as Error).message}`);
  // parseArgs refuses unknown options with ERR_PARSE_ARGS_*: a usage problem; anything else is the release's.
  process.exitCode = String((error as { code?: unknown }).code ?? '').startsWith('ERR_PARSE_ARGS') ? 2 : 1;
}
