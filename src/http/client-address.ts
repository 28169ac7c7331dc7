/**
 * The address a request came from, for providers' `allowedSources`: the TCP peer, or — when the peer is one of
 * `server.trustedProxies` — the right-most address of `X-Forwarded-For` that is not itself a trusted proxy (what
 * a chain of proxies appends; anything left of it the client could have written).
 */
import { ipFamily } from '../core/index.ts';
import type { BlockList } from 'node:net';

function trusted(proxies: BlockList, address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  try {
    return mapped ? proxies.check(mapped[1]!, 'ipv4') : proxies.check(address, ipFamily(address) === 6 ? 'ipv6' : 'ipv4');
  } catch {
    return false;
  }
}

/**
 * @example clientAddress('10.0.0.5', '203.0.113.9, 10.0.0.4', proxies /* 10.0.0.0/8 *\/) // '203.0.113.9'
 */
export function clientAddress(peer: string | undefined, forwardedFor: string | null, proxies: BlockList | undefined): string | undefined {
  if (peer === undefined || proxies === undefined || forwardedFor === null || !trusted(proxies, peer)) return peer;
  const hops = forwardedFor.split(',').map((hop) => hop.trim());
  for (let index = hops.length - 1; index >= 0; index -= 1) {
    const hop = hops[index]!;
    if (ipFamily(hop) === 0) return undefined; // a malformed list proves nothing
    if (!trusted(proxies, hop)) return hop;
  }
  return undefined;
}
