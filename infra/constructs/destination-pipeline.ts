import { Aws } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambdaEventSources from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { secretNames, serviceDefaults } from '../../shared/config.ts';
import type { PermissionStatement } from '../../shared/destination/definition.ts';
import { functionEntries, resourceNames } from '../resources.ts';
import { BundledFunction } from './bundled-function.ts';
import { acknowledgeWildcards } from './acknowledge-wildcards.ts';
import { grantJobTable, grantSealingKey, grantSecretsUnder, grantStagedObjects, stagedManifestKeys, stagedSourceKeys } from './service-grants.ts';
import { requireIntegerInRange } from './validate.ts';
import { WorkQueue } from './work-queue.ts';

export interface DestinationPipelineProps {
  /** The value of `destination.type`, e.g. `s3`: it names the queues and the handler's folder. */
  readonly destinationType: string;
  readonly memoryMb: number;
  /** At most 900 (Lambda's limit). */
  readonly timeoutSeconds: number;
  /** How many of this destination's functions may run at once: 2 to 1000 (the SQS event source's range). */
  readonly maxConcurrency: number;
  /**
   * Receives of a message before it moves to the dead-letter queue.
   * @default serviceDefaults.maxAttempts
   */
  readonly maxReceiveCount?: number;
  /**
   * Messages per invocation, 1 to 10.
   * @default 1 - each message is a whole file, and one slow upload must not hold back others
   */
  readonly batchSize?: number;
  /**
   * The handler file, relative to the repository root.
   * @default functionEntries.destination(destinationType)
   */
  readonly entry?: string;
  /** The job table: the function records each delivery's result. */
  readonly jobTable: dynamodb.ITable;
  /** The function reads sources from it. */
  readonly stagingBucket: s3.IBucket;
  /**
   * Staging prefixes the operator allows `{ bucket, key }` sources under: the function may read
   * them besides presigned uploads and drops.
   * @default - none
   */
  readonly stagingSourcePrefixes?: readonly string[];
  /** The function unseals inline secrets with it (and seals resume states, with `sealsResumeState`). */
  readonly sealingKey: kms.IKey;
  /**
   * The deployment's secret prefix: the function may read the callers' credentials under
   * `<prefix>credentials/`, its own application secret, and no other secret.
   */
  readonly secretPrefix: string;
  /** The function signs callbacks with it. */
  readonly callbackSigningSecret: secretsmanager.ISecret;
  /** @default - no environment variables */
  readonly environment?: Readonly<Record<string, string>>;
  /**
   * Permissions this destination needs beyond the pipeline's own, as its definition declares
   * them; each statement's reason justifies its wildcards to cdk-nag.
   * @default - none
   */
  readonly permissions?: readonly PermissionStatement[];
  /**
   * The destination's resume state is a capability (a session URI) and is sealed before it is
   * stored: the function may generate data keys.
   * @default false
   */
  readonly sealsResumeState?: boolean;
  /**
   * The destination writes rotated credentials back to the callers' stored secrets.
   * @default false
   */
  readonly writesCredentials?: boolean;
  /**
   * The destination reads its application secret (`<prefix>application/<type>`), an OAuth client.
   * @default false
   */
  readonly readsApplicationSecret?: boolean;
  /**
   * Buckets of the deployment's own account the function may write into with its own identity;
   * every other bucket of the account is denied (see `UploadDestinationsStackProps.ownAccountBuckets`).
   * @default - none
   */
  readonly writableOwnAccountBuckets?: readonly string[];
  /** @default - the dead-letter alarm notifies nobody */
  readonly alarmTopic?: sns.ITopic;
}

function validate(props: DestinationPipelineProps): void {
  if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(props.destinationType)) {
    throw new Error(`DestinationPipeline: destinationType must be lower-case letters, digits and hyphens, got '${props.destinationType}'`);
  }
  const owner = `DestinationPipeline '${props.destinationType}'`;
  requireIntegerInRange(owner, 'memoryMb', props.memoryMb, 128, 10_240);
  requireIntegerInRange(owner, 'timeoutSeconds', props.timeoutSeconds, 1, 900);
  requireIntegerInRange(owner, 'maxConcurrency', props.maxConcurrency, 2, 1000);
  requireIntegerInRange(owner, 'batchSize', props.batchSize ?? 1, 1, 10);
  for (const permission of props.permissions ?? []) {
    if (permission.actions.length === 0 || permission.resources.length === 0 || !permission.reason.trim()) {
      throw new Error(`${owner}: every permission needs actions, resources and a reason, got ${JSON.stringify(permission)}`);
    }
  }
}

/** Object writes a function's own identity could make into a bucket. */
const objectWrites = ['s3:PutObject', 's3:PutObjectAcl', 's3:PutObjectTagging', 's3:DeleteObject', 's3:AbortMultipartUpload'];

/**
 * Denies writes into the buckets of the deployment's own account (`aws:ResourceAccount`), except
 * `writable` ones: the identity is for customers' buckets, which grant it in their policies; inside
 * its own account an identity policy alone would suffice, so a caller could otherwise overwrite the
 * staging bucket's drops or any other bucket of the account.
 */
