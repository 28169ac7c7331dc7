/**
 * The mistakes a newcomer makes in a first config, and what they are told: each problem says what to change, at
 * the line to change, in the user's words rather than the YAML parser's or the schema library's.
 */
import { describe, expect, test } from 'bun:test';
import { configProblems } from '../support/config-check.ts';

const header = `providers:
  - name: github
    type: github
    secret: { env: GITHUB_WEBHOOK_SECRET }
`;
const target = (body: string) => `${header}targets:
  - name: app
    providers: [github]
${body}`;

describe('indentation', () => {
  test('a key indented more than the key above it: one problem, on that line, saying it is the indentation', () => {
    const text = `providers:
  - name: github
    type: github
     secret: { env: GITHUB_WEBHOOK_SECRET }
`;
    expect(configProblems(text)).toEqual([
      'fluxgate.yaml:4:6 indentation: this line is indented more than the key above it: keys of one mapping start in the same column, and the keys of a list item one column after its "- " (YAML: Nested mappings are not allowed in compact mappings)',
    ]);
  });

  test('a key indented less than the keys of its list item', () => {
    const text = target(`    resources:
      - kind: GitRepository
        name: app
       namespace: flux-system
`);
    expect(configProblems(text)).toEqual([expect.stringMatching(/^fluxgate\.yaml:11:8 indentation: this line is indented like an item of the list above but has no "- ": line it up with the keys of that item, or start a new item with "- " \(YAML: /)]);
  });

  test('a section key out of line with the keys beside it', () => {
    expect(configProblems(`server:\n  address: 127.0.0.1:9292\n adminAddress: 127.0.0.1:9293\n${header}`)).toEqual([
      expect.stringMatching(/^fluxgate\.yaml:3:2 indentation: this line is not lined up with the keys above it: /),
    ]);
  });

  test('resources: indented under match: — the missing key and the unknown one are told as one mistake, each naming the other', () => {
    const text = target(`    match:
      repository: your-org/your-repo
      resources:
        - { kind: GitRepository, name: app, namespace: flux-system }
`);
    expect(configProblems(text)).toEqual([
      'fluxgate.yaml:6:5 targets[0].resources: "resources" is required; the "resources" on line 10 is indented too far to be it',
      'fluxgate.yaml:10:7 targets[0].match.resources: unknown key "resources" here: it is a key of targets[0] (required there), indented too far: line it up with "match"',
    ]);
  });

  test('a key of a resource written one level up: not indented enough', () => {
    const text = target(`    resources:
      - kind: GitRepository
        name: app
    namespace: flux-system
`);
    expect(configProblems(text)).toEqual([
      'fluxgate.yaml:9:9 targets[0].resources[0].namespace: "namespace" is required; the "namespace" on line 11 is not indented enough to be it',
      'fluxgate.yaml:11:5 targets[0].namespace: unknown key "namespace" here: it is a key of targets[0].resources[0] (required there), not indented enough: it goes under targets[0].resources[0]',
    ]);
  });
});

describe('values', () => {
  test('resources: [] says what the list is for, not the schema library\'s "array length"', () => {
    const problems = configProblems(target('    resources: []\n'));
    expect(problems).toEqual(['fluxgate.yaml:8:16 targets[0].resources: the list is empty: list the objects this target reconciles (kind, name or matchLabels, namespace)']);
    expect(problems.join('\n')).not.toContain('array length');
  });

  test('kind: Gitrepository: did you mean "GitRepository"', () => {
    expect(configProblems(target('    resources: [{ kind: Gitrepository, name: app, namespace: flux-system }]\n'))).toEqual([
      'fluxgate.yaml:8:25 targets[0].resources[0].kind: kind "Gitrepository" is not a kind fluxgate knows: did you mean "GitRepository"? (a kind of your own needs its apiVersion and the annotation to set)',
    ]);
  });
});
