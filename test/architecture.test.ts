/**
 * The house, checked: the folders of src/ are layers, each importing only the layers below it (the arrows listed
 * here, and no other), another folder only through its face (index.ts), and plugins/ only through the provider
 * kit's face. A new import that runs back up, or around a face, fails this test with the file that has it.
 */
import { describe, expect, test } from 'bun:test';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { importsOf } from './support/module-imports.ts';

const root = join(import.meta.dir, '..');

/** Each layer and the layers it may import, bottom first. `main` is src/main.ts; plugins/ are the built-in providers. */
const ALLOWED: Record<string, readonly string[]> = {
  core: [],
  config: ['core'],
  'provider-kit': ['core', 'config'],
  kube: ['core', 'config'],
  pipeline: ['core', 'config', 'provider-kit'],
  reconcile: ['core', 'config', 'kube'],
  store: ['core', 'config', 'pipeline', 'reconcile'],
  discovery: ['core', 'config', 'provider-kit', 'kube', 'pipeline'],
  receivers: ['core', 'config', 'provider-kit', 'kube', 'pipeline'],
  register: ['core', 'config', 'provider-kit', 'kube', 'pipeline'],
  feedback: ['core', 'config', 'provider-kit', 'kube', 'reconcile', 'store', 'register'],
  relay: ['core', 'config', 'provider-kit', 'pipeline', 'store'],
  observe: ['core', 'config', 'provider-kit', 'kube', 'pipeline', 'reconcile', 'store', 'discovery', 'feedback', 'relay'],
  http: ['core', 'config', 'provider-kit', 'pipeline', 'store', 'observe', 'relay'],
  app: ['core', 'config', 'provider-kit', 'kube', 'pipeline', 'reconcile', 'store', 'discovery', 'receivers', 'register', 'feedback', 'relay', 'observe', 'http'],
  commands: ['core', 'config', 'provider-kit', 'kube', 'pipeline', 'reconcile', 'store', 'discovery', 'receivers', 'register', 'feedback', 'relay', 'observe', 'http', 'app'],
  main: ['core', 'config', 'provider-kit', 'app', 'commands', 'plugins'],
  plugins: ['provider-kit'],
};
/** Imported file by file, not through a face: main.ts loads each command on its own, so `validate` never loads the server. */
const NO_FACE = new Set(['commands', 'plugins']);

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return walk(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

/** The layer of a file of the house, or undefined outside it (package.json, node_modules). */
export function layerOf(path: string): string | undefined {
  const parts = relative(root, path).split('/');
  if (parts[0] === 'src') return parts.length === 2 ? (parts[1] === 'main.ts' ? 'main' : undefined) : parts[1];
  if (parts[0] === 'plugins') return parts[0];
  return undefined;
}

interface Arrow {
  from: string;
  to: string;
  file: string;
  target: string;
}

function arrows(): Arrow[] {
  const files = ['src', 'plugins'].flatMap((dir) => walk(join(root, dir)));
  return files.flatMap((file) => {
    const from = layerOf(file);
    if (from === undefined && !file.endsWith('src/main.ts')) return [];
    return importsOf(readFileSync(file, 'utf8')).flatMap((specifier) => {
      const target = normalize(join(dirname(file), specifier));
      const to = layerOf(target);
      if (to === undefined || to === from) return [];
      return [{ from: from!, to, file: relative(root, file), target: relative(root, target) }];
    });
  });
}

describe('the house: folders are layers', () => {
  const all = arrows();

  test('every import between folders is an allowed arrow (one-way, downwards)', () => {
    const wrong = all.filter((arrow) => !(ALLOWED[arrow.from] ?? []).includes(arrow.to)).map((arrow) => `${arrow.file} → ${arrow.target} (${arrow.from} may not import ${arrow.to})`);
    expect(wrong).toEqual([]);
  });

  test('another folder is imported through its face (index.ts) only', () => {
    const around = all.filter((arrow) => !NO_FACE.has(arrow.to) && !arrow.target.endsWith('/index.ts')).map((arrow) => `${arrow.file} → ${arrow.target}`);
    expect(around).toEqual([]);
  });

  test('the allowed arrows have no cycle, and every folder of src/ has its layer', () => {
    const visiting = new Set<string>();
    const done = new Set<string>();
    const visit = (layer: string, path: string[]): void => {
      if (done.has(layer)) return;
      if (visiting.has(layer)) throw new Error(`cycle: ${[...path, layer].join(' → ')}`);
      visiting.add(layer);
      for (const below of ALLOWED[layer] ?? []) visit(below, [...path, layer]);
      visiting.delete(layer);
      done.add(layer);
    };
    for (const layer of Object.keys(ALLOWED)) visit(layer, []);
    const folders = readdirSync(join(root, 'src')).filter((name) => statSync(join(root, 'src', name)).isDirectory());
    expect(folders.filter((folder) => !(folder in ALLOWED))).toEqual([]);
  });

  test('the checker itself: a statement at a line start counts, a doc comment does not', () => {
    expect(importsOf("import { a } from '../core/index.ts';\n * import { b } from '../http/app.ts';\nconst { c } = await import('../store/index.ts');\n// await import('../x.ts')")).toEqual(['../core/index.ts', '../store/index.ts']);
    expect(importsOf("export { a,\n  b } from './a.ts';\nimport type {\n  X,\n} from '../y/index.ts';")).toEqual(['./a.ts', '../y/index.ts']);
  });
});
