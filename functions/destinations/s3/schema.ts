import * as z from 'zod/mini';
import {
  alsoWithFieldErrors,
  credentialsReference,
  credentialText,
  filePath,
  headerValue,
  hostMatches,
  httpUrl,
  metadataMap,
  notSecret,
  secret,
  type DestinationDefinition,
} from '../../../shared/destination/index.ts';

/** Canned ACLs S3 knows, plus `bucket-default`: send no ACL at all (buckets with ACLs disabled). */
export const s3Acls = [
  'private',
  'public-read',
  'public-read-write',
  'authenticated-read',
  'bucket-owner-read',
  'bucket-owner-full-control',
  'bucket-default',
] as const;
export type S3Acl = (typeof s3Acls)[number];

export const s3StorageClasses = [
  'STANDARD',
  'REDUCED_REDUNDANCY',
  'STANDARD_IA',
  'ONEZONE_IA',
  'INTELLIGENT_TIERING',
  'GLACIER',
  'GLACIER_IR',
  'DEEP_ARCHIVE',
  'EXPRESS_ONEZONE',
] as const;

/** Headers the `headers` map may set, keyed by their lower-case name. */
export const s3ExtraHeaders = {
  'cache-control': 'Cache-Control',
  'content-type': 'Content-Type',
  'content-disposition': 'Content-Disposition',
  'content-encoding': 'Content-Encoding',
  'content-language': 'Content-Language',
  expires: 'Expires',
} as const;

const bucketName = z
  .string()
  .check(
    z.regex(
      /^[a-z0-9][a-z0-9.\-_]{1,61}[a-z0-9]$/,
      'must be 3 to 63 characters: lower-case letters, digits, dots, hyphens (and underscores on some S3-compatible stores)',
    ),
  );

/** Accepts the AWS spelling (`STANDARD_IA`) and the lower-case, hyphenated one (`standard-ia`). */
const storageClass = z.pipe(
  z.transform((value: unknown) => (typeof value === 'string' ? value.trim().toUpperCase().replaceAll('-', '_') : value)),
  z.enum(s3StorageClasses, { error: `must be one of ${s3StorageClasses.join(', ')}` }),
);

