import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { stagingPrefixes, stagingSuffixes } from '../../shared/config.ts';
import { acknowledgeWildcards } from './acknowledge-wildcards.ts';

/** Adds `statement` to `role` and acknowledges its wildcards, which `reason` justifies. */
function grantWithWildcards(role: iam.IRole, statement: iam.PolicyStatement, reason: string): void {
  role.addToPrincipalPolicy(statement);
  acknowledgeWildcards(role, [statement], reason);
}

/**
 * Lets `role` apply `actions` to the Secrets Manager secrets whose names start with `prefix`, and
 * to no other secret.
 */
export function grantSecretsUnder(role: iam.IRole, prefix: string, actions: readonly string[]): void {
  const secretsUnderPrefix = Stack.of(role).formatArn({
    service: 'secretsmanager',
    resource: 'secret',
    resourceName: `${prefix}*`,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
  grantWithWildcards(
    role,
    new iam.PolicyStatement({ actions: [...actions], resources: [secretsUnderPrefix] }),
    `Secrets under ${prefix} are named at request time (or carry the random suffix Secrets Manager adds); the prefix confines them.`,
  );
}

/**
 * Lets `role` apply `objectActions` to the objects of `bucket` whose keys match one of `keys`, and
 * list it (so a missing object reads as 404, not 403).
 */
export function grantStagedObjects(role: iam.IRole, bucket: s3.IBucket, objectActions: readonly string[], keys: readonly string[]): void {
  role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [bucket.bucketArn] }));
  grantWithWildcards(
    role,
    new iam.PolicyStatement({ actions: [...objectActions], resources: keys.map((pattern) => bucket.arnForObjects(pattern)) }),
    'Staged files have any key under their prefix, chosen by the systems that drop them; the grant covers these prefixes of this one bucket.',
  );
}

/**
 * The staging keys a source may be read from: presigned uploads, dropped files and the prefixes
 * the operator allows `{ bucket, key }` sources under. Nothing else of the bucket is ever a source.
 */
export function stagedSourceKeys(sourcePrefixes: readonly string[]): string[] {
  return [...new Set([stagingPrefixes.presignedUploads, stagingPrefixes.drop, ...sourcePrefixes])].map((prefix) => `${prefix}*`);
}

/** Dropped files' manifests, which hold their request (inline secrets in clear) until the ingress accepts it. */
export const stagedManifestKeys = `${stagingPrefixes.drop}*${stagingSuffixes.manifest}`;

/** Dropped files' job notes, where the ingress writes the job it made of a drop. */
export const stagedJobNoteKeys = `${stagingPrefixes.drop}*${stagingSuffixes.jobNote}`;

/**
 * The encryption context the sealer (`shared/secrets/sealer.ts`, through `KmsKeyWrapper`) sends with
 * every data key it takes or opens. The grants below require it, so the sealing key serves only
 * sealing: a role cannot decrypt (or take keys for) anything else encrypted under it.
 */
const sealingKeyContext = { purpose: 'upload-destinations/sealed-values' } as const;

/** Lets `role` apply `actions` to `key` under {@link sealingKeyContext} only. */
export function grantSealingKey(role: iam.IRole, key: kms.IKey, actions: readonly string[]): void {
  const context = Object.fromEntries(Object.entries(sealingKeyContext).map(([name, value]) => [`kms:EncryptionContext:${name}`, value]));
  role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: [...actions], resources: [key.keyArn], conditions: { StringEquals: context } }));
}

/** Lets `role` list the account's buckets: ListBuckets answers with the account's canonical user ID. */
export function grantListAllMyBuckets(role: iam.IRole): void {
  grantWithWildcards(
    role,
    new iam.PolicyStatement({ actions: ['s3:ListAllMyBuckets'], resources: ['*'] }),
    's3:ListAllMyBuckets has no resource-level scope; the ingress uses it to report the canonical user ID.',
  );
}

/** What the job store does with the job table's items (`shared/jobs/`), and nothing else (no scan, no delete). */
const jobItemActions = ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query', 'dynamodb:BatchGetItem', 'dynamodb:BatchWriteItem', 'dynamodb:DescribeTable'];

/**
 * Lets `role` read and write the job table's items, and (`listIndex`) query that one index: a
 * grant of the table's own (`grantReadWriteData`) would add every index (`/index/*`).
 */
export function grantJobTable(role: iam.IRole, table: dynamodb.ITable, listIndex?: string): void {
  role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: jobItemActions, resources: [table.tableArn] }));
  if (listIndex !== undefined) role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['dynamodb:Query'], resources: [`${table.tableArn}/index/${listIndex}`] }));
}
