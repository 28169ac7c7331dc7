/** HTML for the admin pages. Escaping: every value shown there came from config or from a webhook sender. */
const entities: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (character) => entities[character]!);
}

const style = `body{font:14px/1.4 system-ui,sans-serif;margin:2rem;color:#222}table{border-collapse:collapse;margin:.5rem 0 1.5rem}
td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}th{background:#f3f3f3}
.accepted,.patched{color:#1a7f37}.ignored,.pending,.dry-run{color:#777}.rejected,.failed,.partly-failed{color:#b42318}
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
