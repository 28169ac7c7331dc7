/**
 * A key indented one level too far or not far enough is, to the schema, two problems: an unknown key where it is
 * written and a required key missing where it belongs (`resources:` indented under `match:`). Such a pair is told
 * as one mistake of indentation, each half pointing at the other.
 */
import type { SchemaProblem } from './schema-problems.ts';
import { formatPath } from './yaml-source.ts';

const isPrefix = (shorter: readonly string[], longer: readonly string[]) => shorter.length < longer.length && shorter.every((segment, index) => longer[index] === segment);

/**
 * The problems with each such pair reworded; `lineOf` gives the line a path is written on.
 *
 * @example
 * withIndentationHints(problems, (path) => source.locate(path).line);
 * // targets[0].match.resources: unknown key "resources" here: it is a key of targets[0] (required there), indented too far: line it up with "match"
 */
export function withIndentationHints(problems: readonly SchemaProblem[], lineOf: (path: readonly string[]) => number): SchemaProblem[] {
  const missing = problems.filter((problem) => problem.kind === 'missing');
  if (missing.length === 0) return [...problems];
  const rewritten = new Map<SchemaProblem, string>();
  for (const unknown of problems) {
    if (unknown.kind !== 'unknown') continue;
    const key = unknown.path[unknown.path.length - 1]!;
    const written = unknown.path.slice(0, -1);
    const pair = missing.find((problem) => !rewritten.has(problem) && problem.path[problem.path.length - 1] === key && (isPrefix(problem.at, written) || isPrefix(written, problem.at)));
    if (!pair) continue;
    const belongs = pair.at;
    const tooFar = isPrefix(belongs, written);
    const fix = tooFar ? `indented too far: line it up with "${written[belongs.length]}"` : `not indented enough: it goes under ${formatPath(belongs)}`;
    rewritten.set(unknown, `unknown key "${key}" here: it is a key of ${formatPath(belongs) || 'the top level'} (required there), ${fix}`);
    rewritten.set(pair, `"${key}" is required; the "${key}" on line ${lineOf(unknown.path)} is ${tooFar ? 'indented too far' : 'not indented enough'} to be it`);
  }
  return problems.map((problem) => (rewritten.has(problem) ? { ...problem, message: rewritten.get(problem)! } : problem));
}
