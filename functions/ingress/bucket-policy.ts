import { ListBucketsCommand, type S3Client } from '@aws-sdk/client-s3';

/** The canonical user ID of the account whose credentials `client` uses (ListBuckets' Owner.ID). */
export async function canonicalUserId(client: S3Client): Promise<string> {
  const { Owner } = await client.send(new ListBucketsCommand({ MaxBuckets: 1 }));
  if (!Owner?.ID) throw new Error('ListBuckets returned no owner ID');
  return Owner.ID;
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
