import type { RecordedS3Request } from '../../infra/local/s3-server.ts';

/** The S3 operation a recorded request was (`PutObject`, `UploadPart`, …), from its method, key and query. */
export function s3Operation(request: RecordedS3Request): string {
  const hasKey = request.path.split('/').filter(Boolean).length > 1;
  const { query, method } = request;
  if (method === 'PUT' && query.has('partNumber')) return 'UploadPart';
  if (method === 'POST' && query.has('uploads')) return 'CreateMultipartUpload';
  if (method === 'POST' && query.has('uploadId')) return 'CompleteMultipartUpload';
  if (method === 'DELETE' && query.has('uploadId')) return 'AbortMultipartUpload';
  if (method === 'GET' && query.has('uploadId')) return 'ListParts';
  if (method === 'GET' && query.has('acl')) return 'GetBucketAcl';
  if (method === 'PUT' && hasKey) return 'PutObject';
  if (method === 'GET' && hasKey) return 'GetObject';
  if (method === 'HEAD' && hasKey) return 'HeadObject';
  if (method === 'GET') return 'ListObjects';
  return `${method} ${hasKey ? 'object' : 'bucket'}`;
}
