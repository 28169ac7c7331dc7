/** HTML for the admin pages. Escaping: every value shown there came from config, a cluster or a webhook sender. */
import { escapedCharacter, UNSAFE_CHARACTERS } from '../core/index.ts';

const entities: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '\t': '\t', '\n': '\n', '\r': '\r' };
const special = new RegExp(`[&<>"'${UNSAFE_CHARACTERS}]`, 'gu');

/**
 * Text as HTML: markup characters as entities, and the characters a browser acts on rather than shows (controls
 * but tab and line breaks, bidirectional overrides and isolates, line separators) written as `\u202e`, so a ref
 * cannot reorder what the page shows after it. An entity would not do: the browser turns it back into the character.
 */
export function escapeHtml(value: unknown): string {
  return String(value ?? '').replace(special, (character) => entities[character] ?? escapedCharacter(character));
}

const style = `body{font:14px/1.4 system-ui,sans-serif;margin:2rem;color:#222}table{border-collapse:collapse;margin:.5rem 0 1.5rem}
td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}th{background:#f3f3f3}
.accepted,.patched,.applied,.fetched{color:#1a7f37}.ignored,.pending,.dry-run,.following,.handled,.superseded,.not-followed{color:#777}
.rejected,.failed,.partly-failed,.timed-out{color:#b42318}
.banner{background:#fff4d6;border:1px solid #e0b94f;padding:.5rem .75rem;margin:0 0 1rem}.problem{color:#b42318}
code{font-size:13px}ul{margin:0;padding-left:1rem}`;

/**
 * A whole admin page. `refreshSeconds` adds a meta refresh: the page keeps itself current without JavaScript.
 */
export function page(title: string, body: string, refreshSeconds?: number): string {
  const refresh = refreshSeconds !== undefined ? `<meta http-equiv="refresh" content="${refreshSeconds}">` : '';
  return `<!doctype html><html><head><meta charset="utf-8">${refresh}<title>${escapeHtml(title)}</title><style>${style}</style></head><body>\n${body}\n</body></html>`;
}

/** A table, or "none". Cells are HTML already (escape values before). */
export function table(headings: string[], rows: string[][]): string {
  if (rows.length === 0) return '<p>none</p>';
  const head = headings.map((heading) => `<th>${heading}</th>`).join('');
  return `<table><tr>${head}</tr>${rows.map((cells) => `<tr>${cells.map((cell) => `<td>${cell}</td>`).join('')}</tr>`).join('')}</table>`;
}
