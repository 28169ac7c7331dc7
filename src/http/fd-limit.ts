/**
 * The open-file limit (RLIMIT_NOFILE) the server runs with, and what it means for the request cap. Every
 * connection is a file descriptor, and at the limit Bun's listener spins a core on failing accept4 (EMFILE)
 * while answering almost nothing (oven-sh/bun#32705). Bun itself raises the soft limit to the hard limit at
 * start-up (capped at 2^20, like Node.js), in `bun build --compile` binaries too, so what is left here is to
 * keep waiting requests below the limit and to say what the limit is.
 */
import { readFileSync } from 'node:fs';
import type { Logger } from '../core/index.ts';

export type FileLimit = { soft: number | 'unlimited'; hard: number | 'unlimited' };

/**
 * The limits from /proc/self/limits, or undefined where there is no such file.
 * @example openFileLimit() // { soft: 1048576, hard: 1048576 }
 */
export function openFileLimit(read: (path: string) => string = (path) => readFileSync(path, 'utf8')): FileLimit | undefined {
  try {
    const line = read('/proc/self/limits').split('\n').find((text) => text.startsWith('Max open files'));
    const [soft, hard] = line?.split(/\s{2,}/).slice(1, 3) ?? [];
    const value = (text?: string) => (text === 'unlimited' ? 'unlimited' : text && /^[0-9]+$/.test(text) ? Number(text) : undefined);
    const limit = { soft: value(soft), hard: value(hard) };
    return limit.soft !== undefined && limit.hard !== undefined ? (limit as FileLimit) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The request cap to enforce: `configured`, but never more than half the open-file limit, so that requests
 * refused by the cap can still be accepted and answered, and the other half stays for idle keep-alive
 * connections (which no cap counts), probes, the API server and files.
 * @example requestCap(512, { soft: 256, hard: 256 }) // 128
 */
export function requestCap(configured: number, limit: FileLimit | undefined): number {
  if (!limit || limit.soft === 'unlimited') return configured;
  return Math.max(1, Math.min(configured, Math.floor(limit.soft / 2)));
}

/**
 * Logs the limit once and returns the cap to enforce; warns when the limit lowers the configured cap.
 * @example const maxConcurrentRequests = fitRequestCap(config.server.maxConcurrentRequests, log);
 */
export function fitRequestCap(configured: number, log: Logger, limit = openFileLimit()): number {
  const cap = requestCap(configured, limit);
  if (!limit) return cap;
  log.info('open file limit', { ...limit, maxConcurrentRequests: cap });
  if (cap < configured) {
    log.warn(`the open file limit (${limit.soft}) caps waiting requests at ${cap}, below server.maxConcurrentRequests (${configured}): raise the limit (systemd LimitNOFILE, container ulimit nofile)`, {
      soft: limit.soft,
      hard: limit.hard,
      maxConcurrentRequests: cap,
    });
  }
  return cap;
}
