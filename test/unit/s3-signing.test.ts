import { PutObjectCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { s3ClientFor } from '../../functions/destinations/s3/client.ts';
import { s3DestinationSchema } from '../../functions/destinations/s3/schema.ts';
import { localNetwork } from '../support/network.ts';

/**
 * The headers a PutObject is sent with, read right after signing (nothing goes on the wire). Each
 * test uses an endpoint of its own: clients are shared per destination.
 */
async function signedHeaders(endpoint: string): Promise<Record<string, string>> {
  const client = s3ClientFor(
    s3DestinationSchema.parse({ type: 's3', bucket: 'bucket', filename: 'k', endpoint, aws_access_key_id: 'AKIA', aws_secret_access_key: 's' }),
    localNetwork,
  );
  let headers: Record<string, string> = {};
  client.middlewareStack.addRelativeTo(
    () => async (args: { request: unknown }) => {
      headers = { ...(args.request as { headers: Record<string, string> }).headers };
      throw new Error('captured');
    },
    { relation: 'after', toMiddleware: 'httpSigningMiddleware', name: 'capture' },
  );
  await expect(client.send(new PutObjectCommand({ Bucket: 'bucket', Key: 'k', Body: Buffer.from('payload') }))).rejects.toThrow('captured');
  return headers;
}

describe('S3 request signing', () => {
  it('does not hash the payload over TLS, where the part CRC-32 and TLS protect it', async () => {
    const headers = await signedHeaders('https://tls.example.com');

    expect(headers['x-amz-content-sha256']).toBe('UNSIGNED-PAYLOAD');
    expect(headers.authorization).toContain('x-amz-content-sha256');
  });

  it('signs the payload over plain http', async () => {
    const headers = await signedHeaders('http://plain.example.com');

    expect(headers['x-amz-content-sha256']).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('S3 part bodies over TLS', () => {
  it('go to the socket as a stream of 1 MiB slices, and each retry slices the part afresh', async () => {
    const client = s3ClientFor(
      s3DestinationSchema.parse({ type: 's3', bucket: 'bucket', filename: 'k', endpoint: 'https://slices.example.com', aws_access_key_id: 'AKIA', aws_secret_access_key: 's' }),
    localNetwork,
    );
    const bodies: unknown[] = [];
    client.middlewareStack.addRelativeTo(
      () => async (args: { request: unknown }) => {
        bodies.push((args.request as { body: unknown }).body);
        throw Object.assign(new Error('connection reset'), { name: 'TimeoutError', $metadata: {} });
      },
      { relation: 'after', toMiddleware: 'slicedBodyOverTls', name: 'capture' },
    );
    const part = Buffer.alloc(3 * 1024 * 1024 + 5, 1);

    await expect(client.send(new PutObjectCommand({ Bucket: 'bucket', Key: 'k', Body: part, ContentLength: part.length }))).rejects.toThrow();

    expect(bodies.length).toBeGreaterThan(1);
    const sliceSizes = [];
    for await (const slice of bodies[1] as AsyncIterable<Uint8Array>) sliceSizes.push(slice.length);
    expect(sliceSizes).toEqual([1048576, 1048576, 1048576, 5]);
  });
});

describe('S3 clients', () => {
  it('are shared by destinations with the same store, identity and network policy, and only by them', () => {
    const fields = { type: 's3', bucket: 'bucket', filename: 'k', endpoint: 'https://shared.example.com', aws_access_key_id: 'AKIA', aws_secret_access_key: 's' };
    const client = s3ClientFor(s3DestinationSchema.parse(fields), localNetwork);

    expect(s3ClientFor(s3DestinationSchema.parse({ ...fields, bucket: 'other-bucket', filename: 'x' }), localNetwork)).toBe(client);
    expect(s3ClientFor(s3DestinationSchema.parse({ ...fields, aws_secret_access_key: 'rotated' }), localNetwork)).not.toBe(client);
    expect(s3ClientFor(s3DestinationSchema.parse({ ...fields, region: 'eu-west-1' }), localNetwork)).not.toBe(client);
    expect(s3ClientFor(s3DestinationSchema.parse(fields), { allowPrivateNetworks: false })).not.toBe(client);
  });
});
