/**
 * Turns YAML text into a checked Config: schema errors (with defaults applied first) and then the rules a
 * schema cannot say (references between sections, plugin capabilities). Every problem is collected, so the
 * user fixes the whole file in one pass.
 */
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { Value } from '@sinclair/typebox/value';
import { MAX_REPORTED_PROBLEMS } from './limits.ts';
import { Config } from './schema.ts';
import { notAConfig } from './not-a-config.ts';
import { schemaProblems } from './schema-problems.ts';
import { withIndentationHints } from './indentation-hints.ts';
import { formatPath, parseYamlSource, type ConfigIssue, type YamlSource } from './yaml-source.ts';
import { checkConfigRules, type RuleContext } from './rules.ts';

/**
 * Every problem found in a config file, one `file:line:col path: message` line each (the first
 * MAX_REPORTED_PROBLEMS in file order, then how many more there are).
 *
 * @example
 * throw new ConfigError('fluxgate.yaml', [{ line: 4, col: 5, path: 'providers[0].secert', message: 'unknown key "secert"' }]);
 */
export class ConfigError extends Error {
  override name = 'ConfigError';
  /** The listed problems, in file order. */
  readonly issues: ConfigIssue[];
  /** How many problems there are, listed or not. */
  readonly count: number;
  constructor(
    readonly file: string,
    issues: ConfigIssue[],
    /** Problems found but not located (beyond MAX_REPORTED_PROBLEMS). */
    unlisted = 0,
  ) {
    const sorted = [...issues].sort((a, b) => a.line - b.line || a.col - b.col);
    const listed = sorted.slice(0, MAX_REPORTED_PROBLEMS);
    const more = sorted.length - listed.length + unlisted;
    super([...listed.map((issue) => formatIssue(file, issue)), ...(more > 0 ? [`… and ${more} more ${plural(more, 'problem')}`] : [])].join('\n'));
    this.issues = listed;
    this.count = sorted.length + unlisted;
  }
}

/** `1 problem`, `2 problems`. */
export function plural(count: number, noun: string): string {
  return `${noun}${count === 1 ? '' : 's'}`;
}

export function formatIssue(file: string, issue: ConfigIssue): string {
  const where = issue.path ? `${issue.path}: ` : '';
  if (issue.wholeFile) return `${file}: ${where}${issue.message}`;
  return `${file}:${issue.line}:${issue.col} ${where}${issue.message}`;
}

export interface CheckedConfig {
  config: Config;
  source: YamlSource;
}

/** Parses config text and checks it against the schema (defaults applied); throws ConfigError listing every problem. */
export function parseConfig(text: string, file: string): CheckedConfig {
  const source = parseYamlSource(text, file);
  const foreign = notAConfig(text, source);
  if (foreign) throw new ConfigError(file, [foreign]);
  if (source.syntaxIssues.length > 0) throw new ConfigError(file, source.syntaxIssues);
  if (source.data === null || typeof source.data !== 'object' || Array.isArray(source.data)) {
    throw new ConfigError(file, [{ line: 1, col: 1, path: '', message: 'the config must be a YAML mapping (server, kubernetes, reconcile, providers, targets)' }]);
  }
  // Targets carry no defaults and no transforms (a test keeps it so): with thousands of them, only the other
  // sections are walked for defaults and decoding, and the whole is checked once by a compiled checker. Only
  // those sections are copied (defaults are written into them; the source keeps what the file said): the
  // targets are read, never written, so they are the parsed objects themselves (a copy of 10,000 cost 150 ms).
  const { targets, ...raw } = source.data as Record<string, unknown>;
  const sections = structuredClone(raw);
  const data = { ...(Value.Default(Config, { ...sections, targets: [] }) as Record<string, unknown>), ...(targets === undefined ? {} : { targets }) };
  if (!fitsSchema(data)) {
    const schema = schemaErrors(data, source);
    throw new ConfigError(file, schema.issues, schema.unlisted);
  }
  // The shape is right: durations and sizes become numbers here, once.
  const decoded = Value.Decode(Config, { ...data, targets: [] });
  return { config: { ...decoded, targets: data.targets as Config['targets'] }, source };
}

/**
 * Compiling the checker costs tens of milliseconds, most of a small config's start-up; walking the schema costs
 * about a quarter of a millisecond per target. Past this many targets the compiled checker is the cheaper one.
 */
const COMPILE_ABOVE_TARGETS = 100;

function fitsSchema(data: Record<string, unknown>): boolean {
  const targets = Array.isArray(data.targets) ? data.targets.length : 0;
  return targets > COMPILE_ABOVE_TARGETS ? TypeCompiler.Compile(Config).Check(data) : Value.Check(Config, data);
}

/** Checks the rules a schema cannot express (see rules.ts); throws ConfigError listing every problem. */
export function checkRules({ config, source }: CheckedConfig, context: RuleContext): void {
  const issues = checkConfigRules(config, context).map(({ path, message, atKey }) => ({
    ...source.locate(path, atKey),
    path: formatPath(path),
    message,
  }));
  if (issues.length > 0) throw new ConfigError(source.file, issues);
}

function schemaErrors(data: unknown, source: YamlSource): { issues: ConfigIssue[]; unlisted: number } {
  const issues: ConfigIssue[] = [];
  let unlisted = 0;
  const problems = withIndentationHints([...schemaProblems(Config, data)], (path) => source.locate(path, true).line);
  for (const problem of problems) {
    // Locating costs a walk of the parent mapping: only the problems that will be listed are located.
    if (issues.length >= MAX_REPORTED_PROBLEMS) {
      unlisted++;
      continue;
    }
    issues.push({ ...source.locate(problem.at, problem.atKey), path: formatPath(problem.path), message: problem.message });
  }
  return { issues, unlisted };
}
