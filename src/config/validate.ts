/**
 * Turns YAML text into a checked Config: schema errors (with defaults applied first) and then the rules a
 * schema cannot say (references between sections, plugin capabilities). Every problem is collected, so the
 * user fixes the whole file in one pass.
 */
import { Value } from '@sinclair/typebox/value';
import { Config } from './schema.ts';
import { formatPath, parseYamlSource, type ConfigIssue, type YamlSource } from './yaml-source.ts';
import { checkConfigRules, type RuleContext } from './rules.ts';

export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(
    readonly file: string,
    readonly issues: ConfigIssue[],
  ) {
    super(issues.map((issue) => formatIssue(file, issue)).join('\n'));
  }
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
  const schemaIssues = schemaErrors(data, source);
  if (schemaIssues.length > 0) throw new ConfigError(file, schemaIssues);
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

function schemaErrors(data: unknown, source: YamlSource): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const seen = new Set<string>();
  for (const error of Value.Errors(Config, data)) {
    const segments = error.path.split('/').slice(1).map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'));
    // TypeBox reports a missing key twice (required, then wrong type): keep the first per path.
    if (seen.has(error.path)) continue;
    seen.add(error.path);
    const missing = error.value === undefined;
    const unknownKey = error.message === 'Unexpected property';
    const location = missing ? source.locate(segments.slice(0, -1)) : source.locate(segments, unknownKey);
    issues.push({ ...location, path: formatPath(segments), message: describeError(error.message, error.schema, missing, unknownKey, segments) });
  }
  return issues.sort((a, b) => a.line - b.line || a.col - b.col);
}

function describeError(message: string, schema: { description?: string; type?: unknown; anyOf?: unknown }, missing: boolean, unknownKey: boolean, segments: string[]): string {
  const key = segments[segments.length - 1];
  if (unknownKey) return `unknown key "${key}"`;
  if (missing) return `"${key}" is required`;
  if (schema.description) return `expected ${schema.description}`;
  if (message.startsWith('Expected union value') && Array.isArray(schema.anyOf)) {
    const options = (schema.anyOf as { const?: unknown }[]).map((option) => JSON.stringify(option.const)).join(', ');
    return `expected one of ${options}`;
  }
  return message.charAt(0).toLowerCase() + message.slice(1);
}
