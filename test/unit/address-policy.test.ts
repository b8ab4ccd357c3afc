import { describe, expect, it } from 'vitest';
import { hostMatches } from '../../shared/net/host-patterns.ts';
import { classifyGeneric } from '../../shared/delivery/classify.ts';
import { PermanentError } from '../../shared/errors.ts';
import { addressRefusal, hostOf, hostRefusal, isAllowedAddress, namesPrivateNetwork } from '../../shared/net/address-policy.ts';
import { AddressNotAllowedError } from '../../shared/net/address-not-allowed-error.ts';
import { refusalBeforeConnect } from '../../shared/net/guarded-connect.ts';
import { addressBytes, network } from '../../shared/net/ip-address.ts';
import { isRedirectAllowed } from '../../shared/net/redirects.ts';

/** Hosts (names and IP literals) the guard must refuse, with what each stands for. */
const refusedHosts = [
  // IPv4, every refused block
  ['0.0.0.0', '"this network"'],
  ['0.1.2.3', '"this network"'],
  ['10.0.0.1', 'private'],
  ['10.255.255.255', 'private'],
  ['100.64.0.1', 'carrier-grade NAT'],
  ['100.127.255.254', 'carrier-grade NAT'],
  ['127.0.0.1', 'loopback'],
  ['127.255.255.254', 'loopback'],
  ['169.254.169.254', 'instance metadata'],
  ['169.254.170.2', 'container credentials'],
  ['172.16.0.1', 'private'],
  ['172.31.255.255', 'private'],
  ['192.0.0.1', 'IETF protocol assignments'],
  ['192.0.2.1', 'documentation'],
  ['192.168.1.1', 'private'],
  ['198.18.0.1', 'benchmarking'],
  ['198.19.255.255', 'benchmarking'],
  ['198.51.100.7', 'documentation'],
  ['203.0.113.9', 'documentation'],
  ['224.0.0.1', 'multicast'],
  ['239.255.255.250', 'multicast'],
  ['240.0.0.1', 'reserved'],
  ['255.255.255.255', 'broadcast'],
  // IPv6, every refused block
  ['::', 'unspecified'],
  ['::1', 'loopback'],
  ['[::1]', 'loopback, bracketed'],
  ['fc00::1', 'unique local'],
  ['fd00:ec2::254', 'AWS IPv6 instance metadata'],
  ['fe80::1', 'link-local'],
  ['fe80::1%eth0', 'link-local with a zone'],
  ['fec0::1', 'site-local'],
  ['ff02::1', 'multicast'],
  ['64:ff9b::a9fe:a9fe', 'NAT64 of 169.254.169.254'],
  ['64:ff9b::808:808', 'NAT64, refused whole'],
  ['64:ff9b:1::1', 'local-use NAT64'],
  ['2001:db8::1', 'documentation'],
  ['100::1', 'discard-only'],
  ['2001::1', 'Teredo'],
  ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'Teredo'],
  // IPv4 inside IPv6
  ['::ffff:127.0.0.1', 'IPv4-mapped loopback'],
  ['::ffff:7f00:1', 'IPv4-mapped loopback, hex'],
  ['[::ffff:127.0.0.1]', 'IPv4-mapped loopback, bracketed'],
  ['::ffff:169.254.169.254', 'IPv4-mapped metadata'],
  ['::ffff:a9fe:a9fe', 'IPv4-mapped metadata, hex'],
  ['::127.0.0.1', 'IPv4-compatible loopback'],
  ['::7f00:1', 'IPv4-compatible loopback, hex'],
  ['::10.0.0.1', 'IPv4-compatible private'],
  ['2002:7f00:1::', '6to4 of 127.0.0.1'],
  ['2002:a9fe:a9fe::1', '6to4 of 169.254.169.254'],
  ['2002:c0a8:101::1', '6to4 of 192.168.1.1'],
  // IPv4 written the other ways a URL parser or inet_aton reads
  ['2130706433', 'decimal 127.0.0.1'],
  ['0177.0.0.1', 'octal 127.0.0.1'],
  ['017700000001', 'octal 127.0.0.1, one number'],
  ['0x7f.1', 'hex 127.0.0.1, short'],
  ['0x7F.0.0.1', 'hex 127.0.0.1, upper case'],
  ['0x7f000001', 'hex 127.0.0.1, one number'],
  ['127.1', 'short 127.0.0.1'],
  ['10.1', 'short 10.0.0.1'],
  ['0xa9.0xfe.0xa9.0xfe', 'hex 169.254.169.254'],
  ['3232235777', 'decimal 192.168.1.1'],
  ['%31%32%37.0.0.1', 'percent-encoded 127.0.0.1'],
  // names
  ['localhost', 'localhost'],
  ['LOCALHOST', 'localhost, upper case'],
  ['api.localhost', 'a localhost subdomain'],
  ['localhost.', 'localhost with a trailing dot'],
  ['example.com.', 'a trailing dot'],
] as const;

