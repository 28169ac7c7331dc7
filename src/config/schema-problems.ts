/** Schema violations in the user's words: unknown keys with a "did you mean", missing keys, expected forms. */
import type { TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { isKeyName, shownKey } from './key-name.ts';
import { closestName } from './suggest.ts';

interface SchemaNode {
  description?: string;
  minItems?: number;
  anyOf?: SchemaNode[];
  const?: unknown;
  properties?: Record<string, unknown>;
}

/** A schema violation, not located yet: where it is, where to point (the parent of a missing key), and what is wrong. */
export interface SchemaProblem {
  path: string[];
  at: string[];
  atKey: boolean;
  message: string;
  /** A key the schema does not allow there, a required key that is absent, or any other violation. */
  kind: 'unknown' | 'missing' | 'other';
}

/**
 * The violations of `schema` by `data` (defaults already applied), one per path, in the user's words: unknown
 * keys with a "did you mean", missing keys, expected forms. Used for the whole config and for each provider's
 * `options` (against its type's schema).
 */
export function* schemaProblems(schema: TSchema, data: unknown): Generator<SchemaProblem> {
  const seen = new Set<string>();
  for (const error of Value.Errors(schema, data)) {
    // TypeBox reports a missing key twice (required, then wrong type): keep the first per path.
    if (seen.has(error.path)) continue;
    seen.add(error.path);
    const segments = error.path.split('/').slice(1).map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'));
    const missing = error.value === undefined;
    const unknownKey = error.message === 'Unexpected property';
    yield {
      path: segments,
      at: missing ? segments.slice(0, -1) : segments,
      atKey: !missing && unknownKey,
      message: describeError(error.message, error.schema as SchemaNode, error.value, missing, unknownKey, segments),
      kind: unknownKey ? 'unknown' : missing ? 'missing' : 'other',
    };
  }
}

function describeError(message: string, schema: SchemaNode, value: unknown, missing: boolean, unknownKey: boolean, segments: string[]): string {
  const key = segments[segments.length - 1]!;
  if (unknownKey) return `unknown key ${shownKey(key)}${isKeyName(key) ? didYouMean(key, Object.keys(schema.properties ?? {})) : ''}`;
  if (missing) return `"${key}" is required`;
  if (Array.isArray(value) && schema.minItems !== undefined && value.length < schema.minItems) return emptyList(key, schema.minItems);
  if (schema.description) return `expected ${schema.description}${unionKeyHint(schema, value)}`;
  if (message.startsWith('Expected union value') && Array.isArray(schema.anyOf)) {
    const options = schema.anyOf.map((option) => JSON.stringify(option.const)).join(', ');
    return `expected one of ${options}${typeof value === 'string' ? didYouMean(value, schema.anyOf.map((option) => String(option.const))) : ''}`;
  }
  return message.charAt(0).toLowerCase() + message.slice(1);
}

/** Why a list may not be empty, where the reason is not obvious; else that it needs an entry. */
const WHY_NOT_EMPTY: Readonly<Record<string, string>> = {
  resources: 'list the objects this target reconciles (kind, name or matchLabels, namespace)',
  providers: 'list the providers whose deliveries this target matches',
};

function emptyList(key: string, minItems: number): string {
  const why = WHY_NOT_EMPTY[key] ?? 'give at least one entry, or leave the key out';
  return minItems === 1 ? `the list is empty: ${why}` : `the list needs at least ${minItems} entries`;
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
