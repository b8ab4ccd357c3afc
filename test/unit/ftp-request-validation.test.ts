import { describe, expect, it } from 'vitest';
import { ftpDestination } from '../../functions/destinations/ftp/schema.ts';
import { ftpServerOf } from '../../functions/destinations/ftp/upload.ts';
import { uploadRequestSchema } from '../../functions/destinations/registry.ts';
import { parseOrThrow } from '../../shared/contract/validate.ts';
import { namesPrivateNetwork } from '../../shared/net/address-policy.ts';
import { ValidationError } from '../../shared/errors.ts';

/** The seeds' FTP example, as written there. */
const seedExample = { type: 'ftp', host: 'ftp.example.com', filename: '/videos/welcome.mp4', user: 'ftpuser', password: 'ftppass' };

function request(destination: Record<string, unknown>) {
  return { source: { url: 'https://renders.example.com/a.mp4' }, upload: { extension: 'mp4', destination: { ...seedExample, ...destination } } };
}

function accepted(destination: Record<string, unknown>): Record<string, unknown> {
  return parseOrThrow(uploadRequestSchema, request(destination)).upload.destination as Record<string, unknown>;
}

/** The `path: message` pairs a request is rejected with. */
function rejection(destination: Record<string, unknown>): Record<string, string> {
  try {
    parseOrThrow(uploadRequestSchema, request(destination));
  } catch (error) {
    if (error instanceof ValidationError) return Object.fromEntries(error.fields.map((field) => [field.path, field.message]));
    throw error;
  }
  throw new Error('the request was accepted');
}

const fingerprint = 'a1'.repeat(32);
const normalizedFingerprint = Array.from({ length: 32 }, () => 'A1').join(':');

describe('the FTP destination in the upload request', () => {
  it("accepts the seeds' example as written, with the seeds' defaults", () => {
    expect(accepted({})).toEqual({ ...seedExample, passive: false, epsv: false, secure: false });
  });

  it('accepts every field: port, FTPS with a pinned certificate, EPSV, passive, a credentials reference', () => {
    const destination = accepted({
      host: 'ftp.example.com',
      port: 2121,
      secure: 'implicit',
      certificate_fingerprint: fingerprint,
      epsv: true,
      passive: true,
      user: undefined,
      password: undefined,
      credentials: 'team/ftp',
    });

    expect(destination).toMatchObject({ port: 2121, secure: 'implicit', certificate_fingerprint: normalizedFingerprint, epsv: true, passive: true, credentials: 'team/ftp' });
  });

  it('takes secure: true for explicit FTPS', () => {
    expect(accepted({ secure: true }).secure).toBe('explicit');
  });

  it.each([
    ['a host with a port', 'ftp.example.com:2121', { hostname: 'ftp.example.com', port: 2121 }],
    ['an IPv4 address', '203.0.113.7', { hostname: '203.0.113.7', port: 21 }],
    ['an IPv6 address in brackets with a port', '[2001:db8::7]:2121', { hostname: '2001:db8::7', port: 2121 }],
    ['a bare IPv6 address', '2001:db8::7', { hostname: '2001:db8::7', port: 21 }],
  ])('accepts %s as host', (_case, host, expected) => {
    expect(ftpServerOf(accepted({ host }) as never)).toMatchObject(expected);
  });

  it('connects to 990 for implicit FTPS and 21 otherwise, unless told', () => {
    expect(ftpServerOf(accepted({ secure: 'implicit' }) as never).port).toBe(990);
    expect(ftpServerOf(accepted({ secure: 'explicit' }) as never).port).toBe(21);
    expect(ftpServerOf(accepted({ host: 'ftp.example.com:2121', secure: 'implicit' }) as never).port).toBe(2121);
  });

  it('logs in anonymously when no user is given', () => {
    expect(ftpServerOf(accepted({ user: undefined, password: undefined }) as never)).toMatchObject({ user: 'anonymous', password: 'anonymous@' });
  });

  it('names the host as the address the service connects to, so the door refuses private ones', () => {
    expect(ftpDestination.endpointsOf(accepted({ host: '10.0.0.7:21' }) as never)).toEqual([{ field: 'host', address: '10.0.0.7:21' }]);
    expect(ftpDestination.endpointsOf(accepted({ host: '::1' }) as never)).toEqual([{ field: 'host', address: '[::1]' }]);
    expect(namesPrivateNetwork(ftpDestination.endpointsOf(accepted({ host: 'fd00:ec2::254' }) as never)[0]!.address)).toBe(true);
  });

  it.each([
    ['a missing host', { host: undefined }, { 'upload.destination.host': 'is required' }],
    ['a host with a scheme', { host: 'ftp://ftp.example.com' }, { 'upload.destination.host': expect.stringContaining('without a scheme') }],
    ['a host with a path', { host: 'ftp.example.com/videos' }, { 'upload.destination.host': expect.stringContaining('no path') }],
    ['a host with a user', { host: 'me@ftp.example.com' }, { 'upload.destination.host': expect.stringContaining('no user name') }],
    ['a host with a port out of range', { host: 'ftp.example.com:70000' }, { 'upload.destination.host': 'has a port outside 1–65535' }],
    ['a host that is no name', { host: 'ftp..example.com' }, { 'upload.destination.host': expect.stringContaining('must be a host name') }],
    ['a missing filename', { filename: undefined }, { 'upload.destination.filename': 'is required' }],
    ['a filename that climbs out', { filename: '/videos/../../etc/passwd' }, { 'upload.destination.filename': "must not contain '..' or empty segments ('a//b')" }],
    ['a filename carrying a command', { filename: '/videos/a.mp4\r\nDELE /important' }, { 'upload.destination.filename': 'must not contain control characters' }],
    ['a user with a line break', { user: 'ftpuser\r\nSITE EXEC x' }, { 'upload.destination.user': 'must not contain control characters' }],
    ['a password with a line break', { password: 'pass\nword' }, { 'upload.destination.password': 'must not contain control characters' }],
    ['a port of 0', { port: 0 }, { 'upload.destination.port': 'must be 1 to 65535' }],
    ['a port given as text', { port: '21' }, { 'upload.destination.port': 'must be a number' }],
    ['a port that contradicts host', { host: 'ftp.example.com:2121', port: 21 }, { 'upload.destination.port': 'conflicts with the port in host (2121); give it once' }],
    ['an unknown secure mode', { secure: 'tls' }, { 'upload.destination.secure': 'must be false, "explicit" or "implicit"' }],
    ['a passive that is not a boolean', { passive: 'yes' }, { 'upload.destination.passive': 'must be a boolean' }],
    ['an epsv that is not a boolean', { epsv: 1 }, { 'upload.destination.epsv': 'must be a boolean' }],
    ['a fingerprint that is not SHA-256', { secure: 'explicit', certificate_fingerprint: 'AB:CD' }, { 'upload.destination.certificate_fingerprint': expect.stringContaining('SHA-256') }],
    ['a fingerprint without FTPS', { certificate_fingerprint: fingerprint }, { 'upload.destination.certificate_fingerprint': 'needs secure "explicit" or "implicit"' }],
    ['an unknown field', { directory: '/videos' }, { 'upload.destination.directory': 'is not a known field' }],
  ])('rejects %s, naming the field', (_case, destination, expected) => {
    expect(rejection(destination)).toEqual(expected);
  });

  it('never echoes a user name or password in an error', () => {
    const fields = rejection({ user: 'secret-user\n', password: 'secret-pass\n' });

    expect(JSON.stringify(fields)).not.toContain('secret-user');
    expect(JSON.stringify(fields)).not.toContain('secret-pass');
  });
});
