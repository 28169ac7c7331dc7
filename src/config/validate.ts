/**
 * Turns YAML text into a checked Config: schema errors (with defaults applied first) and then the rules a
 * schema cannot say (references between sections, plugin capabilities). Every problem is collected, so the
 * user fixes the whole file in one pass.
 */
import { Value } from '@sinclair/typebox/value';
import { MAX_REPORTED_PROBLEMS } from './limits.ts';
import { Config } from './schema.ts';
import { closestName } from './suggest.ts';
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
  return `${file}:${issue.line}:${issue.col} ${where}${issue.message}`;
}

export interface CheckedConfig {
  config: Config;
  source: YamlSource;
}

/** Parses config text and checks it against the schema (defaults applied); throws ConfigError listing every problem. */
export function parseConfig(text: string, file: string): CheckedConfig {
  const source = parseYamlSource(text, file);
  if (source.syntaxIssues.length > 0) throw new ConfigError(file, source.syntaxIssues);
  if (source.data === null || typeof source.data !== 'object' || Array.isArray(source.data)) {
    throw new ConfigError(file, [{ line: 1, col: 1, path: '', message: 'the config must be a YAML mapping (server, kubernetes, reconcile, providers, targets)' }]);
  }
  const data = Value.Default(Config, structuredClone(source.data));
  const schema = schemaErrors(data, source);
  if (schema.issues.length > 0) throw new ConfigError(file, schema.issues, schema.unlisted);
  // The shape is right: durations and sizes become numbers here, once.
  return { config: Value.Decode(Config, data), source };
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

interface SchemaNode {
  description?: string;
  anyOf?: SchemaNode[];
  const?: unknown;
  properties?: Record<string, unknown>;
}

function schemaErrors(data: unknown, source: YamlSource): { issues: ConfigIssue[]; unlisted: number } {
  const issues: ConfigIssue[] = [];
  const seen = new Set<string>();
  let unlisted = 0;
  for (const error of Value.Errors(Config, data)) {
    // TypeBox reports a missing key twice (required, then wrong type): keep the first per path.
    if (seen.has(error.path)) continue;
    seen.add(error.path);
    // Locating costs a walk of the parent mapping: only the problems that will be listed are located.
    if (issues.length >= MAX_REPORTED_PROBLEMS) {
      unlisted++;
      continue;
    }
    const segments = error.path.split('/').slice(1).map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'));
    const missing = error.value === undefined;
    const unknownKey = error.message === 'Unexpected property';
    const location = missing ? source.locate(segments.slice(0, -1)) : source.locate(segments, unknownKey);
    issues.push({ ...location, path: formatPath(segments), message: describeError(error.message, error.schema as SchemaNode, error.value, missing, unknownKey, segments) });
  }
  return { issues, unlisted };
}

function describeError(message: string, schema: SchemaNode, value: unknown, missing: boolean, unknownKey: boolean, segments: string[]): string {
  const key = segments[segments.length - 1]!;
  if (unknownKey) return `unknown key "${key}"${didYouMean(key, Object.keys(schema.properties ?? {}))}`;
  if (missing) return `"${key}" is required`;
  if (schema.description) return `expected ${schema.description}${unionKeyHint(schema, value)}`;
  if (message.startsWith('Expected union value') && Array.isArray(schema.anyOf)) {
    const options = schema.anyOf.map((option) => JSON.stringify(option.const)).join(', ');
    return `expected one of ${options}${typeof value === 'string' ? didYouMean(value, schema.anyOf.map((option) => String(option.const))) : ''}`;
  }
  return message.charAt(0).toLowerCase() + message.slice(1);
}

function didYouMean(word: string, candidates: string[]): string {
  const match = closestName(word, candidates);
  return match === undefined ? '' : ` (did you mean "${match}"?)`;
}

/** For a union of objects (a secret reference): the allowed key nearest to a key none of them allows. */
function unionKeyHint(schema: SchemaNode, value: unknown): string {
  if (!Array.isArray(schema.anyOf) || value === null || typeof value !== 'object' || Array.isArray(value)) return '';
  const allowed = schema.anyOf.flatMap((option) => Object.keys(option.properties ?? {}));
  const stray = Object.keys(value).find((key) => !allowed.includes(key));
  return stray === undefined ? '' : didYouMean(stray, allowed);
}
