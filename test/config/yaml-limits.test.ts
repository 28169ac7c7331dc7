/**
 * YAML the config parser bounds: anchors and aliases, their expansion, duplicate keys, and how many problems
 * are listed. Each hostile document gets a clear, located ConfigError instead of minutes and gigabytes.
 */
import { describe, expect, test } from 'bun:test';
import { MAX_REPORTED_PROBLEMS, MAX_YAML_ANCHORS, MAX_YAML_NODES } from '../../src/config/limits.ts';
import { ConfigError, parseConfig } from '../../src/config/validate.ts';

const HEADER = `kubernetes: { mode: dry-run }
providers:
  - { name: github, type: github, secret: { env: GITHUB_WEBHOOK_SECRET } }
`;

function problems(text: string): string[] {
  try {
    parseConfig(text, 'fluxgate.yaml');
  } catch (error) {
    if (error instanceof ConfigError) return error.message.split('\n');
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('YAML anchors and aliases', () => {
  test('a billion laughs is refused, located at its first alias', () => {
    let text = `${HEADER}a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n`;
    for (let level = 1; level <= 9; level++) text += `a${level}: &a${level} [${Array(10).fill(`*a${level - 1}`).join(', ')}]\n`;
    text += 'targets: *a9\n';
    expect(problems(text)).toEqual([`fluxgate.yaml:5:10 the document has more than ${MAX_YAML_NODES.toLocaleString('en-US')} nodes once its aliases (*name) are expanded`]);
  });

  test('a wide alias counts its target each time it is used', () => {
    // 60 uses of a 20,001-node mapping: 1.2 million nodes from about 400 KB.
    const labels = Array.from({ length: 10_000 }, (_, index) => `l${index}: v`).join(', ');
    const text = `${HEADER}x: &labels { ${labels} }\ntargets:\n${Array.from({ length: 60 }, (_, index) => `  - { name: t${index}, providers: [github], resources: [{ kind: GitRepository, namespace: ns, matchLabels: *labels }] }\n`).join('')}`;
    const column = text.split('\n')[5]!.indexOf('*labels') + 1;
    expect(problems(text)).toEqual([`fluxgate.yaml:6:${column} the document has more than 1,000,000 nodes once its aliases (*name) are expanded`]);
  });

  test('a document of more nodes than that without any alias is refused too, at once', () => {
    const text = `${HEADER}x: [${'1,'.repeat(MAX_YAML_NODES)}1]\ntargets: []\n`;
    expect(problems(text)).toEqual([`fluxgate.yaml:1:1 the document has more than ${MAX_YAML_NODES.toLocaleString('en-US')} nodes`]);
  });

  test('aliases within the bound are expanded as usual', () => {
    const text = `${HEADER}targets:\n  - name: a\n    providers: &providers [github]\n    resources: &resources [{ kind: GitRepository, name: app, namespace: flux-system }]\n  - { name: b, providers: *providers, resources: *resources }\n`;
    expect(() => parseConfig(text, 'fluxgate.yaml')).not.toThrow();
    expect(parseConfig(text, 'fluxgate.yaml').config.targets[1]).toMatchObject({ name: 'b', providers: ['github'] });
  });

  test(`more than ${MAX_YAML_ANCHORS} aliases are refused (the YAML library resolves them in quadratic time)`, () => {
    const text = `${HEADER}x: &v 1\ny: [${Array(MAX_YAML_ANCHORS + 1).fill('*v').join(', ')}]\ntargets: []\n`;
    const column = `y: [${Array(MAX_YAML_ANCHORS).fill('*v').join(', ')}, `.length + 1;
    expect(problems(text)).toEqual([`fluxgate.yaml:5:${column} more than ${MAX_YAML_ANCHORS} aliases (*name)`]);
  });

  test(`more than ${MAX_YAML_ANCHORS} anchors are refused`, () => {
    const text = `${HEADER}x: [${Array.from({ length: MAX_YAML_ANCHORS + 1 }, (_, index) => `&a${index} 1`).join(', ')}]\ntargets: []\n`;
    // Located at the anchored value (the YAML library keeps no position for the anchor itself).
    const column = text.split('\n')[3]!.indexOf(`&a${MAX_YAML_ANCHORS} 1`) + `&a${MAX_YAML_ANCHORS} `.length + 1;
    expect(problems(text)).toEqual([`fluxgate.yaml:4:${column} more than ${MAX_YAML_ANCHORS} anchors (&name)`]);
  });

  test('an alias without its anchor, and one inside the node it names, are located errors', () => {
    expect(problems(`${HEADER}targets: *nothing\n`)).toEqual(['fluxgate.yaml:4:10 alias *nothing has no anchor &nothing before it']);
    expect(problems(`${HEADER}targets: &loop [*loop]\n`)).toEqual(['fluxgate.yaml:4:17 alias *loop is inside the node it names']);
  });
});

describe('duplicate keys', () => {
  test('each duplicate is reported at its key', () => {
    const text = `${HEADER}targets: []\nkubernetes: { mode: auto }\ntargets: []\n`;
    expect(problems(text)).toEqual(['fluxgate.yaml:5:1 duplicate key "kubernetes"', 'fluxgate.yaml:6:1 duplicate key "targets"']);
  });

  test('a mapping with many keys is checked in one pass', () => {
    // The YAML library's own check compares each key with every earlier one: 100,000 keys would take minutes.
    const keys = Array.from({ length: 100_000 }, (_, index) => `  k${index}: v`).join('\n');
    expect(problems(`${HEADER}targets: []\nextra:\n${keys}\n  k7: again\n`)).toEqual(['fluxgate.yaml:100006:3 duplicate key "k7"']);
  }, 30_000);
});

describe('how many problems are listed', () => {
  test(`the first ${MAX_REPORTED_PROBLEMS} in file order, then how many more`, () => {
    const keys = Array.from({ length: 250 }, (_, index) => `  x${index}: 1`).join('\n');
    const lines = problems(`${HEADER}targets: []\nserver:\n${keys}\n`);
    expect(lines).toHaveLength(MAX_REPORTED_PROBLEMS + 1);
    expect(lines[0]).toBe('fluxgate.yaml:6:3 server.x0: unknown key "x0"');
    expect(lines[MAX_REPORTED_PROBLEMS]).toBe('… and 150 more problems');
  });
});