/** Public hosts the guard must let through. */
const allowedHosts = [
  ['93.184.215.14', 'a public IPv4 address'],
  ['8.8.8.8', 'a public resolver'],
  ['52.216.0.1', 'an S3 address'],
  ['172.32.0.1', 'just past 172.16.0.0/12'],
  ['100.128.0.1', 'just past carrier-grade NAT'],
  ['198.20.0.1', 'just past benchmarking'],
  ['2606:4700::1111', 'a public IPv6 address'],
  ['[2606:4700::1111]', 'a public IPv6 address, bracketed'],
  ['2600:1f18::1', 'an AWS IPv6 address'],
  ['::ffff:8.8.8.8', 'IPv4-mapped public'],
  ['2002:808:808::1', '6to4 of a public address'],
  ['example.com', 'a name'],
  ['s3.eu-west-1.amazonaws.com', 'an S3 endpoint'],
  ['localhost.example.com', 'a name that merely starts with localhost'],
  ['bücher.example', 'an international name'],
] as const;

describe('Function: hostRefusal', () => {
  it.each(refusedHosts)('refuses %s (%s)', (host) => {
    expect(hostRefusal(host)).toBeDefined();
  });

  it.each(allowedHosts)('allows %s (%s)', (host) => {
    expect(hostRefusal(host)).toBeUndefined();
  });

  it('refuses a host that is no valid host name, saying so', () => {
    expect(hostRefusal('a b')).toMatch(/not a valid host name/);
  });
});

describe('Function: addressRefusal', () => {
  it.each([
    ['169.254.169.254', 'in 169.254.0.0/16 (link-local, instance metadata)'],
    ['::ffff:7f00:1', 'IPv4-mapped form of 127.0.0.1, in 127.0.0.0/8 (loopback)'],
    ['::127.0.0.1', 'IPv4-compatible form of 127.0.0.1, in 127.0.0.0/8 (loopback)'],
    ['2002:7f00:1::', '6to4 form of 127.0.0.1, in 127.0.0.0/8 (loopback)'],
    ['64:ff9b::a9fe:a9fe', 'in 64:ff9b::/96 (NAT64)'],
    ['fd00:ec2::254', 'in fc00::/7 (unique local)'],
  ])('names the range that refuses %s', (address, reason) => {
    expect(addressRefusal(address)).toBe(reason);
  });

  it('refuses what is not an IP address: a caller that cannot say where it connects must not connect', () => {
    expect(addressRefusal('example.com')).toBe("'example.com' is not an IP address");
    expect(isAllowedAddress('127.1')).toBe(false);
  });

  it('allows public addresses', () => {
    expect(isAllowedAddress('93.184.215.14')).toBe(true);
    expect(isAllowedAddress('2606:4700::1111')).toBe(true);
  });
});

describe('Function: refusalBeforeConnect', () => {
  const literals = [...refusedHosts, ...allowedHosts]
    .map(([host]) => host.replace(/^\[(.*)\]$/, '$1'))
    .filter((host) => addressBytes(host) !== undefined);

  it.each(literals)('decides the IP literal %s as the door does, from the same table', (host) => {
    const atConnect = refusalBeforeConnect({ host }, { allowPrivateNetworks: false }) !== undefined;

    expect(atConnect).toBe(hostRefusal(host) !== undefined);
  });

  it('refuses a Unix socket, and connecting without a host (net.connect then goes to localhost)', () => {
    expect(refusalBeforeConnect({ path: '/var/run/docker.sock' }, { allowPrivateNetworks: false })).toBeInstanceOf(AddressNotAllowedError);
    expect(refusalBeforeConnect({}, { allowPrivateNetworks: false })).toBeUndefined();
  });

  it('refuses nothing when private networks are allowed', () => {
    expect(refusalBeforeConnect({ host: '127.0.0.1' }, { allowPrivateNetworks: true })).toBeUndefined();
  });
});

