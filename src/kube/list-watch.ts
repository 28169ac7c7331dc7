/**
 * List-then-watch of one collection path (one namespace, or all of them), kept up until stopped:
 * - list, paginated (`limit`/`continue`), then hand over the complete set;
 * - watch from the list's resourceVersion with bookmarks and a server-side `timeoutSeconds`; a watch that ends
 *   is resumed from the last resourceVersion seen (an event's or a bookmark's), so nothing in between is missed;
 * - `410 Gone` (an HTTP 410, an expired `continue`, or an ERROR event with code 410): list again;
 * - any other failure: wait (capped exponential backoff with jitter, a Retry-After as its floor) and resume;
 * - `404`: the kind itself went away (its CRD was deleted); the owner decides what follows.
 * Only a watch that delivered something resets the backoff, so a server that refuses every watch at once (a
 * 410 each time) costs a list per backoff step, not a tight loop.
 * Every wait is a timer on the injected clock; stop() aborts the request in flight and cancels the wait.
 */
import { delay, type Clock } from '../core/index.ts';
import { KubeError, type KubeApi } from './client.ts';
import { backoffDelay, type RetryPolicy } from '../core/index.ts';
import type { Logger } from '../core/index.ts';
import { watchEvents, type WatchEvent } from './watch-events.ts';
import { watchedObject, type WatchedObject } from './watched-object.ts';

export type CollectionState = 'listing' | 'watching' | 'backing-off' | 'stopped';

export interface CollectionOptions {
  api: KubeApi;
  /** The collection path from API discovery, without a query. */
  path: string;
  apiVersion: string;
  kind: string;
  /** For logs and problems: `GitRepository in flux-system`, `GitRepository in all namespaces`. */
  label: string;
  fieldSelector?: string;
  labelSelector?: string;
  clock: Clock;
  log: Logger;
  backoff: Omit<RetryPolicy, 'maxAttempts'>;
  pageSize: number;
  timeoutSeconds: number;
  maxLineBytes: number;
  onSync(objects: WatchedObject[]): void;
  onChange(change: { type: 'upsert' | 'delete'; object: WatchedObject }): void;
  /** The state or the problem changed. */
  onState(): void;
  /** The API server answered 404: the kind is no longer served. The loop has ended. */
  onGone(): void;
}

export interface CollectionWatch {
  state(): CollectionState;
  problem(): string | undefined;
  /** Aborts the request in flight and the wait; resolves when the loop has ended. */
  stop(): Promise<void>;
}

/** A watch that delivered nothing and ended sooner than this counts as a failure (no tight reconnect loop). */
const MIN_QUIET_WATCH_MS = 1000;
/** The client gives up on a watch this long after the server should have ended it (a half-open connection). */
const WATCH_GRACE_MS = 30_000;

class Gone extends Error {
  override name = 'Gone';
}

/**
 * @example
 * const watch = watchCollection({ api, path: '/apis/source.toolkit.fluxcd.io/v1/gitrepositories', apiVersion, kind: 'GitRepository',
 *   label: 'GitRepository in all namespaces', clock, log, backoff: { initialDelayMs: 500, maxDelayMs: 30_000, random: Math.random },
 *   pageSize: 500, timeoutSeconds: 300, maxLineBytes: 4 << 20, onSync, onChange, onState: () => {}, onGone: () => {} });
 * await watch.stop();
 */
export function watchCollection(options: CollectionOptions): CollectionWatch {
  const stopping = new AbortController();
  const progress = collectionProgress(options.onState);
  const running = runCollection(options, stopping.signal, progress);
  return {
    state: () => progress.state,
    problem: () => progress.problem,
    async stop() {
      stopping.abort(new Error('watch stopped'));
      await running;
    },
  };
}

/** Where the loop is, and the backoff step: owned by the loop, read by state() and problem(). */
interface Progress {
  state: CollectionState;
  problem: string | undefined;
  /** Failed attempts since a watch last delivered something: the backoff step. */
  failures: number;
  /** Moves to `next` (with why), telling onState when either changed. */
  set(next: CollectionState, why?: string): void;
}

function collectionProgress(onState: () => void): Progress {
  const progress: Progress = {
    state: 'listing',
    problem: undefined,
    failures: 0,
    set(next, why) {
      if (next === progress.state && why === progress.problem) return;
      progress.state = next;
      progress.problem = why;
      onState();
    },
  };
  return progress;
}

const isGone = (error: unknown) => error instanceof Gone || (error instanceof KubeError && error.status === 410);

