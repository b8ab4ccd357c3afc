import { PutObjectCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { s3ClientFor } from '../../functions/destinations/s3/client.ts';
import { s3DestinationSchema } from '../../functions/destinations/s3/schema.ts';

/** The headers a PutObject is sent with, read right after signing (nothing goes on the wire). */
async function signedHeaders(endpoint: string): Promise<Record<string, string>> {
  const client = s3ClientFor(
    s3DestinationSchema.parse({ type: 's3', bucket: 'bucket', filename: 'k', endpoint, aws_access_key_id: 'AKIA', aws_secret_access_key: 's' }),
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
  client.destroy();
  return headers;
}

describe('S3 request signing', () => {
  it('does not hash the payload over TLS, where the part CRC-32 and TLS protect it', async () => {
    const headers = await signedHeaders('https://store.example.com');

    expect(headers['x-amz-content-sha256']).toBe('UNSIGNED-PAYLOAD');
    expect(headers.authorization).toContain('x-amz-content-sha256');
  });

  it('signs the payload over plain http', async () => {
    const headers = await signedHeaders('http://store.example.com');

    expect(headers['x-amz-content-sha256']).toMatch(/^[0-9a-f]{64}$/);
  });
});
