import { classifyGeneric, PermanentError, TransientError, WaitError, type DeliveryError } from '../../../shared/destination/index.ts';
import { S3Error } from './s3-api.ts';

/** S3 error codes that are configuration problems: each message says what to change. */
const permanentAdvice: Readonly<Record<string, string>> = {
  AccessControlListNotSupported:
    "the bucket has ACLs disabled (Object Ownership: 'Bucket owner enforced'), so this ACL cannot be applied. " +
    "Set acl to 'bucket-owner-full-control' or 'bucket-default' and grant access with a bucket policy, " +
    "or change the bucket's Object Ownership to 'Bucket owner preferred'",
  NoSuchBucket: 'the bucket does not exist (check bucket, region and endpoint)',
  AccessDenied:
    'access denied: the credentials (or, with aws_use_policy, the bucket policy) must allow s3:PutObject and ' +
    's3:PutObjectAcl on the key, and s3:AbortMultipartUpload',
  InvalidAccessKeyId: 'the access key ID is not known to the store',
  SignatureDoesNotMatch: 'the secret access key does not match the access key ID',
  ExpiredToken: 'the session token has expired',
  InvalidToken: 'the session token is invalid',
  PermanentRedirect: 'the bucket is in another region: set region (or s3host) to the bucket’s region',
  AuthorizationHeaderMalformed: 'the region is wrong for this bucket: set region to the bucket’s region',
  IllegalLocationConstraintException: 'the region is wrong for this bucket: set region to the bucket’s region',
  InvalidStorageClass: 'the store does not support this storage class',
  InvalidBucketName: 'the bucket name is invalid',
  AllAccessDisabled: 'all access to this bucket has been disabled',
  EntityTooLarge: 'the file is larger than the store accepts',
  KMSAccessDenied: 'the credentials may not use the KMS key (kms:GenerateDataKey and kms:Decrypt are needed)',
  'KMS.NotFoundException': 'the KMS key does not exist in the bucket’s region',
  'KMS.DisabledException': 'the KMS key is disabled',
};

/** Decides whether an S3 failure is worth another attempt; keeps the original as the cause. */
export function classifyS3Error(error: unknown): DeliveryError {
  if (!(error instanceof S3Error)) return classifyGeneric(error);
  const { code } = error;
  const advice = permanentAdvice[code];
  if (advice) return new PermanentError(`S3 ${code}: ${advice}`, { code, cause: error });
  if (error.retryable) return new TransientError(error.message, { code, cause: error });
  return classifyGeneric(error, error.statusCode);
}

/**
 * A streamed PutObject (`aws-chunked`, CRC-32 trailer) refused for how it was sent rather than for
 * what it asked: stores that speak S3 without SigV4 streaming answer 501 NotImplemented, a 400 or
 * 411 about the encoding or the length, or a signature they computed another way.
 */
export function refusesStreamedUpload(error: unknown): boolean {
  if (error instanceof AwsChunkedNotDecodedError) return true;
  if (!(error instanceof S3Error)) return false;
  if (error.code === 'SignatureDoesNotMatch') return true;
  if (error.code in permanentAdvice) return false;
  return error.statusCode === 400 || error.statusCode === 411 || error.statusCode === 501;
}

/**
 * A store answered a streamed PutObject with success but kept its aws-chunked framing as the
 * object: it does not decode the content encoding (s3rver does this; a store that ignores
 * `Content-Encoding` would too), so the object is not the file.
 */
export class AwsChunkedNotDecodedError extends Error {
  public constructor(found: string) {
    super(`it kept the aws-chunked framing as the object: ${found}`);
    this.name = 'AwsChunkedNotDecoded';
  }
}

/**
 * The store refused the streamed PutObject: the delivery comes back at once, without spending an
 * attempt, and sends the file in parts (saved in its resume state).
 */
export class StreamedPutRefusedError extends WaitError {
  public constructor(cause: unknown) {
    const why = cause instanceof AwsChunkedNotDecodedError ? cause.message : `S3 ${cause instanceof S3Error ? cause.code : 'unknown'}`;
    super(`the store refused a streamed PutObject (${why}): sending the file in parts`, { code: 'StreamedPutRefused', until: new Date(Date.now() + 1000), cause });
    this.name = 'StreamedPutRefusedError';
  }
}
