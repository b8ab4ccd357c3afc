import { describe, expect, it } from 'vitest';
import { uploadRequestSchema } from '../../functions/destinations/registry.ts';
import { sftpDestinationSchemaWith } from '../../functions/destinations/sftp/schema.ts';
import { secretFieldNames, splitSecrets } from '../../shared/contract/field-kinds.ts';
import { parseOrThrow } from '../../shared/contract/validate.ts';
import { ValidationError } from '../../shared/errors.ts';

const privateKey = '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n';
const fingerprint = 'SHA256:NdTaKgdlnB/loUj59hbVs32nxlqeVt5DjtPr+yRphq4';

function request(destination: Record<string, unknown>) {
  return {
    source: { url: 'https://renders.example.com/a.mp4' },
    upload: {
      extension: 'mp4',
      destination: { type: 'sftp', host: 'sftp.example.com', filename: '/videos/welcome.mp4', user: 'sftpuser', password: 'sftppass', ...destination },
    },
  };
}

/** The `path: message` pairs a request is rejected with. */
function rejection(input: unknown, schema: Parameters<typeof parseOrThrow>[0] = uploadRequestSchema): Record<string, string> {
  try {
    parseOrThrow(schema, input);
  } catch (error) {
    if (error instanceof ValidationError) return Object.fromEntries(error.fields.map((field) => [field.path, field.message]));
    throw error;
  }
  throw new Error('the request was accepted');
}

describe('the SFTP destination fields', () => {
  it('accepts the seed-style example and applies the default port', () => {
    const parsed = parseOrThrow(uploadRequestSchema, request({}));

    expect(parsed.upload.destination).toEqual({
      type: 'sftp',
      host: 'sftp.example.com',
      port: 22,
      user: 'sftpuser',
      password: 'sftppass',
      filename: '/videos/welcome.mp4',
    });
  });

  it('accepts a key with its passphrase, a port, a pinned host key and a credentials reference', () => {
    const parsed = parseOrThrow(
      uploadRequestSchema,
      request({ password: undefined, private_key: privateKey, passphrase: 'p', port: 2222, host_key: `${fingerprint}=`, credentials: 'team/sftp' }),
    );

    // ssh-keygen prints the fingerprint unpadded; a padded one is the same key.
    expect(parsed.upload.destination).toMatchObject({ port: 2222, host_key: fingerprint });
  });

  it('accepts credentials from a stored secret alone, and IPv6 hosts with or without brackets', () => {
    expect(parseOrThrow(uploadRequestSchema, request({ password: undefined, credentials: 'team-sftp' })).upload.destination).toBeDefined();
    expect(parseOrThrow(uploadRequestSchema, request({ host: '[2001:db8::7]' })).upload.destination).toMatchObject({ host: '2001:db8::7' });
  });

  it('marks password, private_key and passphrase as secrets, and host_key as none', () => {
    const destination = parseOrThrow(uploadRequestSchema, request({ private_key: privateKey, passphrase: 'p', host_key: fingerprint })).upload.destination!;

    const { open, secrets } = splitSecrets(sftpDestinationSchemaWith({ requireHostKey: false }), destination);

    expect(Object.keys(secrets).sort()).toEqual(['passphrase', 'password', 'private_key']);
    expect(open).toMatchObject({ host_key: fingerprint, user: 'sftpuser' });
    expect(secretFieldNames(sftpDestinationSchemaWith({ requireHostKey: false })).sort()).toEqual(['passphrase', 'password', 'private_key']);
  });

  it.each([
    ['a path that climbs out', request({ filename: '/videos/../etc/passwd' }), { 'upload.destination.filename': "must not contain '..' or empty segments ('a//b')" }],
    ['a path with a control character', request({ filename: '/videos/a\u0007.mp4' }), { 'upload.destination.filename': 'must not contain control characters' }],
    ['a path with an empty segment', request({ filename: '/videos//a.mp4' }), { 'upload.destination.filename': "must not contain '..' or empty segments ('a//b')" }],
    ['a missing filename', request({ filename: undefined }), { 'upload.destination.filename': 'is required' }],
    ['a missing host', request({ host: undefined }), { 'upload.destination.host': 'is required' }],
    ['a host given as a URL', request({ host: 'sftp://sftp.example.com' }), { 'upload.destination.host': expect.stringContaining('without scheme, port or path') }],
    ['a host with a port', request({ host: 'sftp.example.com:2222' }), { 'upload.destination.host': expect.stringContaining('give the port in port') }],
    ['a port out of range', request({ port: 70000 }), { 'upload.destination.port': 'must be a port number from 1 to 65535' }],
    ['a port given as text', request({ port: '22' }), { 'upload.destination.port': 'must be a number' }],
    ['a missing user', request({ user: undefined }), { 'upload.destination.user': 'is required' }],
    ['no password, key or stored credentials', request({ password: undefined }), { 'upload.destination.password': expect.stringContaining('is required unless private_key') }],
    ['a passphrase without a key', request({ passphrase: 'p' }), { 'upload.destination.passphrase': 'needs private_key (the key it decrypts)' }],
    ['a private key that is not one', request({ private_key: 'ssh-ed25519 AAAAC3Nza… me@host' }), { 'upload.destination.private_key': expect.stringContaining('OpenSSH or PEM format') }],
    ['a host key given as MD5', request({ host_key: 'MD5:16:27:ac:a5:76:28:2d:36:63:1b:56:4d:eb:df:a6:48' }), { 'upload.destination.host_key': expect.stringContaining('SHA256:') }],
    ['an unknown field', request({ passive: true }), { 'upload.destination.passive': 'is not a known field' }],
  ])('rejects %s, naming the field', (_case, input, expected) => {
    expect(rejection(input)).toEqual(expected);
  });

  it('never echoes a secret in an error', () => {
    const fields = rejection(request({ private_key: 'hunter2-not-a-key' }));

    expect(JSON.stringify(fields)).not.toContain('hunter2');
  });

  it('requires host_key where the deployment requires pinning, naming the field', () => {
    const pinning = sftpDestinationSchemaWith({ requireHostKey: true });

    expect(rejection(request({}).upload.destination, pinning)).toEqual({ host_key: expect.stringContaining('is required by this deployment') });
    expect(() => parseOrThrow(pinning, request({ host_key: fingerprint }).upload.destination)).not.toThrow();
  });
});
