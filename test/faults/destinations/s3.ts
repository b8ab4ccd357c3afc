import { GetObjectCommand, NoSuchKey } from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import { startTestS3 } from '../../support/local-s3.ts';
import { startHttpFaultProxy, type RequestHead } from '../../support/fault-proxy/http-fault-proxy.ts';
import { sha256OfStream } from './digest.ts';
import { peakConcurrentUploads, succeeded, uploadBytes, type FaultDestination } from './fault-destination.ts';

const bucket = 'faults';

/** The object key a request addresses (path style), or '' for the bucket itself. */
function keyOf(head: RequestHead): string {
  const [, , ...key] = head.path.split('/');
  return key.map((segment) => decodeURIComponent(segment)).join('/');
}

/** PutObject and UploadPart: the requests that carry the file's bytes. */
function isUpload(head: RequestHead): boolean {
  return head.method === 'PUT' && keyOf(head) !== '' && !head.query.has('tagging') && !head.query.has('acl');
}

/** PutObject and CompleteMultipartUpload: a success of either makes the object. */
function isCommit(head: RequestHead): boolean {
  if (keyOf(head) === '') return false;
  if (head.method === 'PUT') return !head.query.has('uploadId') && !head.query.has('tagging') && !head.query.has('acl');
  return head.method === 'POST' && head.query.has('uploadId');
}

function s3Error(status: number, code: string, message: string): { kind: 'answer'; status: number; headers: Record<string, string>; body: string } {
  return {
    kind: 'answer',
    status,
    headers: { 'content-type': 'application/xml' },
    body: `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>FAULTRUN</RequestId></Error>`,
  };
}

/** S3: the local S3 (s3rver behind its front, as the local runtime's own), a bucket of its own. */
export async function startS3Destination(): Promise<FaultDestination> {
  const server = await startTestS3([bucket]);
  const proxy = await startHttpFaultProxy({ upstreamPort: Number(new URL(server.s3.endpoint).port) });
  return {
    type: 's3',
    environment: {},
    destination: (name) => ({
      type: 's3',
      bucket,
      filename: name,
      endpoint: proxy.url,
      aws_access_key_id: server.s3.accessKeyId,
      aws_secret_access_key: server.s3.secretAccessKey,
      acl: 'bucket-default',
    }),
    landed: async (name) => {
      const writes = proxy.exchanges.filter((exchange) => isCommit(exchange) && succeeded(exchange) && keyOf(exchange) === name).length;
      try {
        const object = await server.reader.send(new GetObjectCommand({ Bucket: bucket, Key: name }));
        return { writes, sha256: await sha256OfStream(object.Body as Readable) };
      } catch (error) {
        if (error instanceof NoSuchKey) return { writes, sha256: undefined };
        throw error;
      }
    },
    leftovers: async () => (await server.s3.openUploads(bucket)).map((uploadId) => `open multipart upload ${uploadId}`),
    mark: () => proxy.exchanges.length,
    uploadBytesSince: (mark) => uploadBytes(proxy, mark, isUpload),
    peakConcurrentUploadsSince: (mark) => peakConcurrentUploads(proxy.exchanges.slice(mark), (exchange) => (isUpload(exchange) ? keyOf(exchange) : undefined)),
    faults: {
      kind: 'http',
      proxy,
      isUpload,
      isCommit,
      unavailable: (status) => (status === 500 ? s3Error(500, 'InternalError', 'We encountered an internal error. Please try again.') : s3Error(503, 'ServiceUnavailable', 'Please reduce your request rate.')),
      // S3 throttles with 503 SlowDown; a Retry-After is the fault run's addition.
      throttled: (seconds) => {
        const answer = s3Error(503, 'SlowDown', 'Please reduce your request rate.');
        return { ...answer, headers: { ...answer.headers, 'retry-after': String(seconds) } };
      },
    },
    close: async () => {
      await proxy.close();
      await server.close();
    },
  };
}
