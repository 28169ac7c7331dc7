import { describe, expect, test } from 'bun:test';
import { compileGlob, isGlobPattern } from '../../src/core/glob.ts';
import { normalizeRepository, repositoryMatcher } from '../../src/pipeline/repository-url.ts';

describe('normalizeRepository', () => {
  const cases: [input: string, host: string | undefined, path: string][] = [
    // slugs
    ['my-org/my-repo', undefined, 'my-org/my-repo'],
    ['My-Org/My-Repo', undefined, 'my-org/my-repo'],
    ['my-org/my-repo.git', undefined, 'my-org/my-repo'],
    ['group/subgroup/repo', undefined, 'group/subgroup/repo'],
    ['/my-org/my-repo/', undefined, 'my-org/my-repo'],
    ['  my-org/my-repo  ', undefined, 'my-org/my-repo'],
    ['my-org/my.dotted.repo', undefined, 'my-org/my.dotted.repo'],
    // GitHub
    ['https://github.com/My-Org/My-Repo', 'github.com', 'my-org/my-repo'],
    ['https://github.com/my-org/my-repo.git', 'github.com', 'my-org/my-repo'],
    ['https://github.com/my-org/my-repo/', 'github.com', 'my-org/my-repo'],
    ['https://github.com/my-org/my-repo.git/', 'github.com', 'my-org/my-repo'],
    ['https://www.github.com/my-org/my-repo', 'github.com', 'my-org/my-repo'],
    ['http://github.com/my-org/my-repo', 'github.com', 'my-org/my-repo'],
    ['https://x-access-token:ghs_abc@github.com/my-org/my-repo.git', 'github.com', 'my-org/my-repo'],
    ['git@github.com:My-Org/My-Repo.git', 'github.com', 'my-org/my-repo'],
    ['git@github.com:1234/repo.git', 'github.com', '1234/repo'], // git reads digits after `user@host:` as path
    ['ssh://git@github.com/my-org/my-repo.git', 'github.com', 'my-org/my-repo'],
    ['ssh://git@ssh.github.com:443/my-org/my-repo.git', 'github.com', 'my-org/my-repo'],
    ['git+ssh://git@github.com/my-org/my-repo.git', 'github.com', 'my-org/my-repo'],
    ['git://github.com/my-org/my-repo.git', 'github.com', 'my-org/my-repo'],
    ['github.com/my-org/my-repo', 'github.com', 'my-org/my-repo'],
    ['GitHub.com:my-org/my-repo', 'github.com', 'my-org/my-repo'],
    // GitLab, nested groups
    ['https://gitlab.com/group/subgroup/repo.git', 'gitlab.com', 'group/subgroup/repo'],
    ['git@gitlab.com:Group/SubGroup/Deeper/Repo.git', 'gitlab.com', 'group/subgroup/deeper/repo'],
    ['ssh://git@altssh.gitlab.com:443/group/repo.git', 'gitlab.com', 'group/repo'],
    ['https://gitlab.example.com:8443/group/repo', 'gitlab.example.com', 'group/repo'],
    ['https://oauth2:glpat-xyz@gitlab.example.com/group/repo.git', 'gitlab.example.com', 'group/repo'],
    // Bitbucket Cloud and Server
    ['https://bitbucket.org/workspace/repo', 'bitbucket.org', 'workspace/repo'],
    ['https://user@bitbucket.org/workspace/repo.git', 'bitbucket.org', 'workspace/repo'],
    ['git@bitbucket.org:workspace/repo.git', 'bitbucket.org', 'workspace/repo'],
    ['ssh://git@altssh.bitbucket.org:443/workspace/repo.git', 'bitbucket.org', 'workspace/repo'],
    ['ssh://git@bitbucket.corp.example:7999/proj/repo.git', 'bitbucket.corp.example', 'proj/repo'],
    // Gitea / Forgejo, custom ports
    ['https://gitea.example.com:3000/org/repo.git', 'gitea.example.com', 'org/repo'],
    ['ssh://git@gitea.example.com:2222/org/repo.git', 'gitea.example.com', 'org/repo'],
    ['git@gitea.example.com:org/repo.git', 'gitea.example.com', 'org/repo'],
    ['gitea.example.com:3000/org/repo', 'gitea.example.com', 'org/repo'], // no user: digits are a port
    ['http://localhost:3000/org/repo.git', 'localhost', 'org/repo'],
    ['http://[::1]:3000/org/repo.git', '[::1]', 'org/repo'],
    // hosts that only look like aliases keep their labels
    ['https://ssh.corp/org/repo', 'ssh.corp', 'org/repo'],
    // Azure DevOps
    ['https://dev.azure.com/Org/Project/_git/Repo', 'dev.azure.com', 'org/project/repo'],
    ['https://org@dev.azure.com/org/project/_git/repo', 'dev.azure.com', 'org/project/repo'],
    ['git@ssh.dev.azure.com:v3/org/project/repo', 'dev.azure.com', 'org/project/repo'],
    ['ssh://git@ssh.dev.azure.com/v3/org/project/repo', 'dev.azure.com', 'org/project/repo'],
    ['org@vs-ssh.visualstudio.com:v3/org/project/repo', 'dev.azure.com', 'org/project/repo'],
    ['https://org.visualstudio.com/project/_git/repo', 'dev.azure.com', 'org/project/repo'],
    ['https://org.visualstudio.com/DefaultCollection/project/_git/repo', 'dev.azure.com', 'org/project/repo'],
    ['https://dev.azure.com/org/_git/repo', 'dev.azure.com', 'org/repo/repo'],
    ['https://dev.azure.com/org/My%20Project/_git/My%20Repo', 'dev.azure.com', 'org/my project/my repo'],
    ['https://tfs.corp.example/tfs/DefaultCollection/project/_git/repo', 'tfs.corp.example', 'tfs/defaultcollection/project/repo'],
    // garbage never throws
    ['', undefined, ''],
    ['https://github.com', 'github.com', ''],
    ['https://github.com/org/100%', 'github.com', 'org/100%'],
  ];

  test.each(cases)('%p → host %p, path %p', (input, host, path) => {
    const expected = host === undefined ? { path } : { host, path };
    expect(normalizeRepository(input)).toStrictEqual(expected);
  });
});

