/**
 * CHANGELOG.md as Keep a Changelog 1.1 writes it: `## [Unreleased]` on top, then one `## [X.Y.Z] - YYYY-MM-DD`
 * section per release, newest first. A release moves what `Unreleased` holds into a section of its own; the notes
 * of a GitHub release are that section.
 */

const SECTION = /^## \[([^\]]+)\](?: - (\S+))?\s*$/gm;

export interface Section {
  /** `Unreleased` or a version. */
  name: string;
  date?: string;
  /** The section's text below its heading, trimmed. */
  body: string;
}

/** The `## [...]` sections, in the file's order. */
export function sections(changelog: string): Section[] {
  const found: Section[] = [];
  const headings = [...changelog.matchAll(SECTION)];
  headings.forEach((heading, index) => {
    const start = heading.index! + heading[0].length;
    const end = headings[index + 1]?.index ?? changelog.length;
    found.push({ name: heading[1]!, ...(heading[2] ? { date: heading[2] } : {}), body: changelog.slice(start, end).trim() });
  });
  return found;
}

/**
 * The notes of release `version`, or why there are none: its section must exist, carry a date and say something.
 * @example releaseNotes(text, '0.2.0') // { notes: '### Added\n- …' }
 */
export function releaseNotes(changelog: string, version: string): { notes: string } | { problem: string } {
  const section = sections(changelog).find((candidate) => candidate.name === version);
  if (!section) return { problem: `CHANGELOG.md has no section "## [${version}] - YYYY-MM-DD": move what "## [Unreleased]" lists there (scripts/release.ts prepare ${version})` };
  if (!section.date || !/^\d{4}-\d{2}-\d{2}$/.test(section.date)) return { problem: `CHANGELOG.md's section [${version}] has no date (YYYY-MM-DD)` };
  if (section.body === '') return { problem: `CHANGELOG.md's section [${version}] is empty` };
  return { notes: section.body };
}

/**
 * The changelog with what `Unreleased` holds moved into `## [version] - date`, and an empty `Unreleased` above it.
 * Throws when the version already has a section or Unreleased lists nothing.
 */
export function cutRelease(changelog: string, version: string, date: string): string {
  const all = sections(changelog);
  if (all.some((section) => section.name === version)) throw new Error(`CHANGELOG.md already has a section for ${version}`);
  const unreleased = all.find((section) => section.name === 'Unreleased');
  if (!unreleased || unreleased.body === '') throw new Error('CHANGELOG.md lists nothing under "## [Unreleased]"');
  const heading = /^## \[Unreleased\]\s*$/m.exec(changelog)!;
  const start = heading.index + heading[0].length;
  const rest = changelog.slice(start).trimStart();
  return `${changelog.slice(0, start)}\n\n## [${version}] - ${date}\n\n${rest}`;
}
