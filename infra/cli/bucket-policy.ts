import { S3Client } from '@aws-sdk/client-s3';
import { parseArgs } from 'node:util';
import { bucketPolicy, canonicalUserId } from '../../functions/ingress/bucket-policy.ts';

/**
 * `npm run bucket-policy -- <bucket>`: prints the canonical user ID of the AWS account in the
 * current credentials (the account the service is deployed in) and the bucket policy a bucket
 * owner pastes to allow bucket-policy mode (`aws_use_policy: true`).
 */
const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { 'canonical-user-id': { type: 'string' }, endpoint: { type: 'string' } },
});
const bucket = positionals[0];
if (!bucket) {
  console.error('usage: npm run bucket-policy -- <bucket> [--canonical-user-id ID] [--endpoint URL]');
  process.exit(2);
}
let id = values['canonical-user-id'];
if (!id) {
  const client = new S3Client({ region: process.env.AWS_REGION ?? 'us-east-1', endpoint: values.endpoint, forcePathStyle: values.endpoint !== undefined });
  id = await canonicalUserId(client);
  client.destroy();
}
console.log(`Canonical user ID: ${id}\n\nBucket policy for ${bucket}:\n${JSON.stringify(bucketPolicy(bucket, id), null, 2)}`);
