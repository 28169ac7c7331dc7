/**
 * The connection to NATS that `state.nats` describes: servers, a credentials file (JWT and NKey seed, as `nsc`
 * writes it), TLS. The client reconnects by itself for as long as the process runs; while it is away, the journal
 * answers 503 (nats-journal.ts).
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { connect, credsAuthenticator, type NatsConnection } from '@nats-io/transport-node';
import type { NatsConfig } from '../config/index.ts';

/** The servers as logs and pages show them: a user and password in a URL become `***`. */
export function shownServers(servers: readonly string[]): string[] {
  return servers.map((server) => server.replace(/\/\/[^/@]*@/, '//***@'));
}

/** A request to NATS (a publish's ack, a KV write) that takes longer than this has failed. */
export const NATS_TIMEOUT_MS = 3_000;

/**
 * @example
 * const nc = await connectNats(config.state.nats, { configDir, replica: 'fluxgate-7f3c' });
 */
export async function connectNats(nats: NatsConfig, options: { configDir: string; replica: string }): Promise<NatsConnection> {
  const path = (file: string) => (isAbsolute(file) ? file : resolve(options.configDir, file));
  const read = (what: string, file: string) => {
    try {
      return readFileSync(path(file));
    } catch (error) {
      throw new Error(`state.nats.${what}: cannot read ${path(file)}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
  };
  const tls = nats.tls;
  if (tls) {
    // Read once here so a missing file is named at start, not hidden in a reconnect loop.
    if (tls.caFile) read('tls.caFile', tls.caFile);
    if (tls.certFile) read('tls.certFile', tls.certFile);
    if (tls.keyFile) read('tls.keyFile', tls.keyFile);
  }
  const credentials = nats.credentials !== undefined ? read('credentials', nats.credentials) : undefined;
  try {
    return await connect({
      servers: nats.servers,
      name: `fluxgate ${options.replica}`,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 1_000,
      timeout: NATS_TIMEOUT_MS,
      // The first connection may find a server down: try the others, and again, until the timeout.
      waitOnFirstConnect: false,
      ...(credentials ? { authenticator: credsAuthenticator(new Uint8Array(credentials)) } : {}),
      ...(tls ? { tls: { ...(tls.caFile ? { caFile: path(tls.caFile) } : {}), ...(tls.certFile ? { certFile: path(tls.certFile) } : {}), ...(tls.keyFile ? { keyFile: path(tls.keyFile) } : {}) } } : {}),
    });
  } catch (error) {
    // The client's message names the server it tried last; never a credential.
    throw new Error(`state.nats: cannot connect to ${shownServers(nats.servers).join(', ')}: ${(error as Error).message}`);
  }
}
