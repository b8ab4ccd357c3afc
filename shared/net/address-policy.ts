import { isIP } from 'node:net';
import { addressBytes, contains, formatIpv4, network, type Network } from './ip-address.ts';

/**
 * The one table of addresses a deployed service must never be steered into: loopback, private
 * and link-local networks (instance metadata at 169.254.169.254, 169.254.170.2 and
 * fd00:ec2::254 among them), carrier-grade NAT, and the special-purpose blocks of IANA's IPv4 and
 * IPv6 registries that are not globally reachable. NAT64 and Teredo are refused whole: their
 * gateways reach IPv4 networks that the guard cannot see from here.
 */
const refusedNetworks: readonly (Network & { readonly name: string })[] = (
  [
    ['0.0.0.0/8', '"this network"'],
    ['10.0.0.0/8', 'private'],
    ['100.64.0.0/10', 'carrier-grade NAT'],
    ['127.0.0.0/8', 'loopback'],
    ['169.254.0.0/16', 'link-local, instance metadata'],
    ['172.16.0.0/12', 'private'],
    ['192.0.0.0/24', 'IETF protocol assignments'],
    ['192.0.2.0/24', 'documentation'],
    ['192.168.0.0/16', 'private'],
    ['198.18.0.0/15', 'benchmarking'],
    ['198.51.100.0/24', 'documentation'],
    ['203.0.113.0/24', 'documentation'],
    ['224.0.0.0/4', 'multicast'],
    ['240.0.0.0/4', 'reserved, broadcast'],
    ['::/128', 'unspecified'],
    ['::1/128', 'loopback'],
    ['64:ff9b::/96', 'NAT64'],
    ['64:ff9b:1::/48', 'local-use NAT64'],
    ['100::/64', 'discard-only'],
    ['100:0:0:1::/64', 'dummy prefix'],
    ['2001::/32', 'Teredo'],
    ['2001:2::/48', 'benchmarking'],
    ['2001:db8::/32', 'documentation'],
    ['3fff::/20', 'documentation'],
    ['5f00::/16', 'segment routing (SRv6)'],
    ['fc00::/7', 'unique local'],
    ['fe80::/10', 'link-local'],
    ['fec0::/10', 'site-local'],
    ['ff00::/8', 'multicast'],
  ] as const
).map(([cidr, name]) => ({ ...network(cidr), name }));

/**
 * IPv6 forms that carry an IPv4 address: the socket reaches (or is routed towards) that IPv4
 * address, so it is judged by the same table. `offset` is where its four bytes start.
 */
const ipv4Carriers: readonly (Network & { readonly name: string; readonly offset: number })[] = [
  { ...network('::ffff:0:0/96'), name: 'IPv4-mapped', offset: 12 },
  { ...network('::/96'), name: 'IPv4-compatible', offset: 12 },
  { ...network('2002::/16'), name: '6to4', offset: 2 },
];

function refusalOfBytes(bytes: Uint8Array): string | undefined {
  const refused = refusedNetworks.find((block) => contains(block, bytes));
  if (refused) return `in ${refused.cidr} (${refused.name})`;
  const carrier = ipv4Carriers.find((block) => contains(block, bytes));
  if (!carrier) return undefined;
  const ipv4 = bytes.subarray(carrier.offset, carrier.offset + 4);
  const inner = refusalOfBytes(ipv4);
  return inner === undefined ? undefined : `${carrier.name} form of ${formatIpv4(ipv4)}, ${inner}`;
}

/**
 * Why the service may not connect to the IP address `address`, or undefined when it may.
 * Anything that is not an IP literal is refused: a caller that cannot say where it connects
 * must not connect.
 *
 * @example
 * ```ts
 * addressRefusal('169.254.169.254'); // 'in 169.254.0.0/16 (link-local, instance metadata)'
 * addressRefusal('::ffff:7f00:1'); // 'IPv4-mapped form of 127.0.0.1, in 127.0.0.0/8 (loopback)'
 * addressRefusal('93.184.215.14'); // undefined
 * ```
 */
export function addressRefusal(address: string): string | undefined {
  const bytes = addressBytes(address);
  return bytes ? refusalOfBytes(bytes) : `'${address}' is not an IP address`;
}

/**
 * Whether the service may connect to the IP address `address` (see {@link addressRefusal}).
 *
 * @example
 * ```ts
 * isAllowedAddress('2606:4700::1111'); // true
 * isAllowedAddress('fd00:ec2::254'); // false: the AWS IPv6 metadata address
 * ```
 */
export function isAllowedAddress(address: string): boolean {
  return addressRefusal(address) === undefined;
}

/**
 * Without DNS: why the service may not connect to `host` (a name or an IP literal, IPv6 in
 * brackets or not), or undefined when nothing about the host itself forbids it. Names are first
 * normalised as a URL parser does, so encoded IPv4 forms (`2130706433`, `0177.0.0.1`, `0x7f.1`,
 * `127.1`, the forms `inet_aton` also accepts) are judged as the address they stand for.
 * `localhost` names are refused, and so are names ending in a dot: `example.com.` reaches the same
 * place as `example.com` but slips past host-name comparisons.
 *
 * @example
 * ```ts
 * hostRefusal('0x7f.1'); // 'in 127.0.0.0/8 (loopback)'
 * hostRefusal('api.localhost'); // 'a localhost name'
 * hostRefusal('s3.eu-west-1.amazonaws.com'); // undefined
 * ```
 */
export function hostRefusal(host: string): string | undefined {
  const unbracketed = host.replace(/^\[(.*)\]$/, '$1');
  if (isIP(unbracketed) !== 0) return addressRefusal(unbracketed);
  let name: string;
  try {
    name = new URL(`http://${host}`).hostname;
  } catch (error) {
    return `'${host}' is not a valid host name (${(error as Error).message})`;
  }
  if (isIP(name) !== 0) return addressRefusal(name);
  if (name === 'localhost' || name.endsWith('.localhost')) return 'a localhost name';
  if (name.endsWith('.')) return 'a name ending in a dot';
  return undefined;
}

/**
 * The host of a URL, or of a bare `host[:port]`, as a URL parser reads it (lower case, IPv4
 * encodings decoded, IPv6 without brackets).
 *
 * @example
 * ```ts
 * hostOf('https://[::1]:9000/x'); // '::1'
 * hostOf('127.1:4569'); // '127.0.0.1'
 * ```
 */
export function hostOf(address: string): string {
  const url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(address) ? address : `https://${address}`);
  return url.hostname.replace(/^\[|\]$/g, '');
}

/**
 * Without DNS: does the URL or `host[:port]` plainly name a refused place (an IP literal in a
 * refused network, a localhost name, a name ending in a dot)? The door's cheap check, so a
 * request can be answered 400 at once; the guarded connections check what names resolve to.
 *
 * @example
 * ```ts
 * namesPrivateNetwork('http://[::ffff:127.0.0.1]:9000/x'); // true
 * namesPrivateNetwork('https://s3.eu-west-1.amazonaws.com'); // false
 * ```
 */
export function namesPrivateNetwork(address: string): boolean {
  return hostRefusal(hostOf(address)) !== undefined;
}