describe('repositoryMatcher', () => {
  const github = [
    'https://github.com/My-Org/Infra',
    'git@github.com:My-Org/Infra.git',
    'https://github.com/My-Org/Infra.git',
    'My-Org/Infra',
  ];
  const gitlabNested = ['https://gitlab.com/Group/Sub/Infra.git', 'git@gitlab.com:Group/Sub/Infra.git', 'Group/Sub/Infra'];
  const gitea = ['ssh://git@gitea.example.com:2222/my-org/infra.git', 'https://gitea.example.com:3000/my-org/infra'];
  const azure = ['https://org@dev.azure.com/org/project/_git/repo', 'git@ssh.dev.azure.com:v3/org/project/repo'];
  const slugOnly = ['my-org/infra'];

  const cases: [pattern: string, candidates: string[], expected: boolean][] = [
    // slugs match on any host, case-insensitively
    ['my-org/infra', github, true],
    ['MY-ORG/INFRA', github, true],
    ['my-org/infra.git', github, true],
    ['my-org/infra', gitea, true],
    ['my-org/infra', slugOnly, true],
    ['my-org/other', github, false],
    ['my-org/infr', github, false],
    ['org/infra', github, false],
    ['group/sub/infra', gitlabNested, true],
    ['group/infra', gitlabNested, false],
    ['sub/infra', gitlabNested, false],
    // URLs: host and path must both match, in any spelling
    ['https://github.com/my-org/infra', github, true],
    ['git@github.com:my-org/infra.git', github, true],
    ['ssh://git@ssh.github.com:443/my-org/infra.git', github, true],
    ['github.com/my-org/infra', github, true],
    ['https://gitlab.com/my-org/infra', github, false],
    ['https://github.com/my-org/infra', gitea, false],
    ['https://gitea.example.com/my-org/infra.git', gitea, true],
    ['https://github.com/my-org/infra', slugOnly, false], // a bare slug cannot prove its host
    ['https://gitlab.com/group/sub/infra', gitlabNested, true],
    ['git@gitlab.com:group/infra.git', gitlabNested, false],
    // Azure DevOps spellings meet
    ['https://dev.azure.com/org/project/_git/repo', azure, true],
    ['git@ssh.dev.azure.com:v3/org/project/repo', ['https://dev.azure.com/Org/Project/_git/Repo'], true],
    ['https://org.visualstudio.com/project/_git/repo', azure, true],
    ['org/project/repo', azure, true],
    ['org/project/other', azure, false],
    // path globs: `*` stays within a segment
    ['my-org/*', github, true],
    ['My-Org/*', github, true],
    ['other-org/*', github, false],
    ['*/infra', github, true],
    ['*/infra-*', ['github.com/acme/infra-prod'], true],
    ['*/infra-*', ['github.com/acme/apps'], false],
    ['my-org/infra-?', ['https://github.com/my-org/infra-1'], true],
    ['my-org/{infra,apps}', github, true],
    ['my-org/{web,apps}', github, false],
    ['group/*', gitlabNested, false], // `*` does not cross `/`
    ['group/**', gitlabNested, true],
    ['group/*/infra', gitlabNested, true],
    ['**/infra', gitlabNested, true],
    ['**', github, true],
    // host globs
    ['github.com/my-org/*', github, true],
    ['github.com/my-org/*', ['https://gitlab.com/my-org/infra'], false],
    ['github.com/my-org/*', slugOnly, false],
    ['https://github.com/my-org/*', github, true],
    ['git@github.com:my-org/*.git', github, true],
    ['gitlab.com/group/**', gitlabNested, true],
    ['*.example.com/my-org/*', gitea, true],
    ['{github.com,gitlab.com}/my-org/*', ['git@gitlab.com:my-org/infra.git'], true],
    ['{github.com,gitlab.com}/my-org/*', gitea, false],
    // no candidates, unreadable candidates
    ['my-org/infra', [], false],
    ['my-org/*', ['', 'https://github.com'], false],
  ];

  test.each(cases)('%p against %j → %p', (pattern, candidates, expected) => {
    expect(repositoryMatcher(pattern)(candidates)).toBe(expected);
  });

  test('any one candidate is enough', () => {
    const matches = repositoryMatcher('https://github.com/my-org/infra');
    expect(matches(['https://gitlab.com/x/y', 'git@github.com:my-org/infra.git'])).toBe(true);
    expect(matches(['https://gitlab.com/x/y', 'my-org/infra'])).toBe(false);
  });

  test.each(['', '   ', 'https://github.com', 'https://github.com/', 'my-org/{a,b', 'my-org/[ab', '!my-org/infra'])(
    'rejects the pattern %p at compile time',
    (pattern) => {
      expect(() => repositoryMatcher(pattern)).toThrow();
    },
  );
});

