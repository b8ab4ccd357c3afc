import { S3RequestPresigner } from '@aws-sdk/s3-request-presigner';
import { Sha256 } from '@smithy/core/checksum';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { StagingObjects } from '../../shared/sources/staging-objects.ts';

const credentials = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', sessionToken: 'a/session+token=' };
const signingDate = new Date('2026-11-26T12:34:56Z');

/** The SDK's own presigner, given the request its S3 client would build for PutObject. */
async function presignedBySdk(url: URL, path: string): Promise<URL> {
  const presigner = new S3RequestPresigner({ region: 'eu-west-1', credentials, sha256: Sha256 });
  const signed = await presigner.presign(
    { method: 'PUT', protocol: url.protocol, hostname: url.hostname, ...(url.port ? { port: Number(url.port) } : {}), path, query: {}, headers: { host: url.host } },
    { expiresIn: 900, signingDate },
  );
  const query = Object.entries(signed.query ?? {}).map(([name, value]) => `${name}=${encodeURIComponent(String(value))}`);
  return new URL(`${url.protocol}//${url.host}${path}?${query.join('&')}`);
}

function paramsOf(url: URL): Record<string, string> {
  return Object.fromEntries(url.searchParams);
}

afterEach(() => {
  vi.useRealTimers();
});

describe('A presigned PutObject URL of the staging bucket', () => {
  it.each([
    ['on AWS, virtual-hosted', undefined, 'https://staging.s3.eu-west-1.amazonaws.com', '/uploads/ud_1/a%20b%2Bc%C3%BC%28%29.mp4'],
    ['on another endpoint, path-style', 'http://127.0.0.1:4569', 'http://127.0.0.1:4569', '/staging/uploads/ud_1/a%20b%2Bc%C3%BC%28%29.mp4'],
  ])('%s is the one the SDK’s presigner makes at the same instant', async (_where, endpoint, origin, path) => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(signingDate);
    const staging = new StagingObjects({ region: 'eu-west-1', credentials, ...(endpoint ? { endpoint } : {}) });

    const ours = new URL(await staging.presignedPut({ bucket: 'staging', key: 'uploads/ud_1/a b+cü().mp4' }, 900));
    const sdk = await presignedBySdk(new URL(origin), path);

    expect(`${ours.origin}${ours.pathname}`).toBe(`${origin}${path}`);
    expect(paramsOf(ours)).toEqual(paramsOf(sdk));
    expect(paramsOf(ours)).toMatchObject({ 'X-Amz-Expires': '900', 'X-Amz-SignedHeaders': 'host', 'X-Amz-Security-Token': credentials.sessionToken });
  });

  it("goes to the bucket's host in its region's partition: a deployment in China signs for amazonaws.com.cn", async () => {
    const staging = new StagingObjects({ region: 'cn-north-1', credentials });

    const url = new URL(await staging.presignedPut({ bucket: 'staging', key: 'uploads/a.mp4' }, 900));

    expect(url.host).toBe('staging.s3.cn-north-1.amazonaws.com.cn');
    expect(url.searchParams.get('X-Amz-Credential')).toMatch(/\/cn-north-1\/s3\/aws4_request$/);
  });

  it('changes its signature with the key, the expiry and the instant', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(signingDate);
    const staging = new StagingObjects({ region: 'eu-west-1', credentials });
    const signature = async (key: string, seconds: number): Promise<string | null> =>
      new URL(await staging.presignedPut({ bucket: 'staging', key }, seconds)).searchParams.get('X-Amz-Signature');

    const first = await signature('uploads/a.mp4', 900);
    expect(await signature('uploads/b.mp4', 900)).not.toBe(first);
    expect(await signature('uploads/a.mp4', 901)).not.toBe(first);
    vi.setSystemTime(new Date(signingDate.getTime() + 1000));
    expect(await signature('uploads/a.mp4', 900)).not.toBe(first);
  });
});
