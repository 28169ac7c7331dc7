/**
 * The rules of `relay:` and `upstream:` a schema cannot say: distinct subscriber names, filters naming providers
 * that exist and globs that compile, an upstream name no provider has, a URL that parses.
 */
import type { RuleIssue } from './rule-issue.ts';
import type { Config } from './schema.ts';
import { closestName } from './suggest.ts';

/** Compiles a match block the way targets' are (throws with a message naming the bad pattern). */
type CompileMatch = (match: Config['targets'][number]['match']) => unknown;

const didYouMean = (word: string, names: Iterable<string>) => {
  const close = closestName(word, names);
  return close === undefined ? '' : ` (did you mean "${close}"?)`;
};

export function checkRelay(config: Config, compileMatch: CompileMatch): RuleIssue[] {
  const issues: RuleIssue[] = [];
  const providers = new Set(config.providers.map((provider) => provider.name));
  const names = new Set<string>();
  config.relay?.subscribers.forEach((subscriber, index) => {
    const at = (...rest: (string | number)[]) => ['relay', 'subscribers', index, ...rest];
    if (names.has(subscriber.name)) issues.push({ path: at('name'), message: `subscriber "${subscriber.name}" is defined twice` });
    names.add(subscriber.name);
    subscriber.providers?.forEach((name, position) => {
      if (!providers.has(name)) issues.push({ path: at('providers', position), message: `no provider named "${name}"${didYouMean(name, providers)}` });
    });
    subscriber.repositories?.forEach((repository, position) => {
      const problem = compiles(() => compileMatch({ repository }));
      if (problem !== undefined) issues.push({ path: at('repositories', position), message: problem });
    });
    const problem = subscriber.images && compiles(() => compileMatch({ images: subscriber.images }));
    if (problem) issues.push({ path: at('images'), message: problem.replace(/^match\./, '') });
  });
  return [...issues, ...checkUpstream(config, providers)];
}

function checkUpstream(config: Config, providers: ReadonlySet<string>): RuleIssue[] {
  const upstream = config.upstream;
  if (!upstream) return [];
  const issues: RuleIssue[] = [];
  if (providers.has(upstream.name)) issues.push({ path: ['upstream', 'name'], message: `a provider is named "${upstream.name}" too: give the upstream another name (targets name it in providers)` });
  try {
    const url = new URL(upstream.url);
    if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') issues.push({ path: ['upstream', 'url'], message: 'the edge\'s base URL takes no query, fragment or credentials (the token is upstream.token)' });
  } catch {
    issues.push({ path: ['upstream', 'url'], message: `"${upstream.url.slice(0, 200)}" is not a URL` });
  }
  return issues;
}

function compiles(compile: () => unknown): string | undefined {
  try {
    compile();
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}
