import { GetObjectCommand, NoSuchKey, S3Client } from '@aws-sdk/client-s3';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { s3DestinationSchema, type S3DestinationFields } from '../../functions/destinations/s3/schema.ts';
import { s3Uploader } from '../../functions/destinations/s3/upload.ts';
import { startLocalS3, type LocalS3 } from '../../infra/local/s3-server.ts';
import { describeDestinationConformance } from './destination-conformance.ts';

let s3: LocalS3;
let directory: string;
let reader: S3Client;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'ud-conformance-s3-'));
  s3 = await startLocalS3({ directory, buckets: ['conformance'] });
  reader = new S3Client({
    endpoint: s3.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
  });
});

afterAll(async () => {
  reader.destroy();
  await s3.close();
  await rm(directory, { recursive: true, force: true });
});

function fields(filename: string, overrides: Record<string, unknown> = {}): S3DestinationFields {
  return s3DestinationSchema.parse({
    type: 's3',
    bucket: 'conformance',
    filename,
    endpoint: s3.endpoint,
    aws_access_key_id: s3.accessKeyId,
    aws_secret_access_key: s3.secretAccessKey,
    ...overrides,
  });
}

describeDestinationConformance<S3DestinationFields>({
  name: 's3 (s3rver behind the local S3 front)',
  uploader: s3Uploader,
  destination: (filename) => fields(filename),
  refusedDestination: (filename) => fields(filename, { bucket: 'no-such-bucket' }),
  // Port 1 is never listened on here: every connection is refused.
  unreachableDestination: (filename) => fields(filename, { endpoint: 'http://127.0.0.1:1' }),
  read: async (filename) => {
    try {
      const object = await reader.send(new GetObjectCommand({ Bucket: 'conformance', Key: filename }));
      return Buffer.from(await object.Body!.transformToByteArray());
    } catch (error) {
      if (error instanceof NoSuchKey) return undefined;
      throw error;
    }
  },
  leftovers: () => s3.openUploads('conformance'),
  // Three parts of 8 MiB and a short fourth.
  largeSize: 25 * 1024 * 1024 + 7,
});
