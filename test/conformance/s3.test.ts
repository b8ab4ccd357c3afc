import { GetObjectCommand, NoSuchKey } from '@aws-sdk/client-s3';
import { afterAll, beforeAll } from 'vitest';
import { s3Destination, s3DestinationSchema, type S3DestinationFields } from '../../functions/destinations/s3/schema.ts';
import { s3Uploader } from '../../functions/destinations/s3/upload.ts';
import { startTestS3, type TestS3 } from '../support/local-s3.ts';
import { describeDestinationConformance } from './destination-conformance.ts';

let server: TestS3;

beforeAll(async () => {
  server = await startTestS3(['conformance']);
});

afterAll(async () => {
  await server.close();
});

function fields(filename: string, overrides: Record<string, unknown> = {}): S3DestinationFields {
  return s3DestinationSchema.parse({
    type: 's3',
    bucket: 'conformance',
    filename,
    endpoint: server.s3.endpoint,
    aws_access_key_id: server.s3.accessKeyId,
    aws_secret_access_key: server.s3.secretAccessKey,
    ...overrides,
  });
}

/** Body bytes of every upload request (PutObject, UploadPart) the server received for `filename`. */
function bytesReceived(filename: string): number {
  return server.s3.requests
    .filter((request) => request.method === 'PUT' && request.path === `/conformance/${filename}`)
    .reduce((sum, request) => sum + Number(request.headers['content-length'] ?? 0), 0);
}

describeDestinationConformance({
  name: 's3 (s3rver behind the local S3 front)',
  definition: s3Destination,
  uploader: s3Uploader,
  destination: (filename) => fields(filename),
  refusedDestination: (filename) => fields(filename, { bucket: 'no-such-bucket' }),
  // Port 1 is never listened on here: every connection is refused.
  unreachableDestination: (filename) => fields(filename, { endpoint: 'http://127.0.0.1:1' }),
  read: async (filename) => {
    try {
      const object = await server.reader.send(new GetObjectCommand({ Bucket: 'conformance', Key: filename }));
      return Buffer.from(await object.Body!.transformToByteArray());
    } catch (error) {
      if (error instanceof NoSuchKey) return undefined;
      throw error;
    }
  },
  leftovers: () => server.s3.openUploads('conformance'),
  bytesReceived,
  // Three parts of 8 MiB and a short fourth.
  largeSize: 25 * 1024 * 1024 + 7,
  // The part being cut when the source broke is never sent; parts in flight complete.
  resumeSlackBytes: 0,
});
