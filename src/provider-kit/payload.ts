/**
 * Reading payloads: JSON and form bodies, and a typed reader whose errors name the field (`push.changes[1].new
 * is not an object`), so a 400 tells the sender exactly what was wrong. Every list a payload can make long is read
 * in one pass and against a cap (`payloadLimits`).
 */
import { PayloadError, type WebhookRequest } from './contract.ts';

/**
 * Caps on what one payload may make long. Each list is read in one linear pass, and the caps also bound what
 * matching costs downstream (repositories × targets, changed paths × path patterns, events × targets).
 * - `repositories`: distinct repository names one event carries; more is a PayloadError (400). A push names its
 *   repository with at most a dozen spellings; a longer list is not a push.
 * - `commits`, `changedPaths`: beyond either, the changed paths are *unknown* (`undefined`) and path filters pass,
 *   the same answer as for a host's own truncated commit list. A spare reconcile is cheap; a missed one is not.
 * - `events`: refs (or tags) one delivery reports; more is a PayloadError.
 */
export const payloadLimits = { repositories: 32, commits: 20, changedPaths: 1000, events: 100 } as const;

const decoder = new TextDecoder('utf-8', { fatal: false });

/** Parses a JSON body (or text); PayloadError with a short reason on failure. */
export function json(body: Uint8Array | string): unknown {
  const text = typeof body === 'string' ? body : decoder.decode(body);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new PayloadError(`payload is not valid JSON: ${(error as Error).message}`);
  }
}

/** The UTF-8 text of a body. */
export function text(body: Uint8Array): string {
  return decoder.decode(body);
}

/** The value of one field of an `application/x-www-form-urlencoded` body (GitHub's and Gitea's `payload=`). */
export function formField(body: Uint8Array, name: string): string {
  const value = new URLSearchParams(decoder.decode(body)).get(name);
  if (value === null) throw new PayloadError(`form-encoded body has no ${name} field`);
  return value;
}

const FORM = 'application/x-www-form-urlencoded';
const encoder = new TextEncoder();

/**
 * The JSON a Gitea, Forgejo or Gogs hook signs: the body, or — when the hook posts a form — its `payload` field
 * (these hosts sign that JSON, not the form bytes). PayloadError when a form has no `payload`.
 *
 * @example kit.hmacHeader.verify(request, signature, secret, kit.signedJson)
 */
export function signedJson(request: WebhookRequest): Uint8Array {
  const form = request.headers.get('content-type')?.toLowerCase().startsWith(FORM) ?? false;
  return form ? encoder.encode(formField(request.body, 'payload')) : request.body;
}

/** A JSON object being read, with the path that reached it for error messages. */
export interface PayloadReader {
  /** Where this object sits in the payload (`''` for the root, `repository`, `push.changes[0]`). */
  readonly path: string;
  readonly value: Readonly<Record<string, unknown>>;
  /** Whether the field is present and not null. */
  has(field: string): boolean;
  string(field: string): string;
  optionalString(field: string): string | undefined;
  optionalBoolean(field: string): boolean | undefined;
  optionalNumber(field: string): number | undefined;
  object(field: string): PayloadReader;
  optionalObject(field: string): PayloadReader | undefined;
  /**
   * An array field (missing or null = empty), as is; with `max`, more entries is a PayloadError. Lists the kit
   * reads with caps of its own (commits for `changedPaths`) need none: a long one means "unknown", not 400.
   */
  list(field: string, max?: number): readonly unknown[];
  /** An array of objects (missing or null = empty), each as a reader; more than `max` is a PayloadError. */
  objects(field: string, max: number): PayloadReader[];
  /** The non-empty strings among `fields` (missing or null fields skipped), e.g. a repository's URL spellings. */
  strings(...fields: string[]): string[];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function at(path: string, field: string): string {
  return path ? `${path}.${field}` : field;
}

/**
 * Starts reading `value`, which must be a JSON object.
 *
 * @example
 * const payload = read(json(request.body));
 * const ref = payload.string('ref');                          // PayloadError "ref is missing" / "ref is not a string"
 * const urls = payload.object('repository').strings('clone_url', 'ssh_url');
 */
export function read(value: unknown, path = ''): PayloadReader {
  if (!isObject(value)) throw new PayloadError(path ? `${path} is not an object` : 'payload is not a JSON object');
  return new ObjectReader(value, path);
}

/** A class, not closures: a push reads a dozen objects, and each reader is made on the webhook path. */
class ObjectReader implements PayloadReader {
  constructor(
    readonly value: Record<string, unknown>,
    readonly path: string,
  ) {}