/** List, then watch and resume, until stopped or the kind is gone; each failure waits its backoff step. */
async function runCollection(options: CollectionOptions, signal: AbortSignal, progress: Progress): Promise<void> {
  const { clock, log } = options;
  const policy: RetryPolicy = { ...options.backoff, maxAttempts: Number.POSITIVE_INFINITY };
  let version: string | undefined;
  while (!signal.aborted) {
    let wait = 0;
    try {
      if (version === undefined) {
        progress.set('listing', progress.problem);
        version = await list(options, signal);
      }
      const ended = await watchOnce(options, version, signal, progress);
      version = ended.version;
      if (ended.delivered) continue;
      progress.failures += 1;
      wait = backoffDelay(policy, progress.failures);
      progress.set('backing-off', `the watch of ${options.label} ended without events; resuming in ${wait} ms`);
    } catch (error) {
      if (signal.aborted) break;
      if (isGone(error)) {
        // The resourceVersion is too old (compacted away): only a new list is complete. At once the first time.
        log.info('watch expired, listing again', { watch: options.label, reason: (error as Error).message });
        version = undefined;
        wait = progress.failures === 0 ? 0 : backoffDelay(policy, progress.failures);
        progress.failures += 1;
      } else if (error instanceof KubeError && error.status === 404) {
        progress.set('stopped', `${options.kind} is no longer served`);
        options.onGone();
        return;
      } else {
        progress.failures += 1;
        wait = backoffDelay(policy, progress.failures, error instanceof KubeError ? error.retryAfterMs : undefined);
        const message = error instanceof Error ? error.message : String(error);
        progress.set('backing-off', message);
        log.warn('watch failed, retrying', { watch: options.label, error: message, attempt: progress.failures, retryInMs: wait });
      }
    }
    if (wait > 0) await delay(clock, wait, signal);
  }
  progress.set('stopped');
}

/** The collection path with these parameters and the options' selectors. */
function query(options: CollectionOptions, extra: Record<string, string>): string {
  const q = new URLSearchParams(extra);
  if (options.fieldSelector) q.set('fieldSelector', options.fieldSelector);
  if (options.labelSelector) q.set('labelSelector', options.labelSelector);
  return `${options.path}?${q}`;
}

/** Lists every page and hands the whole set over; returns the list's resourceVersion. */
async function list(options: CollectionOptions, signal: AbortSignal): Promise<string> {
  const objects: WatchedObject[] = [];
  let next: string | undefined;
  let version = '';
  do {
    const page = await options.api.request('GET', query(options, { limit: String(options.pageSize), ...(next ? { continue: next } : {}) }), { wantBody: true, signal });
    for (const item of Array.isArray(page?.items) ? page.items : []) {
      const object = watchedObject(item, options.apiVersion, options.kind);
      if (object) objects.push(object);
    }
    // Every page of one list is one snapshot: the last page's resourceVersion is the list's.
    if (typeof page?.metadata?.resourceVersion === 'string') version = page.metadata.resourceVersion;
    next = typeof page?.metadata?.continue === 'string' && page.metadata.continue !== '' ? page.metadata.continue : undefined;
  } while (next);
  if (signal.aborted) throw signal.reason;
  options.onSync(objects);
  return version;
}

/** One watch from `version`; returns the last resourceVersion seen and whether anything arrived. */
async function watchOnce(options: CollectionOptions, version: string, stopping: AbortSignal, progress: Progress): Promise<{ version: string; delivered: boolean }> {
  const { clock } = options;
  const connection = new AbortController();
  const signal = AbortSignal.any([stopping, connection.signal]);
  const guard = clock.setTimer(() => connection.abort(new KubeError(`the watch of ${options.label} outlived its timeout`, 'timeout')), options.timeoutSeconds * 1000 + WATCH_GRACE_MS);
  const started = clock.now();
  let delivered = false;
  try {
    const response = await options.api.stream(query(options, { watch: '1', allowWatchBookmarks: 'true', resourceVersion: version, timeoutSeconds: String(options.timeoutSeconds) }), signal);
    progress.set('watching');
    if (!response.body) return { version, delivered };
    for await (const event of watchEvents(response.body, options.maxLineBytes)) {
      if (signal.aborted) break;
      delivered = true;
      progress.failures = 0;
      version = handle(event, options) ?? version;
    }
    if (signal.aborted) throw signal.reason;
    return { version, delivered: delivered || clock.now() - started >= MIN_QUIET_WATCH_MS };
  } finally {
    clock.clearTimer(guard);
    connection.abort();
  }
}

/** Applies one event; returns its resourceVersion. */
function handle(event: WatchEvent, options: CollectionOptions): string | undefined {
  if (event.type === 'ERROR') {
    const code = typeof event.object.code === 'number' ? event.object.code : undefined;
    const message = typeof event.object.message === 'string' ? event.object.message : 'no message';
    if (code === 410) throw new Gone(message);
    throw new KubeError(`the watch of ${options.label} failed: ${code ?? ''} ${message}`.replace('  ', ' '), 'http', code);
  }
  const version = event.object?.metadata?.resourceVersion;
  if (event.type === 'BOOKMARK') return typeof version === 'string' ? version : undefined;
  const object = watchedObject(event.object, options.apiVersion, options.kind);
  if (!object) return undefined;
  options.onChange({ type: event.type === 'DELETED' ? 'delete' : 'upsert', object });
  return object.metadata.resourceVersion;
}
