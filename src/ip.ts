/**
 * IP address helpers on node:net, which is loaded on first use: it brings Node's stream modules with it, and a
 * gateway without address rules (allowedSources, trustedProxies) should not pay for them at start-up.
 */
import type { BlockList } from 'node:net';

const net = () => require('node:net') as typeof import('node:net');

/** 4, 6, or 0 when `address` is not an IP address. */
export function ipFamily(address: string): 0 | 4 | 6 {
  return net().isIP(address) as 0 | 4 | 6;
}

/** An empty BlockList to add addresses and subnets to. */
export function newBlockList(): BlockList {
  return new (net().BlockList)();
}