describe('compileGlob', () => {
  const cases: [pattern: string, value: string, expected: boolean][] = [
    ['main', 'main', true],
    ['main', 'Main', false], // case-sensitive, like Git refs
    ['main', 'main2', false],
    ['release/*', 'release/1.2', true],
    ['release/*', 'release/1/hotfix', false],
    ['release/**', 'release/1/hotfix', true],
    ['release/**', 'release', false],
    ['*', 'feature/x', false],
    ['**', 'feature/x', true],
    ['v*', 'v1.2.3', true],
    ['v?.*', 'v1.2', true],
    ['v[0-9]*', 'vx', false],
    ['{main,release/**}', 'release/2024/01', true],
    ['*.{yaml,yml}', 'kustomization.yml', true],
    ['apps/**/*.yaml', 'apps/web.yaml', true], // `**` may span zero segments
    ['apps/**/*.yaml', 'apps/web/prod/deploy.yaml', true],
    ['\\*', '*', true],
    ['a(b)', 'a(b)', true], // no glob syntax: compared literally
  ];

  test.each(cases)('%p against %p → %p', (pattern, value, expected) => {
    expect(compileGlob(pattern)(value)).toBe(expected);
  });

  test.each(['!main', 'release/{a,b', 'v[0-9', '{a,{b,c}'])('rejects %p', (pattern) => {
    expect(() => compileGlob(pattern)).toThrow();
  });

  test.each([
    ['main', false],
    ['release/*', true],
    ['v?', true],
    ['v[12]', true],
    ['{a,b}', true],
    ['@(a|b)', true],
    ['org/my.repo', false],
    ['!main', true],
  ] as const)('isGlobPattern(%p) = %p', (pattern, expected) => {
    expect(isGlobPattern(pattern)).toBe(expected);
  });
});
