/**
 * An Elysia app behind fluxgate's own `Bun.serve` (listen.ts), never `app.listen()`: each request is first made
 * one whose path Elysia reads right (elysia-request.ts), and the TCP peer's address travels beside it.
 */
import type { AnyElysia } from 'elysia';
import type { Logger } from '../core/index.ts';
import { refuse } from './answers.ts';
import { forElysia } from './elysia-request.ts';
import { requestPath } from './route.ts';

/** What a listener calls: one request in, one answer out; never throws. */
export interface HttpApp {
  /** Answers one request (`peer()`: the TCP peer's address, when known; `untimed()`: lifts the idle timeout of its connection). */
  handle(request: Request, peer?: () => string | undefined, untimed?: () => void): Promise<Response>;
}

/** The TCP peer of each request being answered, by the Request Elysia was handed (a copy has no requestIP of its own). */
export interface Peers {
  of(request: Request): string | undefined;
  set(request: Request, peer: () => string | undefined, untimed?: () => void): void;
  /** This request's answer is a stream: server.idleTimeout no longer closes its connection. */
  untime(request: Request): void;
}

/** @example const peers = createPeers(); peers.of(request) // '203.0.113.9' */
export function createPeers(): Peers {
  // Weak: an entry lives as long as its request, whatever becomes of it.
  const peers = new WeakMap<Request, () => string | undefined>();
  const untimers = new WeakMap<Request, () => void>();
  return {
    of: (request) => peers.get(request)?.(),
    set(request, peer, untimed) {
      peers.set(request, peer);
      if (untimed) untimers.set(request, untimed);
    },
    untime: (request) => untimers.get(request)?.(),
  };
}

/**
 * Elysia's configuration for both listeners: `/metrics/` is not `/metrics` (strictPath), and a query keeps the
 * parameters a schema does not list, so the schema can refuse them (normalize off). `app.listen()` is never
 * called: its Bun.serve would set SO_REUSEPORT, and Elysia's router would still cut unmatched paths at the offset.
 */
export const ELYSIA_CONFIG = { strictPath: true, normalize: false } as const;

/** @example Bun.serve({ fetch: (request) => elysiaSurface(app, peers, log).handle(request) }) */
export function elysiaSurface(app: AnyElysia, peers: Peers, log: Logger): HttpApp {
  return {
    async handle(request, peer, untimed) {
      const routed = forElysia(request);
      if (peer) peers.set(routed, peer, untimed);
      try {
        // app.fetch, read each time: Elysia replaces it with the compiled handler on the first call.
        return await app.fetch(routed);
      } catch (error) {
        log.error('request failed', { path: requestPath(routed).slice(0, 140), error: error instanceof Error ? error.message : String(error) });
        return refuse(routed, 500, { error: 'internal error' });
      }
    },
  };
}