  private optional(field: string, type: string): unknown {
    const found = this.value[field];
    if (found === undefined || found === null) return undefined;
    if (typeof found !== type) throw new PayloadError(`${at(this.path, field)} is not a ${type}`);
    return found;
  }

  has(field: string): boolean {
    return this.value[field] !== undefined && this.value[field] !== null;
  }

  string(field: string): string {
    const found = this.optional(field, 'string') as string | undefined;
    if (found === undefined) throw new PayloadError(`${at(this.path, field)} is missing`);
    return found;
  }

  optionalString(field: string): string | undefined {
    return this.optional(field, 'string') as string | undefined;
  }

  optionalBoolean(field: string): boolean | undefined {
    return this.optional(field, 'boolean') as boolean | undefined;
  }

  optionalNumber(field: string): number | undefined {
    return this.optional(field, 'number') as number | undefined;
  }

  object(field: string): PayloadReader {
    if (!this.has(field)) throw new PayloadError(`${at(this.path, field)} is missing`);
    return read(this.value[field], at(this.path, field));
  }

  optionalObject(field: string): PayloadReader | undefined {
    return this.has(field) ? read(this.value[field], at(this.path, field)) : undefined;
  }

  list(field: string, max = Number.POSITIVE_INFINITY): readonly unknown[] {
    const found = this.value[field];
    if (found === undefined || found === null) return [];
    if (!Array.isArray(found)) throw new PayloadError(`${at(this.path, field)} is not an array`);
    if (found.length > max) throw new PayloadError(`${at(this.path, field)} has more than ${max} entries (the limit)`);
    return found;
  }

  objects(field: string, max: number): PayloadReader[] {
    return this.list(field, max).map((item, index) => read(item, `${at(this.path, field)}[${index}]`));
  }

  strings(...fields: string[]): string[] {
    const found: string[] = [];
    for (const field of fields) {
      const item = this.optional(field, 'string') as string | undefined;
      if (item) found.push(item);
    }
    return found;
  }
}

/**
 * The spellings a payload's repository object gives in `fields` (its name and URLs), distinct and capped: what
 * a target's `match.repository` is compared with.
 *
 * @example repositorySpellings(payload.object('repository'), 'full_name', 'html_url', 'clone_url', 'ssh_url')
 */
export function repositorySpellings(repository: PayloadReader, ...fields: string[]): string[] {
  const names = repositoryNames(repository.path || 'repository');
  names.addAll(repository.strings(...fields));
  return names.list();
}

/**
 * A repository's spellings, gathered from several places of a payload: distinct, in order, and at most
 * `payloadLimits.repositories` (beyond: PayloadError). Adding is O(1) (a Set), whatever the payload holds.
 *
 * @example
 * const names = repositoryNames('repository');
 * names.add(...payload.object('repository').strings('full_name', 'clone_url'));
 * names.list(); // ['org/app', 'https://github.com/org/app.git']
 */
export function repositoryNames(label: string): { add(...values: string[]): void; addAll(values: Iterable<string>): void; list(): string[] } {
  const seen = new Set<string>();
  // Not `add(...list)` for a payload's list: a spread of a million arguments overflows the stack.
  const addAll = (values: Iterable<string>) => {
    for (const value of values) {
      if (value === '' || seen.has(value)) continue;
      if (seen.size >= payloadLimits.repositories) throw new PayloadError(`${label} names more than ${payloadLimits.repositories} repositories (the limit)`);
      seen.add(value);
    }
  };
  return { add: (...values) => addAll(values), addAll, list: () => [...seen] };
}
