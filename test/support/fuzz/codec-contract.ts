/**
 * What `describe` and `parse` may answer, whatever they were sent: the shapes of the provider contract
 * (src/pipeline/provider.ts), within the kit's caps, and reasons short enough for a log line — a reason may quote
 * a header (the HTTP server bounds those) but never a long stretch of the body. A stringified function or object
 * (`[native code]`, `[object Object]`) in an answer is a payload value used as a key of a plain object.
 */
import { payloadLimits } from '../../../src/provider-kit/payload.ts';

/** Longest reason (an `ignored` answer or a PayloadError message), besides any header it quotes. */
export const MAX_REASON = 512;
const TELLTALES = ['[native code]', '[object Object]'];

type Problems = string[];

export function deliveryInfoProblems(info: unknown): Problems {
  const problems: Problems = [];
  if (!isRecord(info)) return ['describe did not answer an object'];
  optional(problems, info, 'event', 'string');
  optional(problems, info, 'deliveryId', 'string');
  optional(problems, info, 'ping', 'boolean');
  return problems;
}

/** Problems with what `parse` returned; `headerBytes` is how much of a reason may be quoted headers. */
export function parsedProblems(result: unknown, headerBytes: number): Problems {
  const problems: Problems = [];
  if (!isRecord(result)) return ['parse did not answer an object'];
  if ('ignored' in result) {
    reasonProblems(problems, 'ignored reason', result.ignored, headerBytes);
    return problems;
  }
  if (!Array.isArray(result.events)) return ['events is not a list'];
  if (result.events.length > payloadLimits.events) problems.push(`${result.events.length} events, over the limit of ${payloadLimits.events}`);
  optional(problems, result, 'deliveryId', 'string');
  if (typeof result.deliveryId === 'string' && result.deliveryId.length > 256) problems.push(`a delivery id of ${result.deliveryId.length} characters from the body`);
  result.events.forEach((event: unknown, index: number) => problems.push(...eventProblems(event).map((problem) => `events[${index}]: ${problem}`)));
  return problems;
}

/** Problems with the message of a PayloadError. */
export function messageProblems(message: unknown, headerBytes: number): Problems {
  const problems: Problems = [];
  reasonProblems(problems, 'PayloadError message', message, headerBytes);
  return problems;
}

function eventProblems(event: unknown): Problems {
  const problems: Problems = [];
  if (!isRecord(event)) return ['not an object'];
  if (typeof event.event !== 'string') problems.push(`event is ${typeof event.event}, not a string`);
  else telltale(problems, 'event', event.event);
  stringList(problems, event, 'repositories', payloadLimits.repositories, true);
  for (const field of ['ref', 'branch', 'tag', 'commit', 'defaultBranch']) optional(problems, event, field, 'string');
  optional(problems, event, 'deleted', 'boolean');
  if (event.changedPaths !== undefined) stringList(problems, event, 'changedPaths', payloadLimits.changedPaths, false);
  if (event.image !== undefined) {
    if (!isRecord(event.image)) problems.push('image is not an object');
    else {
      if (typeof event.image.name !== 'string') problems.push('image.name is not a string');
      optional(problems, event.image, 'tag', 'string');
      optional(problems, event.image, 'digest', 'string');
    }
  }
  return problems;
}

function stringList(problems: Problems, record: Record<string, unknown>, field: string, max: number, required: boolean): void {
  const list = record[field];
  if (list === undefined && !required) return;
  if (!Array.isArray(list)) return void problems.push(`${field} is not a list`);
  if (list.length > max) problems.push(`${field} has ${list.length} entries, over the limit of ${max}`);
  if (list.some((item) => typeof item !== 'string')) problems.push(`${field} holds a non-string`);
  else for (const item of list) telltale(problems, field, item as string);
}

function reasonProblems(problems: Problems, what: string, reason: unknown, headerBytes: number): void {
  if (typeof reason !== 'string' || reason === '') return void problems.push(`${what} is not a non-empty string`);
  if (reason.length > MAX_REASON + headerBytes) problems.push(`${what} is ${reason.length} characters long: ${JSON.stringify(reason.slice(0, 120))}…`);
  telltale(problems, what, reason);
}

function telltale(problems: Problems, what: string, value: string): void {
  const found = TELLTALES.find((mark) => value.includes(mark));
  if (found) problems.push(`${what} holds ${found}: ${JSON.stringify(value.slice(0, 120))}`);
}

function optional(problems: Problems, record: Record<string, unknown>, field: string, type: 'string' | 'boolean'): void {
  if (record[field] !== undefined && typeof record[field] !== type) problems.push(`${field} is ${typeof record[field]}, not a ${type}`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
