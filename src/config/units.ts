/** Parsing of the config's duration and size strings (already shape-checked by the schema). */

const durationUnits: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const sizeUnits: Record<string, number> = { B: 1, KB: 1000, MB: 1000 ** 2, GB: 1000 ** 3, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 };

/**
 * Milliseconds in a duration string.
 * @example durationMs('250ms') // 250
 * @example durationMs('2s') // 2000
 */
export function durationMs(text: string): number {
  const match = /^([0-9]+)(ms|s|m|h)$/.exec(text);
  if (!match) throw new Error(`not a duration: "${text}" (use e.g. 250ms, 2s, 5m)`);
  return Number(match[1]) * durationUnits[match[2]!]!;
}

/**
 * Bytes in a size string.
 * @example sizeBytes('25MiB') // 26214400
 */
export function sizeBytes(text: string): number {
  const match = /^([0-9]+)(B|KiB|MiB|GiB|KB|MB|GB)?$/.exec(text);
  if (!match) throw new Error(`not a size: "${text}" (use e.g. 512KiB, 25MiB)`);
  return Number(match[1]) * sizeUnits[match[2] ?? 'B']!;
}

/** The shortest duration string for `ms` (the inverse of durationMs, for writing a config back). */
export function formatDuration(ms: number): string {
  for (const [unit, factor] of [['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (ms >= factor && ms % factor === 0) return `${ms / factor}${unit}`;
  }
  return `${ms}ms`;
}

/** The shortest size string for `bytes` (the inverse of sizeBytes). */
export function formatSize(bytes: number): string {
  for (const [unit, factor] of [['GiB', 1024 ** 3], ['MiB', 1024 ** 2], ['KiB', 1024]] as const) {
    if (bytes >= factor && bytes % factor === 0) return `${bytes / factor}${unit}`;
  }
  return String(bytes);
}
