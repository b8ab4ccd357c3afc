import { GetObjectCommand, NoSuchKey } from '@aws-sdk/client-s3';
import { afterAll, beforeAll } from 'vitest';
import { s3Destination, s3DestinationSchema, type S3DestinationFields } from '../../functions/destinations/s3/schema.ts';
import { s3Uploader } from '../../functions/destinations/s3/upload.ts';
import { s3UploaderInParts } from '../support/s3-in-parts.ts';
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

const MiB = 1024 * 1024;

/** What both runs share: the store, and the files and failures they deliver to it. */
const store = {
  definition: s3Destination,
  destination: (filename: string) => fields(filename),
  refusedDestination: (filename: string) => fields(filename, { bucket: 'no-such-bucket' }),
  // Port 1 is never listened on here: every connection is refused.
  unreachableDestination: (filename: string) => fields(filename, { endpoint: 'http://127.0.0.1:1' }),
  read: async (filename: string) => {
    try {
      const object = await server.reader.send(new GetObjectCommand({ Bucket: 'conformance', Key: filename }));
      return Buffer.from(await object.Body!.transformToByteArray());
    } catch (error) {
      if (error instanceof NoSuchKey) return undefined;
      throw error;
    }
  },
  leftovers: () => server.s3.openUploads('conformance'),
};

describeDestinationConformance({
  ...store,
  name: 's3 in parts (s3rver behind the local S3 front)',
  // The switch below the large files, so they take the multipart path, which resumes.
  uploader: s3UploaderInParts,
  bytesReceived,
  // Three parts of 8 MiB and a short fourth.
  largeSize: 25 * MiB + 7,
  // The part being cut when the source broke is never sent; parts in flight complete.
  resumeSlackBytes: 0,
});

describeDestinationConformance({
  ...store,
  name: 's3 as one streamed PutObject (s3rver behind the local S3 front, which decodes aws-chunked)',
  uploader: s3Uploader,
  // Over one part and under the switch: one aws-chunked PutObject, sent whole by each attempt.
  largeSize: 12 * MiB + 7,
  largeSizeResumes: false,
});
