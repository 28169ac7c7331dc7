/**
 * A file that is no fluxgate config at all — `--config` pointed at a password file, a key, a log — still parses
 * as YAML often enough (`root:$6$…:19000:0:99999:7:::` is a mapping), and a message quoting its keys or its
 * syntax would copy its lines into the log and the status page. Such a file gets one message that gives a
 * position and quotes nothing.
 */
import { Config } from './schema.ts';
import type { ConfigIssue, YamlSource } from './yaml-source.ts';

const sections = Object.keys(Config.properties);
const listed = 'server, kubernetes, providers, targets, …';
/** A line that starts a top-level section (block or flow style, keys quoted or not, as in a JSON config). */
const sectionLine = new RegExp(`^[\\s{"']*(?:${sections.join('|')})["']?\\s*:(?:\\s|$)`, 'm');

/**
 * One problem instead of all: for a file that cannot be read as YAML and has no line starting a section, or
 * whose top-level mapping has keys but none of them a section. Undefined for anything that may be a config,
 * whose YAML mistakes keep their own messages.
 * @example notAConfig('root:$6$abc:19000:0:99999:7:::\n', source) // { line: 1, col: 1, path: '', message: 'the file is not a fluxgate config: …' }
 */
export function notAConfig(text: string, source: YamlSource): ConfigIssue | undefined {
  if (source.syntaxIssues.length > 0) {
    if (sectionLine.test(text)) return undefined;
    const first = source.syntaxIssues.reduce((a, b) => (b.line < a.line || (b.line === a.line && b.col < a.col) ? b : a));
    return { line: first.line, col: first.col, path: '', message: `the file is not a fluxgate config: it cannot be read as YAML here, and no line starts a section (${listed}); its content is not shown` };
  }
  const data = source.data;
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return undefined;
  const keys = Object.keys(data);
  if (keys.length === 0 || keys.some((key) => sections.includes(key))) return undefined;
  return { line: 1, col: 1, path: '', message: `the file is not a fluxgate config: none of its top-level keys is a section (${listed}); its content is not shown` };
}
