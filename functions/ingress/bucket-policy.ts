import { text } from 'node:stream/consumers';
import type { StagingObjects } from '../../shared/sources/staging-objects.ts';

/** The canonical user ID of the account whose credentials `s3` signs with (ListBuckets' Owner ID). */
export async function canonicalUserId(s3: StagingObjects): Promise<string> {
  const answer = await s3.request({ method: 'GET', query: { 'max-buckets': '1' } });
  const id = answer && /<Owner>[^]*?<ID>([^<]+)<\/ID>/.exec(await text(answer))?.[1];
  if (!id) throw new Error('ListBuckets returned no owner ID');
  return id;
}

/**
 * The bucket policy a bucket owner pastes to let this service deliver with `aws_use_policy`:
 * writing objects and their ACLs, cleaning up failed multipart uploads (listing the bucket's, to
 * find one a crashed attempt could not note), and reading the bucket's ACL owner (to grant the
 * owner full control when an explicit `acl` is asked for).
 */
export function bucketPolicy(bucket: string, canonicalUser: string): Record<string, unknown> {
  return {
    Version: '2012-10-17',
    Id: `UploadDestinations-${bucket}`,
    Statement: [
      {
        Sid: 'UploadDestinationsWriteObjects',
        Effect: 'Allow',
        Principal: { CanonicalUser: canonicalUser },
        Action: ['s3:PutObject', 's3:PutObjectAcl', 's3:PutObjectTagging', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
        Resource: `arn:aws:s3:::${bucket}/*`,
      },
      {
        Sid: 'UploadDestinationsReadBucket',
        Effect: 'Allow',
        Principal: { CanonicalUser: canonicalUser },
        Action: ['s3:GetBucketAcl', 's3:ListBucketMultipartUploads'],
        Resource: `arn:aws:s3:::${bucket}`,
      },
    ],
  };
}
