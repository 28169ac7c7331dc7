/**
 * Writes commit statuses to the hosts, one queue per host credential, so a slow, failing or rate-limited host never
 * delays another host, a reconcile or a webhook: nothing here is awaited by anyone.
 *
 * - Coalesced per commit and context: a state still queued is replaced by a newer one, a state the host already has
 *   is not sent again (GitLab refuses a repeated `pending`), and a `superseded` for a commit that never got a status
 *   is dropped — the burst's last commit is the one reported.
 * - Rate limits as `register` waits them out (rateLimitWait: Retry-After, X-RateLimit-Reset, RateLimit-Reset), here
 *   by pausing that host's queue (at most 15 minutes); 5xx and unreachable hosts are retried 4 times with backoff;
 *   any other refusal (a token without rights, a repository that is not there) is dropped and logged, at most once a
 *   minute per host and problem.
 * - Through the pinned transport: the token only ever goes to the configured API's origin, and no redirect is followed.
 */
import { LRUCache } from 'lru-cache';
import { backoffDelay, type Clock, type Logger, OutboundRefusal, pinnedFetch } from '../core/index.ts';
import { HostError, type CommitStatus, type CommitStatusClient, type CommitStatuses, type CommitTarget, type HostFetch } from '../provider-kit/index.ts';
import { rateLimitWait } from '../register/index.ts';

/** Where a provider's statuses go, with its credentials (`providers[].register`). */
export interface StatusRoute {
  /** The provider whose `register.token` this is. */
  provider: string;
  /** Its type (`github`), for metrics and messages. */
  type: string;
  statuses: CommitStatuses;
  apiUrl: string;
  token: string;
}

/** What the writer tells the observers (metrics). */
export interface StatusWriterReporter {
  /** `sent`, `failed` (refused or retries used up), `dropped` (the queue was full), `rate_limited` (a pause began). */
  outcome(type: string, outcome: 'sent' | 'failed' | 'dropped' | 'rate_limited'): void;
}

export interface StatusWriter {
  write(route: StatusRoute, target: CommitTarget, status: CommitStatus): void;
  /** Statuses waiting or being sent, over every host. */
  waiting(): number;
  /** Resolves once every queue is empty (tests, benchmarks). */
  idle(): Promise<void>;
  /** Drops what waits; requests under way finish. */
  stop(): void;
}

export interface StatusWriterOptions {
  clock: Clock;
  log: Logger;
  reporter?: StatusWriterReporter;
  /** The transport under the pinned one (tests: none — real HTTP on loopback). */
  fetch?: typeof fetch;
  /** Requests in flight per host (default 4). */
  concurrency?: number;
  /** Statuses waiting per host at most (default 10,000); beyond it the oldest waiting one is dropped. */
  maxQueue?: number;
  random?: () => number;
}

const ATTEMPTS = 5;
const MAX_PAUSE_MS = 15 * 60_000;
const REQUEST_TIMEOUT_MS = 30_000;
const LOG_EVERY_MS = 60_000;

interface Pending {
  key: string;
  target: CommitTarget;
  status: CommitStatus;
  attempts: number;
  notBefore: number;
}

interface Host {
  route: StatusRoute;
  client?: Promise<CommitStatusClient>;
  queue: Map<string, Pending>;
  /** Keys being sent now, with the state sent. */
  sending: Map<string, string>;
  pausedUntil: number;
  timer: unknown;
  /** Problems logged, by text, with when (one line a minute per problem). */
  logged: Map<string, number>;
}

/**
 * @example
 * const writer = createStatusWriter({ clock, log });
 * writer.write(route, { repository: 'acme/app', sha }, { state: 'pending', context: 'fluxgate/prod/Kustomization/flux-system/apps', description: 'following' });
 */
export function createStatusWriter(options: StatusWriterOptions): StatusWriter {
  const hosts = new Map<string, Host>();
  // The last state each commit and context got from fluxgate: bounded, the oldest forgotten first.
  const sent = new LRUCache<string, string>({ max: 50_000 });
  const idlers: (() => void)[] = [];
  const writer: Writer = { options, hosts, sent, idlers, stopped: false };
  return {
    write(route, target, status) {
      if (writer.stopped) return;
      const host = hostOf(writer, route);
      const key = `${target.repository}\u0000${target.sha}\u0000${status.context}`;
      if ((host.sending.get(key) ?? sent.get(key)) === status.state) {
        host.queue.delete(key);
        return settleIdle(writer);
      }
      if (status.state === 'superseded' && !sent.has(key) && !host.sending.has(key)) {
        host.queue.delete(key);
        return settleIdle(writer);
      }
      host.queue.set(key, { key, target, status, attempts: 0, notBefore: 0 });
      trim(writer, host);
      pump(writer, host);
    },
    waiting: () => [...hosts.values()].reduce((total, host) => total + host.queue.size + host.sending.size, 0),
    idle: () =>
      new Promise<void>((resolve) => {
        idlers.push(resolve);
        settleIdle(writer);
      }),
    stop() {
      writer.stopped = true;
      for (const host of hosts.values()) {
        options.clock.clearTimer(host.timer);
        host.queue.clear();
      }
      settleIdle(writer);
    },
  };
}

interface Writer {
  options: StatusWriterOptions;
  hosts: Map<string, Host>;
  sent: LRUCache<string, string>;
  idlers: (() => void)[];
  stopped: boolean;
}