describe('Function: namesPrivateNetwork', () => {
  it.each([
    'http://localhost:9000/x',
    'http://[::1]:9000/x',
    'https://[::ffff:127.0.0.1]/',
    'http://[fd00:ec2::254]/latest/meta-data/',
    'http://169.254.169.254/latest/meta-data/',
    'http://2130706433/',
    'http://user@127.0.0.1/',
    'http://0x7f.1:8080/',
    '127.0.0.1:4569',
    'https://example.com./file.mp4',
  ])('refuses %s without DNS', (url) => {
    expect(namesPrivateNetwork(url)).toBe(true);
  });

  it.each(['https://s3.eu-west-1.amazonaws.com', 'https://[2606:4700::1111]/', 'https://cdn.example.com:8443/a.mp4', 'minio.example.com:9000'])(
    'allows %s',
    (url) => {
      expect(namesPrivateNetwork(url)).toBe(false);
    },
  );

  it('reads hosts as a URL parser does', () => {
    expect(hostOf('https://[::1]:9000/x')).toBe('::1');
    expect(hostOf('127.1:4569')).toBe('127.0.0.1');
  });
});

describe('Function: addressBytes', () => {
  it('reads the dotted and hex forms of an IPv4-mapped address as the same bytes', () => {
    expect(addressBytes('::ffff:127.0.0.1')).toEqual(addressBytes('::ffff:7f00:1'));
    expect(Array.from(addressBytes('::ffff:7f00:1') ?? [])).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 127, 0, 0, 1]);
  });

  it('leaves names and non-canonical IPv4 forms to the resolver', () => {
    expect(addressBytes('127.1')).toBeUndefined();
    expect(addressBytes('[::1]')).toBeUndefined();
  });

  it('fails when a network in the table is mistyped', () => {
    expect(() => network('10.0.0.0/33')).toThrow("'10.0.0.0/33' is not a network in CIDR notation");
  });
});

describe('Function: isRedirectAllowed', () => {
  it.each([
    ['https://cdn.example.com/a', 'https://other.example.org/b', true],
    ['http://cdn.example.com/a', 'https://cdn.example.com/a', true],
    ['http://cdn.example.com/a', 'http://cdn.example.com/b', true],
    ['https://cdn.example.com/a', '/relative/b', true],
    ['https://cdn.example.com/a', 'http://cdn.example.com/a', false],
    ['https://cdn.example.com/a', 'file:///etc/passwd', false],
    ['http://cdn.example.com/a', 'ftp://cdn.example.com/a', false],
  ] as const)('from %s to %s: %s', (from, to, allowed) => {
    expect(isRedirectAllowed(from, to)).toBe(allowed);
  });
});

describe('Classifying a refused connection', () => {
  it('is permanent, names the host and address, and keeps the cause', () => {
    // Prepare
    const refused = new AddressNotAllowedError('rebind.test', '127.0.0.1', 'in 127.0.0.0/8 (loopback)');
    const thrown = new TypeError('fetch failed', { cause: refused });

    // Act
    const error = classifyGeneric(thrown);

    // Assess
    expect(error).toBeInstanceOf(PermanentError);
    expect(error).toMatchObject({ code: 'EADDRNOTALLOWED', retryable: false, cause: thrown });
    expect(error.message).toBe(
      "fetch failed: connection to 'rebind.test' (resolved to 127.0.0.1) refused: in 127.0.0.0/8 (loopback); the service connects to public addresses only",
    );
  });
});

describe('Function: hostMatches', () => {
  it.each([
    ['s3.eu-west-1.amazonaws.com', ['*.amazonaws.com'], true],
    ['S3.EU-WEST-1.AMAZONAWS.COM.', ['*.amazonaws.com'], true],
    ['amazonaws.com', ['*.amazonaws.com'], false],
    ['evilamazonaws.com', ['*.amazonaws.com'], false],
    ['amazonaws.com.evil.example', ['*.amazonaws.com'], false],
    ['renders.example.com', ['renders.example.com'], true],
    ['cdn.renders.example.com', ['renders.example.com'], false],
    ['127.0.0.1', ['127.0.0.1', 'localhost'], true],
  ])('%s against %j: %s', (host, patterns, expected) => {
    expect(hostMatches(host, patterns)).toBe(expected);
  });
});
