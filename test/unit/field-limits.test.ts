import { describe, expect, it } from 'vitest';
import { uploadRequestSchema } from '../../functions/destinations/registry.ts';
import { parseOrThrow } from '../../shared/contract/validate.ts';
import { ValidationError } from '../../shared/errors.ts';

const s3 = { type: 's3', bucket: 'my-videos', filename: 'renders/a.mp4', aws_access_key_id: 'AKIAIOSFODNN7EXAMPLE', aws_secret_access_key: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };
const sftp = { type: 'sftp', host: 'sftp.example.com', filename: '/videos/a.mp4', user: 'deploy' };
const facebook = { type: 'facebook', title: 'Welcome', description: 'A video.', oauth_access_token: 'EAABtoken' };
const privateKey = (body: string) => `-----BEGIN OPENSSH PRIVATE KEY-----\n${body}\n-----END OPENSSH PRIVATE KEY-----\n`;

/** The paths a request with `destination` is refused on, each once; [] when it is taken. */
function refusedPaths(destination: Record<string, unknown>): string[] {
  try {
    parseOrThrow(uploadRequestSchema, { source: { url: 'https://renders.example.com/a.mp4' }, upload: { destination } });
    return [];
  } catch (error) {
    if (error instanceof ValidationError) return [...new Set(error.fields.map((field) => field.path))];
    throw error;
  }
}

describe('Destination fields that had no bound', () => {
  it.each(['us-east-1', 'eu-central-1', 'auto', 'us-west-004', 'nyc3', 'cn-north-1', 'us-gov-west-1', 'a'.repeat(63)])('takes the S3 region %s', (region) => {
    expect(refusedPaths({ ...s3, region })).toEqual([]);
  });

  // The region names the signing scope and STS's host (sts.<region>.amazonaws.com): a host label at most.
  it.each([
    ['longer than a host label', 'a'.repeat(64)],
    ['of a megabyte', 'a'.repeat(1024 * 1024)],
    ['empty', ''],
    ['starting with a hyphen', '-eu-west-1'],
    ['ending with a hyphen', 'eu-west-1-'],
    ['with a dot, which would add a label to the host', 'eu-west-1.evil'],
    ['in upper case', 'EU-WEST-1'],
  ])('refuses an S3 region %s, naming region', (_case, region) => {
    expect(refusedPaths({ ...s3, region })).toEqual(['upload.destination.region']);
  });

  it.each([
    ['s3host', { ...s3, s3host: `${'a'.repeat(300)}.amazonaws.com` }, 'upload.destination.s3host'],
    ['kms_key_id', { ...s3, encryption: 'aws:kms', kms_key_id: `arn:aws:kms:eu-west-1:111122223333:key/${'a'.repeat(2048)}` }, 'upload.destination.kms_key_id'],
    ['sftp private_key', { ...sftp, private_key: privateKey('A'.repeat(40_000)) }, 'upload.destination.private_key'],
    ['facebook name', { ...facebook, name: 'n'.repeat(256) }, 'upload.destination.name'],
  ])('refuses %s past its bound, naming it', (_case, destination, path) => {
    expect(refusedPaths(destination)).toEqual([path]);
  });

  it('refuses a Facebook post text that message, description and caption make too long together, naming description', () => {
    // Each is within its own bound; joined (a blank line between them) they are 63,208 characters,
    // and two fewer make the most Graph takes.
    const half = 'a'.repeat(31_603);
    expect(refusedPaths({ ...facebook, message: half, description: half.replaceAll('a', 'b') })).toEqual(['upload.destination.description']);
    expect(refusedPaths({ ...facebook, message: half.slice(2), description: half.replaceAll('a', 'b') })).toEqual([]);
  });

  // The key id travels in a request header (x-amz-server-side-encryption-aws-kms-key-id).
  it.each([['CR LF', 'alias/renders\r\nX-Injected: 1'], ['NUL', 'alias/renders\u0000']])('refuses a kms_key_id holding %s, naming it', (_case, kmsKeyId) => {
    expect(refusedPaths({ ...s3, encryption: 'aws:kms', kms_key_id: kmsKeyId })).toEqual(['upload.destination.kms_key_id']);
  });

  it('takes a large private key and a kms key ARN', () => {
    expect(refusedPaths({ ...sftp, private_key: privateKey('A'.repeat(12_000)) })).toEqual([]);
    expect(refusedPaths({ ...facebook, name: 'Welcome' })).toEqual([]);
    expect(refusedPaths({ ...s3, encryption: 'aws:kms', kms_key_id: 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab' })).toEqual([]);
  });
});