const s3DestinationObject = z.strictObject({
  type: z.literal('s3'),
  bucket: bucketName.check(z.describe('Name of the destination bucket.')),
  filename: filePath(1024).check(
    z.describe('Object key. Ending in "/" means "this folder": the source file name is appended.'),
  ),
  // The key id and the session token travel in headers (Authorization, X-Amz-Security-Token).
  aws_access_key_id: secret(z.optional(credentialText(128, { inHeader: true })).check(z.describe('Access key ID (secret).'))),
  aws_secret_access_key: secret(z.optional(credentialText(1024)).check(z.describe('Secret access key (secret).'))),
  sessiontoken: secret(z.optional(credentialText(8192, { inHeader: true })).check(z.describe('STS session token for temporary keys (secret).'))),
  credentials: z.optional(credentialsReference),
  role_arn: z
    .optional(
      z.string().check(z.regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/, 'must be an IAM role ARN: arn:aws:iam::<account>:role/<name>')),
    )
    .check(
      z.describe(
        "A role in the bucket owner's account that trusts the service's account with external_id: the service assumes it and uploads with its temporary keys. A role of the deployment's own account is refused.",
      ),
    ),
  external_id: z
    .optional(z.string().check(z.regex(/^[\w+=,.@:/-]{2,1224}$/, 'must be 2 to 1224 characters: letters, digits and +=,.@:/-')))
    .check(z.describe('The external id the role\'s trust policy requires (sts:ExternalId): a value the operator issues per customer.')),
  aws_use_policy: z
    ._default(z.boolean(), false)
    .check(z.describe("Upload with the service's own identity, granted by a bucket policy.")),
  s3host: z
    .optional(
      z.string().check(
        z.minLength(1),
        // A host name (at most 253 characters) with a scheme and a port.
        z.maxLength(270, 'must be at most 270 characters'),
        z.regex(/^(https?:\/\/)?[A-Za-z0-9.-]+(:\d+)?\/?$/, 'must be a host name, or a URL with scheme and port'),
      ),
    )
    .check(z.describe('S3 endpoint host (e.g. s3.eu-central-1.amazonaws.com) or URL.')),
  endpoint: z
    .optional(httpUrl.check(z.describe('Endpoint URL with scheme and optional port')))
    .check(z.describe('S3-compatible endpoint URL (R2, Backblaze B2, DigitalOcean Spaces, MinIO).')),
  region: z
    .optional(
      // It names the signing scope and a host label (sts.<region>.amazonaws.com): at most 63 characters.
      z.string().check(z.regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/, 'must be a region name such as eu-west-1 (or "auto"): lower-case letters, digits and hyphens, at most 63')),
    )
    .check(z.describe('Bucket region. Default: taken from s3host, else us-east-1.')),
  force_path_style: z
    .optional(z.boolean())
    .check(z.describe('Address the bucket in the path, not the host name. Default: true with a custom endpoint.')),
  secure: z._default(z.boolean(), false).check(z.describe('Answer with an https:// URL.')),
  contenttype: z.optional(headerValue).check(z.describe('Content-Type of the object. Default: application/octet-stream.')),
  contentdisposition: z.optional(headerValue).check(z.describe('Content-Disposition of the object.')),
  cachecontrol: z.optional(headerValue).check(z.describe('Cache-Control of the object.')),
  acl: z
    .optional(z.enum(s3Acls, { error: `must be one of ${s3Acls.join(', ')}` }))
    .check(
      z.describe(
        'Canned ACL. Default: public-read; bucket-owner-full-control in bucket-policy mode. bucket-default sends none.',
      ),
    ),
  reduced_redundancy: z._default(z.boolean(), false).check(z.describe('Store with the REDUCED_REDUNDANCY class.')),
  storageclass: z.optional(storageClass).check(z.describe('Storage class; default: the bucket default (STANDARD).')),
  metadata: z.optional(metadataMap).check(z.describe('User metadata, sent as x-amz-meta-* headers.')),
  tags: z
    .optional(
      z
        .record(z.string().check(z.minLength(1), z.maxLength(128)), z.string().check(z.maxLength(256)))
        .check(z.refine((tags) => Object.keys(tags).length <= 10, 'at most 10 tags')),
    )
    .check(z.describe('Object tags.')),
  headers: z
    .optional(
      z.record(z.string(), headerValue).check(
        z.superRefine((headers, context) => {
          for (const name of Object.keys(headers)) {
            if (!(name.toLowerCase() in s3ExtraHeaders)) {
              context.addIssue({
                code: 'custom',
                path: [name],
                message: `is not a header S3 stores; use one of ${Object.values(s3ExtraHeaders).join(', ')}`,
              });
            }
          }
          const expires = Object.entries(headers).find(([name]) => name.toLowerCase() === 'expires');
          if (expires && Number.isNaN(Date.parse(expires[1]))) {
            context.addIssue({ code: 'custom', path: [expires[0]], message: 'must be an HTTP or ISO 8601 date' });
          }
        }),
      ),
    )
    .check(z.describe('Extra object headers: Expires, Cache-Control, Content-Type, Content-Encoding, Content-Language, Content-Disposition.')),
  encryption: z
    .optional(z.enum(['AES256', 'aws:kms', 'aws:kms:dsse'], { error: 'must be AES256, aws:kms or aws:kms:dsse' }))
    .check(z.describe('Server-side encryption.')),
  // Sent as a header (x-amz-server-side-encryption-aws-kms-key-id); KMS's ids and ARNs are at most 2048 characters.
  kms_key_id: notSecret(
    z.optional(headerValue.check(z.maxLength(2048))).check(z.describe('KMS key ID or ARN for aws:kms encryption.')),
    'names a KMS key; holds no key material',
  ),
});

export type S3DestinationFields = z.output<typeof s3DestinationObject>;

/** AWS's own S3 hosts. */
const awsHosts = ['*.amazonaws.com', '*.amazonaws.com.cn'];

/**
 * Whether the service's own identity may sign requests to `address` (an endpoint URL or an
 * `s3host`): AWS's hosts, and loopback for the local runtime's store (the deployed service never
 * connects to loopback).
 */
