/** The runtime services every provider plugin receives (see PluginHost). */
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { PayloadError, type PluginHost } from './plugin-api.ts';

const decoder = new TextDecoder('utf-8', { fatal: false });

/**
 * Compares in constant time. Only the length can leak, and the length of an expected signature or token
 * is not secret: for hex digests it is fixed by the algorithm.
 */
function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  if (left.length !== right.length) {
    timingSafeEqual(left, left);
    return false;
  }
  return timingSafeEqual(left, right);
}

function json(body: Uint8Array | string): unknown {
  const text = typeof body === 'string' ? body : decoder.decode(body);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new PayloadError(`payload is not valid JSON: ${(error as Error).message}`);
  }
}

/**
 * Caps on the lists a payload can make long. Each list is read in one linear pass, and the caps also bound what
 * matching costs downstream (repositories × targets, changed paths × path patterns).
 * - `repositories`: distinct repository names (URLs, slugs) one event may carry; more is a PayloadError (400).
 *   A push names its repository with at most a dozen spellings; a longer list is not a push.
 * - `commits` and `changedPaths`: beyond either, the changed paths are *unknown* (`undefined`), so path
 *   filters pass — the same answer as for a host's own truncated commit list. A spare reconcile is cheap; a
 *   missed one is not.
 */
export const payloadLimits = { repositories: 32, commits: 20, changedPaths: 1000 } as const;

const fileListFields = ['added', 'modified', 'removed'] as const;

function commitFiles(commits: readonly unknown[], label: string): string[] | undefined {
  if (commits.length > payloadLimits.commits) return undefined;
  const paths = new Set<string>();
  for (let index = 0; index < commits.length; index++) {
    const commit = commits[index];
    if (typeof commit !== 'object' || commit === null || Array.isArray(commit)) throw new PayloadError(`${label}[${index}] is not an object`);
    let listed = false;
    for (const field of fileListFields) {
      const list = (commit as Record<string, unknown>)[field];
      if (list === undefined || list === null) continue;
      if (!Array.isArray(list)) throw new PayloadError(`${label}[${index}].${field} is not an array`);
      listed = true;
      for (const path of list) {
        if (typeof path !== 'string') throw new PayloadError(`${label}[${index}].${field} holds a non-string path`);
        paths.add(path);
        if (paths.size > payloadLimits.changedPaths) return undefined;
      }
    }
    if (!listed) return undefined;
  }
  return [...paths];
}

function tooManyRepositories(label: string): PayloadError {
  return new PayloadError(`${label} names more than ${payloadLimits.repositories} repositories (the limit)`);
}

function collectUrls(object: unknown, label: string, fields: readonly string[], into: string[]): string[] {
  if (object === undefined || object === null) return into;
  if (typeof object !== 'object' || Array.isArray(object)) throw new PayloadError(`${label} is not an object`);
  if (into.length > payloadLimits.repositories) throw tooManyRepositories(label);
  for (const field of fields) {
    const value = (object as Record<string, unknown>)[field];
    if (typeof value === 'string') {
      // `into` stays within the cap, so this lookup is cheap however often a plugin calls in.
      if (value === '' || into.includes(value)) continue;
      if (into.length >= payloadLimits.repositories) throw tooManyRepositories(label);
      into.push(value);
    } else if (value !== undefined && value !== null) {
      throw new PayloadError(`${label}.${field} is not a string`);
    }
  }
  return into;
}

export const pluginHost: PluginHost = {
  hmac: (algorithm, key, data, encoding) => createHmac(algorithm, key).update(data).digest(encoding),
  safeEqual,
  randomId: () => randomUUID(),
  PayloadError,
  text: (body) => decoder.decode(body),
  json,
  commitFiles,
  collectUrls,
};