function hostOf(writer: Writer, route: StatusRoute): Host {
  const id = `${route.provider}\u0000${route.apiUrl}`;
  let host = writer.hosts.get(id);
  if (!host || host.route.token !== route.token) {
    host = { route, queue: host?.queue ?? new Map(), sending: host?.sending ?? new Map(), pausedUntil: 0, timer: undefined, logged: new Map() };
    writer.hosts.set(id, host);
  }
  return host;
}

/** Over the cap, the oldest waiting status goes (a newer one for the same commit and context would replace it anyway). */
function trim(writer: Writer, host: Host): void {
  const max = writer.options.maxQueue ?? 10_000;
  while (host.queue.size > max) {
    host.queue.delete(host.queue.keys().next().value!);
    writer.options.reporter?.outcome(host.route.type, 'dropped');
  }
}

/** Starts what the host may send now; a timer for what waits (a pause, a backoff). */
function pump(writer: Writer, host: Host): void {
  const { clock } = writer.options;
  clock.clearTimer(host.timer);
  host.timer = undefined;
  const now = clock.now();
  const limit = writer.options.concurrency ?? 4;
  let next = host.pausedUntil > now ? host.pausedUntil : Number.POSITIVE_INFINITY;
  if (host.pausedUntil <= now) {
    for (const pending of [...host.queue.values()]) {
      if (host.sending.size >= limit) break;
      if (host.sending.has(pending.key)) continue;
      if (pending.notBefore > now) {
        next = Math.min(next, pending.notBefore);
        continue;
      }
      host.queue.delete(pending.key);
      host.sending.set(pending.key, pending.status.state);
      void send(writer, host, pending);
    }
  }
  if (Number.isFinite(next) && host.queue.size > 0) host.timer = clock.setTimer(() => pump(writer, host), Math.max(0, next - now));
  settleIdle(writer);
}

async function send(writer: Writer, host: Host, pending: Pending): Promise<void> {
  const { route } = host;
  try {
    const client = await (host.client ??= route.statuses.client({ apiUrl: route.apiUrl, token: route.token, send: transport(writer, route.apiUrl) }));
    try {
      await client.set(pending.target, pending.status);
      writer.sent.set(pending.key, pending.status.state);
      writer.options.reporter?.outcome(route.type, 'sent');
    } catch (error) {
      failed(writer, host, pending, error, client);
    }
  } catch (error) {
    failed(writer, host, pending, error);
  } finally {
    host.sending.delete(pending.key);
    if (!writer.stopped) pump(writer, host);
    settleIdle(writer);
  }
}

/** The pinned transport with a time limit per request. */
function transport(writer: Writer, apiUrl: string): HostFetch {
  const pinned = pinnedFetch(new URL(apiUrl).origin, writer.options.fetch);
  return (request) => pinned(request, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
}

/** A failed request: paused for a rate limit, retried when the host or the network failed, else dropped and said. */
function failed(writer: Writer, host: Host, pending: Pending, error: unknown, client?: CommitStatusClient): void {
  const { clock, reporter } = writer.options;
  const now = clock.now();
  const again = (notBefore: number) => {
    // A newer state queued meanwhile wins over this one.
    if (!host.queue.has(pending.key)) host.queue.set(pending.key, { ...pending, attempts: pending.attempts + 1, notBefore });
  };
  // GitHub's secondary rate limit is a 403 with Retry-After and remaining quota: a pause too, as register waits it out.
  if (error instanceof HostError && (error.rateLimited || (error.status === 403 && error.headers.has('retry-after')))) {
    const wait = rateLimitWait(new Response(null, { status: error.status === 0 ? 429 : error.status, headers: error.headers }), now, pending.attempts + 1);
    host.pausedUntil = now + Math.min(wait?.waitMs ?? 60_000, MAX_PAUSE_MS);
    reporter?.outcome(host.route.type, 'rate_limited');
    say(writer, host, 'warn', `${host.route.statuses.spec.title} is rate-limiting commit statuses: paused`, { provider: host.route.provider, resumeInMs: host.pausedUntil - now, reason: wait?.reason });
    return again(host.pausedUntil);
  }
  const transient = !(error instanceof OutboundRefusal) && (!(error instanceof HostError) || error.status >= 500 || error.status === 0);
  if (transient && pending.attempts + 1 < ATTEMPTS) {
    const policy = { maxAttempts: ATTEMPTS, initialDelayMs: 1000, maxDelayMs: 30_000, random: writer.options.random ?? Math.random };
    return again(now + backoffDelay(policy, pending.attempts + 1));
  }
  reporter?.outcome(host.route.type, 'failed');
  const advice = client ? client.explain(error, pending.target) : `${host.route.statuses.spec.title}: ${(error as Error)?.message ?? String(error)}`;
  say(writer, host, 'error', 'commit status not written', { provider: host.route.provider, repository: pending.target.repository, error: advice });
}

/** Logs a host's problem at most once a minute per text (a host refusing every status writes one line, not thousands). */
function say(writer: Writer, host: Host, level: 'warn' | 'error', message: string, fields: Record<string, unknown>): void {
  const { clock, log } = writer.options;
  const text = `${message}|${String(fields.error ?? '')}`;
  const last = host.logged.get(text);
  if (last !== undefined && clock.now() - last < LOG_EVERY_MS) return;
  if (host.logged.size > 100) host.logged.clear();
  host.logged.set(text, clock.now());
  log[level](message, fields);
}

function settleIdle(writer: Writer): void {
  const busy = [...writer.hosts.values()].some((host) => host.queue.size > 0 || host.sending.size > 0);
  if (!busy) for (const resolve of writer.idlers.splice(0)) resolve();
}
