import { Aws } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';

/** What a destination's function may do beyond its pipeline, and why it needs that much. */
export interface ExtraPermissions {
  readonly policyStatements: readonly iam.PolicyStatement[];
  readonly policyStatementsReason: string;
}

const extraPermissionsByType: Readonly<Record<string, () => ExtraPermissions>> = {
  // Bucket-policy mode (`aws_use_policy: true`) uploads with the service's own identity into
  // buckets that customers name at request time and grant in their bucket policies.
  s3: () => ({
    policyStatements: [
      new iam.PolicyStatement({
        actions: [
          's3:PutObject',
          's3:PutObjectAcl',
          's3:PutObjectTagging',
          's3:AbortMultipartUpload',
          's3:ListMultipartUploadParts',
          's3:GetBucketAcl',
        ],
        resources: [`arn:${Aws.PARTITION}:s3:::*`],
      }),
    ],
    policyStatementsReason:
      'Bucket-policy mode writes into customer buckets named per request; each bucket policy decides, so the identity policy cannot name them.',
  }),
};

/**
 * The permissions a destination type needs beyond its pipeline's own (queue, staging bucket,
 * secrets under the prefix, job table, decrypt), as `DestinationPipeline` props; none for most.
 */
export function extraPermissions(type: string): ExtraPermissions | undefined {
  return extraPermissionsByType[type]?.();
}
