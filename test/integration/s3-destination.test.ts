import { GetObjectCommand, GetObjectTaggingCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { LocalS3 } from '../../infra/local/s3-server.ts';
import { s3Destination, s3DestinationSchema } from '../../functions/destinations/s3/schema.ts';
import { createS3Uploader, s3Uploader } from '../../functions/destinations/s3/upload.ts';
import { defaultMultipartSettings, type S3ResumeState } from '../../functions/destinations/s3/multipart.ts';
import { crc32Base64 } from '../../shared/delivery/checksum.ts';
import { crc32 } from 'node:zlib';
import { assumedRole } from '../../functions/destinations/s3/assumed-role.ts';
import { PermanentError, TransientError } from '../../shared/errors.ts';
import { startTestS3, type TestS3 } from '../support/local-s3.ts';
import { startTestSts, type TestSts } from '../support/servers/sts.ts';
import { partsFromBytes, s3UploaderInParts } from '../support/s3-in-parts.ts';
import { attemptFailure, attemptUpload } from '../support/attempts.ts';
import { MemoryResume, patternBytes, sha256, sourceOf } from '../support/sources.ts';

const MiB = 1024 * 1024;
let server: TestS3;
let s3: LocalS3;
let reader: S3Client;

function destination(fields: Record<string, unknown>) {
  return s3DestinationSchema.parse({
    type: 's3',
    bucket: 'deliveries',
    endpoint: s3.endpoint,
    aws_access_key_id: s3.accessKeyId,
    aws_secret_access_key: s3.secretAccessKey,
    ...fields,
  });
}

async function stored(key: string, bucket = 'deliveries') {
  const object = await reader.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const body = Buffer.from(await object.Body!.transformToByteArray());
  return { object, body };
}

function requestsTo(key: string, method: string) {
  return s3.requests.filter((request) => request.path === `/deliveries/${key}` && request.method === method);
}

const module = { definition: s3Destination, uploader: s3Uploader };

beforeAll(async () => {
  server = await startTestS3(['deliveries', 'enforced']);
  ({ s3, reader } = server);
  s3.enforceBucketOwner('enforced');
});

afterAll(async () => {
  await server.close();
});

beforeEach(() => {
  s3.requests.length = 0;
});

describe('S3 destination against a local S3 server', () => {
  it('stores every field that changes the object', async () => {
    // Prepare
    const bytes = patternBytes(300_000);
    const fields = destination({
      filename: 'renders/welcome.mp4',
      contenttype: 'video/mp4',
      contentdisposition: 'attachment; filename="welcome.mp4"',
      cachecontrol: 'max-age=172800',
      metadata: { render: 'r-42', frames: 120 },
      tags: { project: 'welcome', owner: 'alex' },
      storageclass: 'standard-ia',
      headers: { 'Content-Language': 'de-DE', 'Content-Encoding': 'identity', Expires: '2030-01-01T00:00:00Z' },
    });

    // Act
    const result = await attemptUpload(module, fields, sourceOf(bytes));

    // Assess
    const { object, body } = await stored('renders/welcome.mp4');
    expect(sha256(body)).toBe(sha256(bytes));
    expect(object.ContentType).toBe('video/mp4');
    expect(object.ContentDisposition).toBe('attachment; filename="welcome.mp4"');
    expect(object.CacheControl).toBe('max-age=172800');
    expect(object.ContentLanguage).toBe('de-DE');
    expect(object.Metadata).toEqual({ render: 'r-42', frames: '120' });
    expect(object.StorageClass).toBe('STANDARD_IA');
    expect(object.Expires?.toISOString()).toBe('2030-01-01T00:00:00.000Z');
    const tags = await reader.send(new GetObjectTaggingCommand({ Bucket: 'deliveries', Key: 'renders/welcome.mp4' }));
    expect(tags.TagSet).toEqual([
      { Key: 'project', Value: 'welcome' },
      { Key: 'owner', Value: 'alex' },
    ]);
    expect(result).toMatchObject({
      url: `${s3.endpoint}/deliveries/renders/welcome.mp4`,
      bytes: bytes.length,
      checksum: { algorithm: 'crc32' },
    });
    const [put] = requestsTo('renders/welcome.mp4', 'PUT');
    expect(put?.headers['x-amz-acl']).toBe('public-read');
    expect(put?.headers['x-amz-checksum-crc32']).toBe(result.checksum.value);
  });

  it('sends the ACL, encryption and reduced redundancy it is given', async () => {
    const fields = destination({
      filename: 'private.bin',
      acl: 'authenticated-read',
      encryption: 'aws:kms',
      kms_key_id: 'arn:aws:kms:eu-west-1:111122223333:key/abc',
      reduced_redundancy: true,
    });

    await attemptUpload(module, fields, sourceOf(patternBytes(1000)));

    const [put] = requestsTo('private.bin', 'PUT');
    expect(put?.headers).toMatchObject({
      'x-amz-acl': 'authenticated-read',
      'x-amz-server-side-encryption': 'aws:kms',
      'x-amz-server-side-encryption-aws-kms-key-id': 'arn:aws:kms:eu-west-1:111122223333:key/abc',
      'x-amz-storage-class': 'REDUCED_REDUNDANCY',
    });
    expect((await reader.send(new HeadObjectCommand({ Bucket: 'deliveries', Key: 'private.bin' }))).StorageClass).toBe(
      'REDUCED_REDUNDANCY',
    );
  });

  it('sends a file over one part and under the switch as one streamed PutObject, its CRC-32 in a trailer, headers and tags kept', async () => {
    const bytes = patternBytes(12 * MiB + 5, 8);

    const result = await attemptUpload(
      module,
      destination({ filename: 'streamed.bin', tags: { size: 'medium' }, headers: { 'Content-Encoding': 'identity' }, contenttype: 'video/mp4' }),
      sourceOf(bytes),
    );

    const { object, body } = await stored('streamed.bin');
    expect(sha256(body)).toBe(sha256(bytes));
    const puts = requestsTo('streamed.bin', 'PUT');
    expect(puts).toHaveLength(1);
    expect(puts[0]!.headers).toMatchObject({
      'content-encoding': 'aws-chunked,identity',
      'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
      'x-amz-trailer': 'x-amz-checksum-crc32',
      'x-amz-decoded-content-length': String(bytes.length),
    });
    expect(requestsTo('streamed.bin', 'POST')).toEqual([]);
    // The store echoed the CRC-32 it checked, so the uploader did not look at the object again.
    expect(requestsTo('streamed.bin', 'HEAD')).toEqual([]);
    expect(object).toMatchObject({ ContentEncoding: 'identity', ContentType: 'video/mp4' });
    expect(result).toMatchObject({ bytes: bytes.length, details: { parts: 1 } });
    const tags = await reader.send(new GetObjectTaggingCommand({ Bucket: 'deliveries', Key: 'streamed.bin' }));
    expect(tags.TagSet).toEqual([{ Key: 'size', Value: 'medium' }]);
  });

  it('sends a file of one part or less as one PutObject of its bytes, and streams it when the lower bound of the streamed PUT is under its size', async () => {
    const bytes = patternBytes(MiB + 7, 13);

    await attemptUpload(module, destination({ filename: 'held.bin' }), sourceOf(bytes));
    const streamingSmall = createS3Uploader({ ...defaultMultipartSettings, streamedPutMinBytes: MiB });
    await attemptUpload({ ...module, uploader: streamingSmall }, destination({ filename: 'small-streamed.bin' }), sourceOf(bytes));

    const [held] = requestsTo('held.bin', 'PUT');
    expect(held?.headers['content-encoding']).toBeUndefined();
    expect(held?.headers['x-amz-checksum-crc32']).toMatch(/^[A-Za-z0-9+/]{6}==$/);
    const [streamed] = requestsTo('small-streamed.bin', 'PUT');
    expect(streamed?.headers).toMatchObject({ 'content-encoding': 'aws-chunked', 'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER' });
    for (const key of ['held.bin', 'small-streamed.bin']) expect(sha256((await stored(key)).body)).toBe(sha256(bytes));
  });

  it('streams a file over the switch in parts that each carry a CRC-32', async () => {
    const bytes = patternBytes(partsFromBytes + 5 * MiB + 123, 7);

    const result = await attemptUpload({ ...module, uploader: s3UploaderInParts }, destination({ filename: 'large.bin', tags: { size: 'large' } }), sourceOf(bytes));

    const { body } = await stored('large.bin');
    expect(sha256(body)).toBe(sha256(bytes));
    const parts = requestsTo('large.bin', 'PUT').filter((request) => request.query.has('partNumber'));
    expect(parts).toHaveLength(3);
    expect(parts.every((part) => /^[A-Za-z0-9+/]{6}==$/.test(String(part.headers['x-amz-checksum-crc32'])))).toBe(true);
    expect(result).toMatchObject({ bytes: bytes.length, details: { parts: 3 } });
    const tags = await reader.send(new GetObjectTaggingCommand({ Bucket: 'deliveries', Key: 'large.bin' }));
    expect(tags.TagSet).toEqual([{ Key: 'size', Value: 'large' }]);
  });

  it('reads each part of a source that offers ranges by itself and streams it, aws-chunked with its CRC-32 in a trailer', async () => {
    const bytes = patternBytes(2 * defaultMultipartSettings.streamedPartSize + 123, 12);
    const reads: number[] = [];

    const result = await attemptUpload({ ...module, uploader: s3UploaderInParts }, destination({ filename: 'ranged.bin' }), sourceOf(bytes, { ranges: true, reads }));

    const { body } = await stored('ranged.bin');
    expect(sha256(body)).toBe(sha256(bytes));
    const parts = requestsTo('ranged.bin', 'PUT').filter((request) => request.query.has('partNumber'));
    expect(parts).toHaveLength(3);
    for (const part of parts) {
      expect(part.headers).toMatchObject({ 'content-encoding': 'aws-chunked', 'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER', 'x-amz-trailer': 'x-amz-checksum-crc32' });
      expect(part.headers['x-amz-checksum-crc32']).toBeUndefined();
    }
    // Every byte read once; part 1 from the first answer, whose read-ahead past it (a chunk) is let go.
    expect(reads.reduce((sum, length) => sum + length, 0)).toBeGreaterThanOrEqual(bytes.length);
    expect(reads.reduce((sum, length) => sum + length, 0)).toBeLessThanOrEqual(bytes.length + 64 * 1024);
    expect(result).toMatchObject({ bytes: bytes.length, checksum: { algorithm: 'crc32', value: crc32Base64(crc32(bytes)) }, details: { parts: 3 } });
  });

  it('continues parts read by themselves from the parts stored before a break, reading only the rest of the source', async () => {
    const part = defaultMultipartSettings.streamedPartSize;
    const bytes = patternBytes(2.5 * part + 17, 13);
    const resume = new MemoryResume<S3ResumeState>();
    const uploader = createS3Uploader({ ...defaultMultipartSettings, streamedPutMaxBytes: 0 });

    const first = await attemptFailure({ ...module, uploader }, destination({ filename: 'ranged-resumed.bin' }), sourceOf(bytes, { ranges: true, failsAt: 1.75 * part }), { resume });
    resume.earlierAttemptsSince = new Date(Date.now() - 1000);
    const reads: number[] = [];
    const result = await attemptUpload({ ...module, uploader }, destination({ filename: 'ranged-resumed.bin' }), sourceOf(bytes, { ranges: true, reads }), { resume });

    expect(first).toBeInstanceOf(TransientError);
    expect(sha256((await stored('ranged-resumed.bin')).body)).toBe(sha256(bytes));
    // Part 1 was stored before the break in part 2 (part 3, stored too, follows the gap): the second
    // attempt read only what follows part 1.
    expect(reads.reduce((sum, length) => sum + length, 0)).toBe(bytes.length - part);
    expect(result).toMatchObject({ bytes: bytes.length, checksum: { value: crc32Base64(crc32(bytes)) }, details: { parts: 3, resumed_at: part } });
  });

  it('continues an upload begun with other part sizes (state saved by an earlier release, 8 MiB parts) in parts of that size', async () => {
    const bytes = patternBytes(40 * MiB + 17, 14);
    const resume = new MemoryResume<S3ResumeState>();
    const earlierRelease = createS3Uploader({ ...defaultMultipartSettings, streamedPutMaxBytes: 0, partSize: 8 * MiB, streamedPartSize: 8 * MiB });
    const uploader = createS3Uploader({ ...defaultMultipartSettings, streamedPutMaxBytes: 0 });

    await attemptFailure({ ...module, uploader: earlierRelease }, destination({ filename: 'ranged-older.bin' }), sourceOf(bytes, { ranges: true, failsAt: 28 * MiB }), { resume });
    // What an earlier release saved: no part size.
    const { partSize, ...saved } = resume.state!;
    resume.state = saved;
    resume.earlierAttemptsSince = new Date(Date.now() - 1000);
    const reads: number[] = [];
    const result = await attemptUpload({ ...module, uploader }, destination({ filename: 'ranged-older.bin' }), sourceOf(bytes, { ranges: true, reads }), { resume });

    expect(partSize).toBe(8 * MiB);
    expect(sha256((await stored('ranged-older.bin')).body)).toBe(sha256(bytes));
    expect(reads.reduce((sum, length) => sum + length, 0)).toBe(bytes.length - 24 * MiB);
    expect(result).toMatchObject({ details: { parts: 6, resumed_at: 24 * MiB } });
  });

  it('puts the source name inside a folder filename', async () => {
    const result = await attemptUpload(module, destination({ filename: 'incoming/', secure: true }), sourceOf(patternBytes(10), { name: 'clip 1.mp4' }));

    expect((await stored('incoming/clip 1.mp4')).body).toHaveLength(10);
    expect(result.url).toBe(`${s3.endpoint.replace('http:', 'https:')}/deliveries/incoming/clip%201.mp4`);
  });

  it('fails with a transient error when the source ends before its announced size', async () => {
    const source = sourceOf(patternBytes(1000), { size: 5000 });

    const error = await attemptFailure(module, destination({ filename: 'short.bin' }), source);

    expect(error).toBeInstanceOf(TransientError);
    await expect(stored('short.bin')).rejects.toThrow();
  });

  describe('bucket-policy mode', () => {
    // The service's own identity comes from the default provider chain, as in a Lambda function.
    beforeAll(() => {
      vi.stubEnv('AWS_ACCESS_KEY_ID', s3.accessKeyId);
      vi.stubEnv('AWS_SECRET_ACCESS_KEY', s3.secretAccessKey);
    });
    afterAll(() => {
      vi.unstubAllEnvs();
    });

    function policyDestination(fields: Record<string, unknown>) {
      return s3DestinationSchema.parse({ type: 's3', endpoint: s3.endpoint, aws_use_policy: true, ...fields });
    }

    it('gives the bucket owner full control by default', async () => {
      await attemptUpload(module, policyDestination({ bucket: 'enforced', filename: 'policy.bin' }), sourceOf(patternBytes(100)));

      expect((await stored('policy.bin', 'enforced')).body).toHaveLength(100);
      const put = s3.requests.find((request) => request.path === '/enforced/policy.bin');
      expect(put?.headers['x-amz-acl']).toBe('bucket-owner-full-control');
    });

    it('grants the owner full control beside a public-read ACL', async () => {
      await attemptUpload(module, policyDestination({ bucket: 'deliveries', filename: 'public.bin', acl: 'public-read' }), sourceOf(patternBytes(100)));

      const [put] = requestsTo('public.bin', 'PUT');
      expect(put?.headers['x-amz-grant-full-control']).toBe(`id="${s3.canonicalUserId}"`);
      expect(put?.headers['x-amz-grant-read']).toBe('uri="http://acs.amazonaws.com/groups/global/AllUsers"');
      expect(put?.headers['x-amz-acl']).toBeUndefined();
    });

    it('fails permanently, saying what to change, when the bucket has ACLs disabled', async () => {
      const error = await attemptFailure(
        module,
        policyDestination({ bucket: 'enforced', filename: 'public.bin', acl: 'public-read' }),
        sourceOf(patternBytes(100)),
      );

      expect(error).toBeInstanceOf(PermanentError);
      expect((error as PermanentError).code).toBe('AccessControlListNotSupported');
      expect((error as PermanentError).message).toContain("Object Ownership to 'Bucket owner preferred'");
    });
  });

});

describe('S3 destination, sources that lie about their size', () => {
  it('fails with a transient error, storing nothing, when the source sends more than it announced', async () => {
    const source = sourceOf(patternBytes(5000), { size: 1000 });

    const error = await attemptFailure(module, destination({ filename: 'long.bin' }), source);

    expect(error).toBeInstanceOf(TransientError);
    expect((error as TransientError).code).toBe('SourceTooLong');
    await expect(stored('long.bin')).rejects.toThrow();
  });
});

describe('S3 destination, a role the bucket owner lets the service assume (role_arn, external_id)', () => {
  const roleKeys = () => ({ accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey, sessionToken: 'session' });
  const serviceIdentity = { accessKeyId: 'AKIASERVICE', secretAccessKey: 'service-secret' };
  let sts: TestSts;

  beforeAll(async () => {
    sts = await startTestSts('us-east-1', serviceIdentity, {
      'arn:aws:iam::111122223333:role/upload-destinations-delivery': { externalId: 'customer-42-7f3c', keys: roleKeys() },
      'arn:aws:iam::111122223333:role/kept-keys': { externalId: 'customer-42-7f3c', keys: roleKeys() },
      'arn:aws:iam::111122223333:role/short-keys': { externalId: 'customer-42-7f3c', keys: roleKeys(), lifetimeSeconds: 120 },
      'arn:aws:iam::111122223333:role/throttled': { externalId: 'customer-42-7f3c', keys: roleKeys() },
    });
    // The service signs AssumeRole with its own identity, from the default chain as in a Lambda function.
    vi.stubEnv('AWS_ENDPOINT_URL_STS', sts.endpoint);
    vi.stubEnv('AWS_ACCESS_KEY_ID', serviceIdentity.accessKeyId);
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', serviceIdentity.secretAccessKey);
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    await sts.close();
  });
  beforeEach(() => {
    sts.requests.length = 0;
  });

  function roleDestination(role: string, filename: string, externalId = 'customer-42-7f3c') {
    return s3DestinationSchema.parse({ type: 's3', bucket: 'deliveries', filename, endpoint: s3.endpoint, role_arn: `arn:aws:iam::111122223333:role/${role}`, external_id: externalId });
  }

  it("uploads with the role's temporary keys, asked for with the external id", async () => {
    await attemptUpload(module, roleDestination('upload-destinations-delivery', 'assumed.bin'), sourceOf(patternBytes(1000)));

    expect((await stored('assumed.bin')).body).toHaveLength(1000);
    expect(sts.requests).toEqual([
      expect.objectContaining({
        RoleArn: 'arn:aws:iam::111122223333:role/upload-destinations-delivery',
        ExternalId: 'customer-42-7f3c',
        RoleSessionName: 'upload-destinations',
        DurationSeconds: '3600',
      }),
    ]);
    const [put] = requestsTo('assumed.bin', 'PUT');
    expect(put?.headers['x-amz-security-token']).toBe('session');
  });

  it('keeps the keys across deliveries, and asks again for keys about to expire', async () => {
    await attemptUpload(module, roleDestination('kept-keys', 'kept-1.bin'), sourceOf(patternBytes(10)));
    await attemptUpload(module, roleDestination('kept-keys', 'kept-2.bin'), sourceOf(patternBytes(10)));
    await attemptUpload(module, roleDestination('short-keys', 'short-1.bin'), sourceOf(patternBytes(10)));
    await attemptUpload(module, roleDestination('short-keys', 'short-2.bin'), sourceOf(patternBytes(10)));

    expect(sts.requests.map((request) => request.RoleArn?.split('/').pop())).toEqual(['kept-keys', 'short-keys', 'short-keys']);
  });

  it('asks again when STS throttles', async () => {
    sts.failNext({ status: 400, code: 'Throttling' });

    await attemptUpload(module, roleDestination('throttled', 'throttled.bin'), sourceOf(patternBytes(10)));

    expect(sts.requests).toHaveLength(2);
    expect((await stored('throttled.bin')).body).toHaveLength(10);
  });

  it('gives up an AssumeRole that gets no answer and asks again', async () => {
    sts.stallNext(1);

    const keys = await assumedRole('arn:aws:iam::111122223333:role/throttled', 'customer-42-7f3c', 'us-east-1', { attemptTimeoutMs: 300 })();

    expect(sts.requests).toHaveLength(2);
    expect(keys).toMatchObject({ accessKeyId: s3.accessKeyId, sessionToken: 'session' });
  });

  it('reports a silent STS as a timeout once its tries are spent, answers so for a while, then asks again', async () => {
    sts.stallNext(3);
    const keys = assumedRole('arn:aws:iam::111122223333:role/throttled', 'customer-42-7f3c', 'us-east-1', { attemptTimeoutMs: 200, failureHeldMs: 1500 });

    await expect(keys()).rejects.toThrow('STS AssumeRole: no answer within 200 ms');
    await expect(keys()).rejects.toThrow('STS AssumeRole: no answer within 200 ms');
    expect(sts.requests).toHaveLength(3);

    await new Promise((resolve) => setTimeout(resolve, 1500));
    await expect(keys()).resolves.toMatchObject({ accessKeyId: s3.accessKeyId });
    expect(sts.requests).toHaveLength(4);
  });

  it('does not ask again after an answer that has no keys in it', async () => {
    sts.failNext({ status: 200, code: 'InternalFailure' });

    const asking = assumedRole('arn:aws:iam::111122223333:role/throttled', 'customer-42-7f3c', 'us-east-1')();

    await expect(asking).rejects.toThrow('STS gave no keys for arn:aws:iam::111122223333:role/throttled');
    expect(sts.requests).toHaveLength(1);
  });

  it('fails permanently, naming the setting, when the STS endpoint it is given is not an http(s) URL', async () => {
    vi.stubEnv('AWS_ENDPOINT_URL_STS', 'sts.internal:8443');
    try {
      const asking = assumedRole('arn:aws:iam::111122223333:role/throttled', 'customer-42-7f3c', 'us-east-1')();

      await expect(asking).rejects.toThrow(PermanentError);
      await expect(asking).rejects.toThrow("AWS_ENDPOINT_URL_STS must be an http(s) URL, such as https://sts.us-east-1.amazonaws.com; it is 'sts.internal:8443'");
    } finally {
      vi.stubEnv('AWS_ENDPOINT_URL_STS', sts.endpoint);
    }
  });

  it('fails permanently, saying what the trust policy must allow, when STS refuses the role', async () => {
    const error = await attemptFailure(module, roleDestination('upload-destinations-delivery', 'refused-role.bin', 'not-theirs'), sourceOf(patternBytes(10)));

    expect(error).toBeInstanceOf(PermanentError);
    expect(error).toMatchObject({ code: 'AssumeRoleDenied' });
    expect(error.message).toContain('sts:ExternalId');
    expect(requestsTo('refused-role.bin', 'PUT')).toEqual([]);
  });
});
