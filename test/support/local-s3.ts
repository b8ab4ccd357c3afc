import { S3Client } from '@aws-sdk/client-s3';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalS3, type LocalS3 } from '../../infra/local/s3-server.ts';

/** The local S3 in a fresh folder, with a client that reads back what tests deliver. */
export interface TestS3 {
  readonly s3: LocalS3;
  readonly reader: S3Client;
  close(): Promise<void>;
}

export async function startTestS3(buckets: readonly string[]): Promise<TestS3> {
  const directory = await mkdtemp(join(tmpdir(), 'ud-s3-'));
  const s3 = await startLocalS3({ directory, buckets });
  const reader = new S3Client({
    endpoint: s3.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
  });
  return {
    s3,
    reader,
    close: async () => {
      reader.destroy();
      await s3.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
