import { bucketPolicy, canonicalUserId } from '../../../../functions/ingress/bucket-policy.ts';
import { StagingObjects } from '../../../../shared/sources/staging-objects.ts';
import { httpUrlOption } from '../connection.ts';
import { exitCodes, type CliContext } from '../context.ts';

export interface BucketPolicyOptions {
  readonly canonicalUserId?: string;
  /** An S3 endpoint to ask instead of AWS's (a local store). */
  readonly endpoint?: string;
}

/**
 * `bucket-policy <bucket>`: the canonical user ID of the deployment's AWS account and the bucket
 * policy a bucket owner pastes to allow bucket-policy mode (`aws_use_policy: true`). Asked of the
 * deployed API when one is named (`--api` or a profile), else of S3 with the AWS credentials of the
 * environment (the deployment account's), or given with `--canonical-user-id`.
 */
export async function bucketPolicyCommand(bucket: string, options: BucketPolicyOptions, context: CliContext): Promise<number> {
  if (options.endpoint !== undefined) httpUrlOption('--endpoint', options.endpoint);
  let id = options.canonicalUserId;
  if (!id && !options.endpoint && !(await context.connection()).local) {
    const client = await context.client();
    id = (await client.request<{ canonical_user_id: string }>('GET', `/v1/canonical-user?bucket=${encodeURIComponent(bucket)}`)).body.canonical_user_id;
  }
  if (!id) {
    const { env } = context.io;
    const keys = env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
      ? { credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}) } }
      : {};
    id = await canonicalUserId(new StagingObjects({ region: env.AWS_REGION ?? 'us-east-1', ...keys, ...(options.endpoint ? { endpoint: options.endpoint } : {}) }));
  }
  const policy = bucketPolicy(bucket, id);
  context.result({ canonical_user_id: id, bucket_policy: policy }, `Canonical user ID: ${id}\n\nBucket policy for ${bucket}:\n${JSON.stringify(policy, null, 2)}`);
  return exitCodes.ok;
}
