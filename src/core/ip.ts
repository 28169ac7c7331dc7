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

/** Whether `value` is an IP address or a CIDR block (`10.0.0.0/8`, `2001:db8::/32`). */
export function isAddressBlock(value: string): boolean {
  const [address = '', bits, ...rest] = value.split('/');
  const family = ipFamily(address);
  if (family === 0 || rest.length > 0) return false;
  if (bits === undefined) return true;
  return /^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128);
}
