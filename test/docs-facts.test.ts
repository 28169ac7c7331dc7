/**
 * What the documentation states as fact agrees with what the project does: every file of the repository the
 * Markdown names in code spans exists, the README's `send` example prints what `send` prints, and the number of
 * commits from which a push's changed paths count as unknown is the one the codecs use.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { builtinProviders } from '../plugins/index.ts';
import { runSend } from '../src/commands/send.ts';
import { builtinCatalog } from '../src/provider-kit/catalog.ts';
import { providerKit } from '../src/provider-kit/kit.ts';
import { startTestGateway, type TestGateway } from './support/gateway.ts';
import { githubPushWith } from './support/webhooks.ts';

const root = join(import.meta.dir, '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');

function markdown(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return markdown(path);
    return name.endsWith('.md') ? [path] : [];
  });
}

test('every file or folder of the repository that the Markdown names in a code span (`deploy/…`, `bench/…`) exists', () => {
  const pages = [join(root, 'README.md'), ...markdown(join(root, 'docs'))];
  const missing: string[] = [];
  for (const page of pages) {
    for (const [, path] of readFileSync(page, 'utf8').matchAll(/`((?:deploy|bench|scripts|docs)\/[\w./-]+)`/g)) {
      // A pattern (`deploy/*.yaml`) or a placeholder is not a file.
      if (!/[*<>]/.test(path!) && !existsSync(join(root, path!))) missing.push(`${relative(root, page)}: ${path}`);
    }
  }
  expect(missing).toEqual([]);
});

describe("the README's send example", () => {
  let gateway: TestGateway;

  beforeAll(async () => {
    // As `npm start` runs it: config.example.yaml with its placeholder secrets, no cluster (so dry-run).
    gateway = await startTestGateway({ env: { GITHUB_WEBHOOK_SECRET: 'change-me', GITLAB_WEBHOOK_TOKEN: 'change-me' }, config: readFileSync(join(root, 'config.example.yaml'), 'utf8').replace('address: 127.0.0.1:9292', 'address: 127.0.0.1:0').replace('adminAddress: 127.0.0.1:9293', 'adminAddress: 127.0.0.1:0') });
  });

  afterAll(async () => {
    await gateway?.stop();
  });

  test('prints the lines the README shows under the command', async () => {
    const block = /```sh\n(npx bun src\/main\.ts send [^\n]*\\\n[^\n]*)\n((?:# [^\n]*\n)+)```/.exec(readme);
    expect(block).not.toBeNull();
    const args = block![1]!.replace(/\\\n\s*/g, ' ').split(/\s+/).slice(4);
    const flag = (name: string) => args[args.indexOf(name) + 1]!;
    const lines: string[] = [];
    await runSend(
      { url: gateway.hook('github'), providerType: flag('--provider-type'), secret: flag('--secret'), repository: flag('--repository'), branch: flag('--branch') },
      { catalog: builtinCatalog(builtinProviders, providerKit) },
      (line) => lines.push(line),
      (line) => lines.push(line),
    );
    const shown = block![2]!.trimEnd().split('\n').map((line) => line.slice(2));
    expect(lines.map((line) => line.replace(/"delivery":"[^"]+"/, '"delivery":"…"'))).toEqual(shown);
  });
});

test('a push listing as many commits as the README says has unknown changed paths, one fewer has them', () => {
  const stated = /a push listing (\d+) commits or more[^.]*counts as "paths not reported"/.exec(readme.replace(/\s+/g, ' '));
  expect(stated?.[0]).toBeDefined();
  const count = Number(stated![1]);
  const codec = builtinCatalog(builtinProviders, providerKit).get('github')!;
  const pathsOf = (commits: number) => {
    const hook = githubPushWith('s', (payload) => {
      payload.commits = Array.from({ length: commits }, (_, index) => ({ ...payload.commits[0], id: String(index).padStart(40, '0'), added: [`file-${index}`], modified: [], removed: [] }));
    });
    const request = { body: hook.body, headers: new Headers(hook.headers) };
    const parsed = codec.parse(request, codec.describe(request.headers), {});
    return 'events' in parsed ? parsed.events[0]!.changedPaths : 'ignored';
  };
  expect(pathsOf(count)).toBeUndefined();
  expect(pathsOf(count - 1)).toHaveLength(count - 1);
});