function signsForServiceIdentity(address: string): boolean {
  const host = URL.parse(/^https?:\/\//.test(address) ? address : `https://${address}`)?.hostname ?? '';
  return hostMatches(host, [...awsHosts, '127.0.0.1', 'localhost']);
}

/** Rules between fields, each reported on the field a user has to change. */
function checkFieldCombinations(destination: S3DestinationFields, context: z.core.$RefinementCtx<S3DestinationFields>): void {
  const issue = (path: string, message: string): void => {
    context.addIssue({ code: 'custom', path: [path], message });
  };
  const hasKeyId = destination.aws_access_key_id !== undefined;
  const hasSecretKey = destination.aws_secret_access_key !== undefined;
  const hasKeys = hasKeyId || hasSecretKey;
  if (hasKeyId !== hasSecretKey) {
    issue(hasKeyId ? 'aws_secret_access_key' : 'aws_access_key_id', 'is required together with the other access key field');
  }
  if (destination.sessiontoken !== undefined && !hasKeys) {
    issue('sessiontoken', 'needs aws_access_key_id and aws_secret_access_key');
  }
  if (destination.aws_use_policy && (hasKeys || destination.credentials !== undefined)) {
    issue('aws_use_policy', 'cannot be combined with access keys or a credentials reference');
  }
  for (const field of ['endpoint', 's3host'] as const) {
    const address = destination[field];
    if (destination.aws_use_policy && address !== undefined && !signsForServiceIdentity(address)) {
      issue(field, "must be an AWS S3 host (…amazonaws.com) with aws_use_policy: the service's own identity signs requests for AWS only");
    }
  }
  const assumesRole = destination.role_arn !== undefined;
  if (assumesRole && (hasKeys || destination.credentials !== undefined || destination.aws_use_policy)) {
    issue('role_arn', 'cannot be combined with access keys, a credentials reference or aws_use_policy: the role gives the keys');
  }
  if (assumesRole !== (destination.external_id !== undefined)) {
    issue(assumesRole ? 'external_id' : 'role_arn', 'role_arn and external_id go together (the role trusts the service only with its external id)');
  }
  for (const field of ['endpoint', 's3host'] as const) {
    const address = destination[field];
    if (assumesRole && address !== undefined && !signsForServiceIdentity(address)) {
      issue(field, 'must be an AWS S3 host (…amazonaws.com) with role_arn: the role\'s keys sign requests for AWS only');
    }
  }
  if (!destination.aws_use_policy && !assumesRole && !hasKeys && destination.credentials === undefined) {
    issue(
      'aws_access_key_id',
      'is required (with aws_secret_access_key) unless role_arn, aws_use_policy or credentials gives the identity',
    );
  }
  if (destination.s3host !== undefined && destination.endpoint !== undefined) {
    issue('endpoint', 'cannot be combined with s3host; give one of them');
  }
  if (destination.reduced_redundancy && destination.storageclass !== undefined && destination.storageclass !== 'REDUCED_REDUNDANCY') {
    issue('storageclass', `conflicts with reduced_redundancy: true (which means REDUCED_REDUNDANCY)`);
  }
  if (destination.kms_key_id !== undefined && !String(destination.encryption).startsWith('aws:kms')) {
    issue('kms_key_id', 'needs encryption "aws:kms" or "aws:kms:dsse"');
  }
  for (const [header, field] of [
    ['content-type', 'contenttype'],
    ['content-disposition', 'contentdisposition'],
    ['cache-control', 'cachecontrol'],
  ] as const) {
    const name = Object.keys(Object(destination.headers)).find((key) => key.toLowerCase() === header);
    if (name !== undefined && destination[field] !== undefined) {
      issue('headers', `sets ${name} and so does ${field}; give it once`);
    }
  }
}

export const s3DestinationSchema = s3DestinationObject.check(z.superRefine(checkFieldCombinations, alsoWithFieldErrors));

export const s3Destination: DestinationDefinition<typeof s3DestinationSchema> = {
  type: 's3',
  title: 'Amazon S3 or any S3-compatible store',
  schema: s3DestinationSchema,
  endpointsOf: (destination) => [
    ...(destination.endpoint ? [{ field: 'endpoint', address: destination.endpoint }] : []),
    ...(destination.s3host ? [{ field: 's3host', address: destination.s3host }] : []),
  ],
  bucketOf: (destination) => ({ field: 'bucket', bucket: destination.bucket }),
  assumedRoleOf: (destination) => (destination.role_arn === undefined ? undefined : { field: 'role_arn', roleArn: destination.role_arn }),
  // Stored keys are AWS keys unless the operator allows an S3-compatible store's hosts.
  credentialHosts: awsHosts,
  lambda: { memoryMb: 448, timeoutSeconds: 900, maxConcurrency: 50 },
  capabilities: {
    // The multipart upload id: useless without the destination's credentials, so kept in clear.
    resumable: { sealed: false },
    probe: 'write',
    // 48.8 TiB, S3's largest object (10,000 parts of 5 GiB would allow more).
    maxBytes: 53_687_091_200_000,
  },
  permissions: [
    {
      actions: ['sts:AssumeRole'],
      resources: ['arn:{partition}:iam::*:role/*'],
      reason:
        "role_arn: the service assumes roles that customers create in their own accounts and name per request; each role's trust policy, with its external id, decides.",
    },
    {
      actions: ['s3:PutObject', 's3:PutObjectAcl', 's3:PutObjectTagging', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts', 's3:GetBucketAcl', 's3:ListBucketMultipartUploads'],
      resources: ['arn:{partition}:s3:::*'],
      reason:
        'Bucket-policy mode (aws_use_policy) writes with the service identity into customer buckets named per request; each bucket policy decides, so the identity policy cannot name them.',
    },
  ],
};
