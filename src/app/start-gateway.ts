/**
 * Starts the gateway, loading its module only then: the HTTP server, the store, reconcile and the observers it
 * wires are not loaded by the commands that only read a config (`validate`, `explain`, `register`, `retry`).
 */
import type { Gateway, GatewayOptions } from './gateway.ts';

export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const gateway = await import('./gateway.ts');
  return gateway.startGateway(options);
}
