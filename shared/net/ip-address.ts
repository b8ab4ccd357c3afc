import { isIP } from 'node:net';

/**
 * The bytes of an IP literal: 4 for IPv4, 16 for IPv6 (a zone such as `%eth0` names an interface
 * and is dropped), or undefined when `address` is not an IP literal in the form `net.connect`
 * would use it as one (`net.isIP`).
 *
 * @example
 * ```ts
 * addressBytes('::ffff:127.0.0.1'); // Uint8Array [0, …, 0, 255, 255, 127, 0, 0, 1]
 * addressBytes('127.1'); // undefined: a name to resolve, not a literal
 * ```
 */
export function addressBytes(address: string): Uint8Array | undefined {
  const family = isIP(address);
  if (family === 4) return ipv4Bytes(address);
  if (family === 6) return ipv6Bytes(address.replace(/%.*$/, ''));
  return undefined;
}

function ipv4Bytes(address: string): Uint8Array {
  return Uint8Array.from(address.split('.'), Number);
}

/** Sixteen-bit groups of one side of `::`; a dotted IPv4 tail counts as two. */
function groupsOf(part: string): number[] {
  if (part === '') return [];
  return part.split(':').flatMap((piece) => {
    if (!piece.includes('.')) return [Number.parseInt(piece, 16)];
    const [a = 0, b = 0, c = 0, d = 0] = ipv4Bytes(piece);
    return [(a << 8) | b, (c << 8) | d];
  });
}

/** Expects a literal `net.isIP` accepted as IPv6, without its zone. */
function ipv6Bytes(address: string): Uint8Array {
  const [head = '', tail] = address.split('::');
  const leading = groupsOf(head);
  const trailing = tail === undefined ? [] : groupsOf(tail);
  const groups = [...leading, ...new Array<number>(8 - leading.length - trailing.length).fill(0), ...trailing];
  return Uint8Array.from(groups.flatMap((group) => [group >> 8, group & 0xff]));
}

/**
 * `a.b.c.d` of four bytes.
 *
 * @example
 * ```ts
 * formatIpv4(Uint8Array.of(169, 254, 169, 254)); // '169.254.169.254'
 * ```
 */
export function formatIpv4(bytes: Uint8Array): string {
  return Array.from(bytes).join('.');
}

/** An address block in CIDR notation, parsed once. */
export interface Network {
  readonly cidr: string;
  readonly bytes: Uint8Array;
  readonly prefixLength: number;
}

/**
 * Parses `address/prefix` (`10.0.0.0/8`, `fc00::/7`). Throws on anything else: networks are
 * written in the source, so a typo must stop the module from loading.
 *
 * @example
 * ```ts
 * contains(network('100.64.0.0/10'), addressBytes('100.127.255.255')!); // true
 * ```
 */
export function network(cidr: string): Network {
  const [address = '', prefix = ''] = cidr.split('/');
  const bytes = addressBytes(address);
  const prefixLength = Number(prefix);
  if (!bytes || !Number.isInteger(prefixLength) || prefixLength < 0 || prefixLength > bytes.length * 8) {
    throw new Error(`'${cidr}' is not a network in CIDR notation (address/prefix length)`);
  }
  return { cidr, bytes, prefixLength };
}

/**
 * Whether `address` (bytes of the same family) lies inside `block`.
 *
 * @example
 * ```ts
 * contains(network('fc00::/7'), addressBytes('fd00:ec2::254')!); // true
 * ```
 */
export function contains(block: Network, address: Uint8Array): boolean {
  if (address.length !== block.bytes.length) return false;
  for (let bit = 0; bit < block.prefixLength; bit += 8) {
    const index = bit / 8;
    const mask = (0xff << (8 - Math.min(8, block.prefixLength - bit))) & 0xff;
    if (((address[index] ?? 0) & mask) !== ((block.bytes[index] ?? 0) & mask)) return false;
  }
  return true;
}
