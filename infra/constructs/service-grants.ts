import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as s3 from 'aws-cdk-lib/aws-s3';
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
 * Lets `role` apply `objectActions` to the objects of `bucket` whose keys match `keys` (any by
 * default), and list it (so a missing object reads as 404, not 403).
 */
export function grantStagedObjects(role: iam.IRole, bucket: s3.IBucket, objectActions: readonly string[], keys = '*'): void {
  role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [bucket.bucketArn] }));
  grantWithWildcards(
    role,
    new iam.PolicyStatement({ actions: [...objectActions], resources: [bucket.arnForObjects(keys)] }),
    'Staged files have any key, chosen by the systems that drop them; the grant covers this one bucket.',
  );
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
