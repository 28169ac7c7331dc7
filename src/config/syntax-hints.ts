/**
 * YAML syntax errors as a config's author can act on them: the parser's reports of one indentation mistake (often
 * two or three lines at one place) become one problem that says it is the indentation, on the line to fix.
 */
import type { ConfigIssue, SourcePosition } from './yaml-source.ts';

/** A syntax error as the `yaml` package reports it. */
export interface YamlSyntaxError {
  code: string;
  message: string;
  /** Offset in the text. */
  offset: number;
}

const LINE_UP = 'keys of one mapping start in the same column, and the keys of a list item one column after its "- "';

/** What an indentation error means, by the parser's code (undefined: not about indentation). */
function indentationHint(error: YamlSyntaxError): string | undefined {
  if (error.code === 'BAD_INDENT') return `this line is not lined up with the keys above it: ${LINE_UP}`;
  if (error.code === 'MISSING_CHAR' && error.message.startsWith('Sequence item without - indicator')) return 'this line is indented like an item of the list above but has no "- ": line it up with the keys of that item, or start a new item with "- "';
  if (error.code === 'BLOCK_AS_IMPLICIT_KEY' || error.code === 'MULTILINE_IMPLICIT_KEY') return `this line is indented more than the key above it: ${LINE_UP}`;
  return undefined;
}

/** The line's first character, when the parser points before it (BAD_INDENT points at column 1). */
function lineStart(lines: readonly string[], at: SourcePosition): SourcePosition {
  const indent = lines[at.line - 1]?.search(/\S/) ?? -1;
  return indent >= 0 && at.col <= indent ? { line: at.line, col: indent + 1 } : at;
}

/** The first non-blank line after `line` (1-based), at its first character; the same place when there is none. */
function nextLine(lines: readonly string[], at: SourcePosition): SourcePosition {
  for (let index = at.line; index < lines.length; index += 1) {
    const indent = lines[index]!.search(/\S/);
    if (indent >= 0 && !lines[index]!.trimStart().startsWith('#')) return { line: index + 1, col: indent + 1 };
  }
  return at;
}

/**
 * One issue per place: an indentation mistake says so (and, where the parser points at the key before the
 * over-indented line, points at that line), with the parser's own words after it; other errors keep them.
 *
 * @example
 * syntaxIssues(text, doc.errors.map((e) => ({ code: e.code, message: e.message, offset: e.pos[0] })), position);
 * // [{ line: 4, col: 6, path: '', message: 'indentation: this line is indented more than the key above it: … (YAML: Nested mappings are not allowed in compact mappings)' }]
 */
export function syntaxIssues(text: string, errors: readonly YamlSyntaxError[], position: (offset: number) => SourcePosition): ConfigIssue[] {
  const lines = text.split('\n');
  const issues = new Map<string, ConfigIssue>();
  for (const error of errors) {
    const raw = error.message.split('\n')[0]!;
    const hint = indentationHint(error);
    const reported = position(error.offset);
    const at = hint === undefined ? reported : error.code === 'BLOCK_AS_IMPLICIT_KEY' || error.code === 'MULTILINE_IMPLICIT_KEY' ? nextLine(lines, reported) : lineStart(lines, reported);
    const place = `${at.line}:${at.col}`;
    // The parser often reports one mistake several times at one place: the first report, with a hint, speaks for it.
    if (issues.has(place)) continue;
    issues.set(place, { ...at, path: '', message: hint === undefined ? raw : `indentation: ${hint} (YAML: ${raw})` });
  }
  return [...issues.values()];
}
