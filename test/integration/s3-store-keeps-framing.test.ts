import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetObjectCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AwsChunkedNotDecodedError, StreamedPutRefusedError } from '../../functions/destinations/s3/errors.ts';
import { defaultMultipartSettings, type S3ResumeState } from '../../functions/destinations/s3/multipart.ts';
import { s3Destination, s3DestinationSchema } from '../../functions/destinations/s3/schema.ts';
import { createS3Uploader } from '../../functions/destinations/s3/upload.ts';
import { startServerThread, type ServerThread } from '../../infra/local/server-thread.ts';
import { attemptFailure, attemptUpload } from '../support/attempts.ts';
import { startHttpFaultProxy } from '../support/fault-proxy/http-fault-proxy.ts';
import { MemoryResume, patternBytes, sha256, sourceOf } from '../support/sources.ts';

// s3rver on its own, without the local S3 front: it answers a streamed PutObject (aws-chunked, a
// CRC-32 trailer) with 200 and stores the body as it came, framing included.
const MiB = 1024 * 1024;
const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
let directory: string;
let s3rver: ServerThread;
let reader: S3Client;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'ud-s3rver-'));
  s3rver = await startServerThread({ kind: 's3rver', port: 0, directory, buckets: ['deliveries'] });
  reader = new S3Client({ endpoint: s3rver.endpoint, region: 'us-east-1', forcePathStyle: true, credentials });
});

afterAll(async () => {
  reader.destroy();
  await s3rver.stop();
  await rm(directory, { recursive: true, force: true });
});

function destination(filename: string, endpoint = s3rver.endpoint) {
  return s3DestinationSchema.parse({
    type: 's3',
    bucket: 'deliveries',
    filename,
    endpoint,
    aws_access_key_id: credentials.accessKeyId,
    aws_secret_access_key: credentials.secretAccessKey,
    acl: 'bucket-default',
  });
}

async function storedSha(key: string): Promise<string> {
  const object = await reader.send(new GetObjectCommand({ Bucket: 'deliveries', Key: key }));
  return sha256(Buffer.from(await object.Body!.transformToByteArray()));
}

async function exists(key: string): Promise<boolean> {
  return reader.send(new HeadObjectCommand({ Bucket: 'deliveries', Key: key })).then(
    () => true,
    () => false,
  );
}

describe('S3 destination, a store that keeps a streamed PutObject as it came', () => {
  it('deletes what the store kept, sends the file in parts from the next attempt, and at once for later deliveries to the store', async () => {
    // Prepare: over one part, under the streamed-PutObject switch.
    const module = { definition: s3Destination, uploader: createS3Uploader() };
    const bytes = patternBytes(12 * MiB + 7, 91);
    const resume = new MemoryResume<S3ResumeState>();

    // Act
    const first = await attemptFailure(module, destination('kept-framing.bin'), sourceOf(bytes), { resume });
    const leftAfterFirst = await exists('kept-framing.bin');
    const savedAfterFirst = resume.state;
    resume.earlierAttemptsSince = new Date(Date.now() - 1000);
    const second = await attemptUpload(module, destination('kept-framing.bin'), sourceOf(bytes), { resume });
    const later = await attemptUpload(module, destination('later.bin'), sourceOf(bytes));

    // Assess
    expect(first).toBeInstanceOf(StreamedPutRefusedError);
    expect(first.cause).toBeInstanceOf(AwsChunkedNotDecodedError);
    expect(first.message).toContain(`bytes stored for ${bytes.length}`);
    expect(leftAfterFirst).toBe(false);
    expect(savedAfterFirst).toMatchObject({ inParts: true });
    expect(second.details).toMatchObject({ parts: 2 });
    expect(later.details).toMatchObject({ parts: 2 });
    expect(await storedSha('kept-framing.bin')).toBe(sha256(bytes));
    expect(await storedSha('later.bin')).toBe(sha256(bytes));
  });

  it('aborts parts read by themselves that the store answers without the CRC-32 it checked, and sends held parts from the next attempt', async () => {
    // Prepare: over the switch, from a source whose parts can be read by themselves; the requests
    // are recorded on their way to s3rver.
    const proxy = await startHttpFaultProxy({ upstreamPort: Number(new URL(s3rver.endpoint).port) });
    const module = { definition: s3Destination, uploader: createS3Uploader({ ...defaultMultipartSettings, streamedPutMaxBytes: 0 }) };
    const bytes = patternBytes(18 * MiB + 3, 93);
    const resume = new MemoryResume<S3ResumeState>();

    try {
      // Act
      const first = await attemptFailure(module, destination('kept-part-framing.bin', proxy.url), sourceOf(bytes, { ranges: true }), { resume });
      const savedAfterFirst = resume.state;
      const firstRequests = proxy.exchanges.splice(0);
      resume.earlierAttemptsSince = new Date(Date.now() - 1000);
      const second = await attemptUpload(module, destination('kept-part-framing.bin', proxy.url), sourceOf(bytes, { ranges: true }), { resume });

      // Assess: the first upload was aborted, the second sent held parts (a CRC-32 in each part's header).
      expect(first).toBeInstanceOf(StreamedPutRefusedError);
      expect(first.cause).toBeInstanceOf(AwsChunkedNotDecodedError);
      expect(savedAfterFirst).toEqual({ key: 'kept-part-framing.bin', inParts: true });
      const streamedUploads = new Set(firstRequests.filter((exchange) => exchange.method === 'PUT').map((exchange) => exchange.query.get('uploadId')));
      expect(streamedUploads.size).toBe(1);
      expect(firstRequests.filter((exchange) => exchange.method === 'DELETE').map((exchange) => exchange.query.get('uploadId'))).toEqual([...streamedUploads]);
      const heldParts = proxy.exchanges.filter((exchange) => exchange.method === 'PUT' && exchange.query.has('partNumber'));
      expect(heldParts.map((exchange) => exchange.headers['content-encoding'])).toEqual([undefined, undefined, undefined]);
      expect(second.details).toMatchObject({ parts: 3 });
      expect(await storedSha('kept-part-framing.bin')).toBe(sha256(bytes));
    } finally {
      await proxy.close();
    }
  });

  it('lets the store\'s answer stand when the credentials may not read the object back', async () => {
    // Prepare: write-only credentials, as S3 answers HeadObject without s3:GetObject.
    const proxy = await startHttpFaultProxy({ upstreamPort: Number(new URL(s3rver.endpoint).port) });
    const denied = '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>';
    proxy.arm({ label: 'no read', match: (head) => head.method === 'HEAD', times: Infinity, fault: { kind: 'answer', status: 403, headers: { 'content-type': 'application/xml' }, body: denied } });
    const module = { definition: s3Destination, uploader: createS3Uploader() };
    const bytes = patternBytes(12 * MiB + 7, 92);

    try {
      // Act
      const delivered = await attemptUpload(module, destination('write-only.bin', proxy.url), sourceOf(bytes));

      // Assess: one streamed PutObject, one look that was refused, nothing deleted or resent.
      expect(delivered.details).toMatchObject({ parts: 1 });
      expect(proxy.exchanges.map((exchange) => exchange.method)).toEqual(['PUT', 'HEAD']);
    } finally {
      await proxy.close();
    }
  });
});
