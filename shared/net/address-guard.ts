import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/**
 * Networks a deployed service must never be steered into by a request: loopback, private,
 * link-local (instance metadata), carrier-grade NAT, unique-local and unspecified addresses.
 */
const privateNetworks = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
] as const) {
  privateNetworks.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
] as const) {
  privateNetworks.addSubnet(network, prefix, 'ipv6');
}

export function isPrivateAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (mapped) return isPrivateAddress(mapped);
  const family = isIP(address);
  if (family === 0) return false;
  return privateNetworks.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/** The host of a URL, or of a bare `host[:port]`. */
export function hostOf(address: string): string {
  const url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(address) ? address : `https://${address}`);
  return url.hostname.replace(/^\[|\]$/g, '');
}

/** Without DNS: is the address plainly on a private network (an IP literal, or `localhost`)? */
export function namesPrivateNetwork(address: string): boolean {
  const host = hostOf(address).toLowerCase();
  return host === 'localhost' || host.endsWith('.localhost') || isPrivateAddress(host);
}

/** With DNS: does the host resolve to any private address? (Checked right before connecting.) */
export async function resolvesToPrivateNetwork(address: string): Promise<boolean> {
  const host = hostOf(address);
  if (namesPrivateNetwork(host)) return true;
  const addresses = await lookup(host, { all: true, verbatim: true });
  return addresses.some((entry) => isPrivateAddress(entry.address));
}