function ownAccountWriteDenial(writable: readonly string[]): iam.PolicyStatement {
  const where = writable.length === 0
    ? { resources: ['*'] }
    : { notResources: writable.map((bucket) => `arn:${Aws.PARTITION}:s3:::${bucket}/*`) };
  return new iam.PolicyStatement({
    effect: iam.Effect.DENY,
    actions: objectWrites,
    ...where,
    conditions: { StringEquals: { 'aws:ResourceAccount': Aws.ACCOUNT_ID } },
  });
}

/**
 * Denies assuming the roles of the deployment's own account. `role_arn` is for customers' roles,
 * whose trust policies name this account and require an external id; a role of its own account
 * whose trust policy trusts the account (`:root`, a common form) leaves the decision to identity
 * policies and ignores the external id, so any caller could borrow it, and write with it past
 * {@link ownAccountWriteDenial}.
 */
function ownAccountRoleDenial(): iam.PolicyStatement {
  return new iam.PolicyStatement({
    effect: iam.Effect.DENY,
    actions: ['sts:AssumeRole'],
    resources: [`arn:${Aws.PARTITION}:iam::${Aws.ACCOUNT_ID}:role/*`],
  });
}

/** A declared permission as a policy statement of this deployment (`{partition}` resolved). */
function policyStatement(permission: PermissionStatement): iam.PolicyStatement {
  return new iam.PolicyStatement({
    actions: [...permission.actions],
    resources: permission.resources.map((resource) => resource.replaceAll('{partition}', Aws.PARTITION)),
    ...(permission.conditions ? { conditions: permission.conditions as Record<string, Record<string, unknown>> } : {}),
  });
}

/**
 * Everything one destination type needs to deliver on its own: a queue the ingress sends its
 * deliveries to, a dead-letter queue (redrivable back) with an alarm, and a function that consumes
 * the queue with partial batch failures and a concurrency cap that protects the provider's quota.
 * The function may use only its own queue (receiving, and sending a delivery back to wait for a
 * quota), the staging bucket's sources, the callers' credentials and its own application secret.
 *
 * @example
 * new DestinationPipeline(this, 'Destination-s3', {
 *   destinationType: 's3', memoryMb: 512, timeoutSeconds: 900, maxConcurrency: 50,
 *   jobTable, stagingBucket, sealingKey, secretPrefix: 'upload-destinations/',
 * });
 */
export class DestinationPipeline extends Construct {
  public readonly destinationType: string;
  public readonly queue: sqs.Queue;
  public readonly deadLetterQueue: sqs.Queue;
  public readonly function: BundledFunction;

  public constructor(scope: Construct, id: string, props: DestinationPipelineProps) {
    validate(props);
    super(scope, id);
    const type = props.destinationType;
    this.destinationType = type;

    const workQueue = new WorkQueue(this, 'WorkQueue', {
      queueName: resourceNames.destinationQueue(type),
      deadLetterQueueName: resourceNames.destinationDeadLetterQueue(type),
      maxReceiveCount: props.maxReceiveCount ?? serviceDefaults.maxAttempts,
      consumerTimeoutSeconds: props.timeoutSeconds,
      alarmTopic: props.alarmTopic,
    });
    this.queue = workQueue.queue;
    this.deadLetterQueue = workQueue.deadLetterQueue.queue;

    this.function = new BundledFunction(this, 'Function', {
      entry: props.entry ?? functionEntries.destination(type),
      memoryMb: props.memoryMb,
      timeoutSeconds: props.timeoutSeconds,
      environment: props.environment,
    });
    this.function.addEventSource(
      new lambdaEventSources.SqsEventSource(this.queue, {
        batchSize: props.batchSize ?? 1,
        reportBatchItemFailures: true,
        maxConcurrency: props.maxConcurrency,
      }),
    );

    grantJobTable(this.function.role, props.jobTable);
    grantStagedObjects(this.function.role, props.stagingBucket, ['s3:GetObject'], stagedSourceKeys(props.stagingSourcePrefixes ?? []));
    // A manifest is never a source: it may hold another caller's inline secrets in clear.
    this.function.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ effect: iam.Effect.DENY, actions: ['s3:GetObject'], resources: [props.stagingBucket.arnForObjects(stagedManifestKeys)] }),
    );
    this.queue.grantSendMessages(this.function);
    grantSealingKey(this.function.role, props.sealingKey, props.sealsResumeState ? ['kms:Decrypt', 'kms:GenerateDataKey'] : ['kms:Decrypt']);
    props.callbackSigningSecret.grantRead(this.function);
    const credentials = `${props.secretPrefix}${secretNames.credentials('')}`;
    grantSecretsUnder(this.function.role, credentials, props.writesCredentials ? ['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue'] : ['secretsmanager:GetSecretValue']);
    if (props.readsApplicationSecret) {
      grantSecretsUnder(this.function.role, `${props.secretPrefix}${secretNames.application(type)}`, ['secretsmanager:GetSecretValue']);
    }

    this.function.role.addToPrincipalPolicy(ownAccountWriteDenial(props.writableOwnAccountBuckets ?? []));
    this.function.role.addToPrincipalPolicy(ownAccountRoleDenial());

    (props.permissions ?? []).forEach((permission, index) => {
      // A policy of its own per statement, so its reason justifies its wildcards and nothing else.
      const statement = policyStatement(permission);
      const policy = new iam.Policy(this, index === 0 ? 'ExtraPermissions' : `ExtraPermissions${index}`, { statements: [statement], roles: [this.function.role] });
      acknowledgeWildcards(policy, [statement], permission.reason);
    });
  }
}
