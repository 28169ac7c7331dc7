/**
 * The documentation's links lead somewhere: every relative link in the project's Markdown (README.md, CHANGELOG.md,
 * docs/, each provider's page in plugins/<type>/, the fixtures' sources in test/plugins/) names a file that exists, and a
 * `#fragment` into a Markdown page one of its headings (as GitHub makes their anchors). A path of the project
 * quoted as code (`deploy/base/deployment.yaml`) names a file or folder that exists too.
 */
import { expect, test } from 'bun:test';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

const root = join(import.meta.dir, '..');

function markdown(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return markdown(path);
    return name.endsWith('.md') ? [path] : [];
  });
}

/** The text outside fenced code blocks, where a `](…)` is not a link. */
const prose = (path: string) => readFileSync(path, 'utf8').replace(/^```[\s\S]*?^```/gm, '');

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces as `-`, a repeated one numbered. */
function anchorsOf(path: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const match of prose(path).matchAll(/^#{1,6}\s+(.+)$/gm)) {
    const slug = match[1]!.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
}

test('every relative link in the Markdown of the project leads to a file and a heading that exist', () => {
  const pages = [join(root, 'README.md'), join(root, 'CHANGELOG.md'), ...['docs', 'plugins', join('test', 'plugins')].flatMap((dir) => markdown(join(root, dir)))];
  expect(pages.length).toBeGreaterThan(20);
  const broken: string[] = [];
  for (const page of pages) {
    for (const [, target] of prose(page).matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target!)) continue;
      const [file, fragment] = target!.split('#');
      const path = file ? join(dirname(page), file) : page;
      if (!existsSync(path)) broken.push(`${relative(root, page)}: ${target} (no such file)`);
      else if (fragment && path.endsWith('.md') && !anchorsOf(path).has(fragment)) broken.push(`${relative(root, page)}: ${target} (no such heading)`);
    }
  }
  expect(broken).toEqual([]);
});

/** Top-level folders of the project: a quoted path starting with one is a path of this repository. */
const PROJECT_FOLDERS = ['bench', 'bin', 'deploy', 'docs', 'plugins', 'scripts', 'src', 'test'];

test('every path of the project quoted as code in its Markdown exists', () => {
  // The fixtures' SOURCE.md quote paths in the repositories the fixtures come from.
  const pages = [join(root, 'README.md'), join(root, 'CHANGELOG.md'), ...['docs', 'plugins', join('test', 'plugins'), 'deploy'].flatMap((dir) => markdown(join(root, dir)))].filter((page) => !page.endsWith('SOURCE.md'));
  const quoted = new RegExp(`\`((?:${PROJECT_FOLDERS.join('|')})/[^\`\\s]*)\``, 'g');
  const missing: string[] = [];
  for (const page of pages) {
    for (const [, quote] of readFileSync(page, 'utf8').matchAll(quoted)) {
      // A placeholder (`plugins/<type>/`, `test/plugins/*/`, `dist/…`) names no one file; `file:line` and `#anchor` point into one.
      if (/[<>*…${}]/.test(quote!)) continue;
      const path = quote!.replace(/[:#].*$/, '');
      if (!existsSync(join(root, path))) missing.push(`${relative(root, page)}: ${quote}`);
    }
  }
  expect(missing).toEqual([]);
});
