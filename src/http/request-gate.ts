/**
 * A cap on requests that wait for something (a body to arrive, the API server to answer a readiness check):
 * each holds a connection, its file descriptor and buffers until it ends. Bun.serve has no connection or
 * request cap of its own (its options are idleTimeout and maxRequestBodySize), so fluxgate counts here.
 */
export interface RequestGate {
  /** Lets a request in; false when `limit` requests are already in. */
  enter(): boolean;
  leave(): void;
  inFlight(): number;
}

/**
 * @example
 * const gate = createRequestGate(512);
 * if (!gate.enter()) return new Response('busy', { status: 503, headers: { 'retry-after': '5' } });
 * try { return await work(); } finally { gate.leave(); }
 */
export function createRequestGate(limit: number): RequestGate {
  let inside = 0;
  return {
    enter() {
      if (inside >= limit) return false;
      inside += 1;
      return true;
    },
    leave() {
      inside -= 1;
    },
    inFlight: () => inside,
  };
}

/**
 * Runs `work` inside the gate, or answers `busy()` when the gate is full; the request leaves the gate when
 * `work` settles, whatever it answers or throws.
 * @example gated(gate, () => json(503, { error: 'busy' }), () => readAndHandle(request))
 */
export async function gated(gate: RequestGate, busy: () => Response, work: () => Promise<Response>): Promise<Response> {
  if (!gate.enter()) return busy();
  try {
    return await work();
  } finally {
    gate.leave();
  }
}
