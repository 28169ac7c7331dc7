/**
 * An ImageRepository's `spec.exclusionList`: tags image-reflector-controller never stores, so a push of one
 * changes nothing the object scans and is not worth a reconcile. As Flux reads it: Go regular expressions,
 * matched anywhere in the tag; unset means Flux's default `^.*\.sig$` (cosign signatures), an empty list
 * excludes nothing, and the CRD allows at most 25.
 *
 * Patterns are compiled with re2js, RE2's syntax and linear-time matching as Go has them: JavaScript's RegExp
 * reads some patterns differently, and it backtracks, while the tag it is matched against comes from the sender.
 */
import { RE2JS } from 're2js';

/** Flux's default when `exclusionList` is not set (the CRD's `+kubebuilder:default`). */
export const FLUX_DEFAULT_EXCLUSIONS: readonly string[] = ['^.*\\.sig$'];
/** The CRD's `MaxItems`: more cannot be stored, so more are not read. */
const MAX_PATTERNS = 25;

export interface TagExclusions {
  /** The first pattern that excludes `tag`, or undefined when none does. */
  excluding(tag: string): string | undefined;
  /** Patterns RE2 cannot read (ignored: a spare reconcile beats a missed one), each with the parser's reason. */
  invalid: readonly string[];
}

/**
 * @example
 * tagExclusions(undefined).excluding('sha256-1a2b.sig'); // '^.*\.sig$'
 * tagExclusions(['^dev-']).excluding('v1.2.0');         // undefined
 */
export function tagExclusions(value: unknown): TagExclusions {
  const patterns = Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string').slice(0, MAX_PATTERNS) : FLUX_DEFAULT_EXCLUSIONS;
  const compiled: { pattern: string; regex: RE2JS }[] = [];
  const invalid: string[] = [];
  for (const pattern of patterns) {
    try {
      compiled.push({ pattern, regex: RE2JS.compile(pattern) });
    } catch (error) {
      invalid.push(`${pattern} (${(error as Error).message})`);
    }
  }
  return {
    excluding: (tag) => compiled.find(({ regex }) => regex.matcher(tag).find())?.pattern,
    invalid,
  };
}
