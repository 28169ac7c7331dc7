/**
 * No function in src/ runs past 80 lines: a long factory is split into named units with explicit inputs. Every
 * function, method and arrow function counts, nested ones inside their parents too; a failure lists each one over
 * with its file, line, name and length.
 */
import { describe, expect, test } from 'bun:test';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { functionSpans } from './support/function-lengths.ts';

const root = join(import.meta.dir, '..');
const MAX_LINES = 80;

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return walk(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

/** Each function of src/ over the limit, as `file:line name (N lines)`. */
function overTheLimit(): string[] {
  return walk(join(root, 'src')).flatMap((path) => {
    const file = relative(root, path);
    return functionSpans(readFileSync(path, 'utf8'))
      .filter((span) => span.lines > MAX_LINES)
      .map((span) => `${file}:${span.line} ${span.name} (${span.lines} lines)`);
  });
}

describe('functions in src/ are at most 80 lines', () => {
  test('no function, method or arrow function body runs past 80 lines', () => {
    expect(overTheLimit()).toEqual([]);
  });
});

/** A function body of exactly `lines` lines (the braces' lines included), whose filler is `inner` repeated. */
function body(lines: number, inner = 'x += 1;'): string {
  return `{\n${Array.from({ length: lines - 2 }, () => `  ${inner}`).join('\n')}\n}`;
}

function spansOf(source: string): string[] {
  return functionSpans(source).map((span) => `${span.name}@${span.line}:${span.lines}`);
}

describe('the measure', () => {
  test('declarations, methods, getters, constructors and arrows, each with its name, first line and length', () => {
    const source = [
      `export async function load(path: string): Promise<string> ${body(4)}`,
      `function* ids<T extends { id: string }>(items: T[]): Generator<string> ${body(3)}`,
      `class Store extends Base {`,
      `  constructor(readonly path: string) ${body(3)}`,
      `  get size(): number ${body(3)}`,
      `  async #flush(): Promise<void> ${body(5)}`,
      `  static of<T>(value: T): Store ${body(3)}`,
      `}`,
      `const plan = async (input: Input): Promise<{ done: boolean }> => ${body(6)};`,
      `const api = { open(name) ${body(3)}, close: (id: number) => ${body(4)} };`,
      `export const square = (value: number): number =>`,
      `  value *`,
      `  value;`,
    ].join('\n');
    expect(spansOf(source)).toEqual([
      'load@1:4',
      'ids@5:3',
      'constructor@9:3',
      'size@12:3',
      '#flush@15:5',
      'of@20:3',
      'plan@24:6',
      'open@30:3',
      'close@32:4',
      'square@36:2',
    ]);
  });

  test('a nested function counts inside its parent, and arrows passed as arguments are named after the call', () => {
    const source = `export function outer() {\n  const inner = () => ${body(5)};\n  items.map((item) => item.id);\n  return inner;\n}`;
    expect(spansOf(source)).toEqual(['outer@1:9', 'inner@2:5', '(arrow in map)@7:1']);
  });

  test('braces inside strings, template literals, regular expressions and comments are not brackets', () => {
    const tricky = [
      `'{', "}", '\\'{', "\\"}"`,
      '`{ ${value} } ${`nested ${"}"} {`} }`',
      '`${{ a: 1 }.a}`',
      '/[{}]/g.test(text), /\\/}/.test(text), /a[/]{/.test(text)',
      '// } a closing brace in a line comment',
      '/* { an opening brace in a block comment */',
      'total / 2 / count, (a) / 2 / (b)',
      '/* } */ x = y',
      "'http://example.com/{path}', `// not a comment ${'{'} /* nor this */`",
      "text.replace(/}/g, '').split(/[/{]/)",
    ];
    const source = `function tricky() {\n${tricky.map((line) => `  ${line};`).join('\n')}\n}\nfunction after() ${body(3)}`;
    expect(spansOf(source)).toEqual(['tricky@1:12', 'after@13:3']);
  });

  test('an arrow inside a template literal expression is found, and the template does not hide what follows', () => {
    const source = 'const page = (rows: Row[]) => `<ul>${rows.map((row) => `<li>${row}</li>`).join("")}</ul>\n`;\nfunction next() {\n}';
    expect(spansOf(source)).toEqual(['page@1:2', '(arrow in map)@1:1', 'next@3:2']);
  });

  test('blocks, object and type literals, and calls are not functions', () => {
    const source = [
      'if (ready) {',
      '}',
      'for (const x of xs) {',
      '}',
      'for await (const x of stream) {',
      '}',
      'while (more()) {',
      '}',
      'switch (kind) {',
      '  case pick(kind): {',
      '  }',
      '}',
      'try {',
      '} catch (error) {',
      '} finally {',
      '}',
      'const chosen = ready ? pick(a) : { b: 1 };',
      'class Mixed extends mixin(Base) {',
      '}',
      'type Shape = { area(): number; sides: number };',
      'interface Api { get(path: string): { status: number }; }',
      'const plain = { a: { b: 2 } };',
    ].join('\n');
    expect(spansOf(source)).toEqual([]);
  });

  test('a function type in a return annotation is part of the header, not an arrow', () => {
    const source = `export function memo(read: () => string): () => Promise<string | undefined> ${body(4)}\nconst fn: (a: number) => void = noop;`;
    expect(spansOf(source)).toEqual(['memo@1:4']);
  });

  test('a division after a closing bracket is not read as a regular expression', () => {
    const source = `function ratio() {\n  return (a + b) / 2 + list[0] / 3;\n}\nfunction later() {\n  const re = /}/;\n}`;
    expect(spansOf(source)).toEqual(['ratio@1:3', 'later@4:3']);
  });

  test('a body of exactly 80 lines passes, 81 lines is over', () => {
    const lengths = functionSpans(`function atLimit() ${body(80)}\nfunction over() ${body(81)}`).map((span) => span.lines > MAX_LINES);
    expect(lengths).toEqual([false, true]);
  });
});
