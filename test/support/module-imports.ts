/**
 * The relative modules a file imports, statically, dynamically or by re-export. Statements are read at the start
 * of a line (so a doc comment's `@example` is not one), dynamic imports outside comment lines.
 */
export function importsOf(text: string): string[] {
  const found: string[] = [];
  const statement = /^(?:import|export)\b[^;]*?\bfrom\s*['"](\.{1,2}\/[^'"]+)['"]/gms;
  for (const match of text.matchAll(statement)) found.push(match[1]!);
  for (const line of text.split('\n')) {
    if (/^\s*(\*|\/\/)/.test(line)) continue;
    for (const match of line.matchAll(/\bimport\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g)) found.push(match[1]!);
  }
  return found;
}
