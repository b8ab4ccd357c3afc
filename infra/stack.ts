import { CfnOutput, RemovalPolicy, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct, Node } from 'constructs';
import { destinations, destinationTypes } from '../functions/destinations/registry.ts';
import { secretNames, serviceDefaults, serviceEnvironment, type ServiceSettings } from '../shared/config.ts';
import { jobListIndex, jobTableKeys } from '../shared/jobs/table-keys.ts';
import { resourceNames } from './resources.ts';
import { OperationsAlarms } from './constructs/alarms.ts';
import { DestinationPipeline } from './constructs/destination-pipeline.ts';
import { OperationsDashboard } from './constructs/operations-dashboard.ts';
import { Ingress } from './constructs/ingress.ts';
import { StagingBucket } from './constructs/staging-bucket.ts';
import { UploadsApi } from './constructs/uploads-api.ts';
import { requireIntegerInRange } from './constructs/validate.ts';

/** What an operator changes, as context (`cdk deploy -c retentionDays=7`) or in cdk.json. */
export interface UploadDestinationsStackProps extends StackProps {
  /**
   * Days job records (table TTL) and staged source files (bucket expiry) are kept.
   * @default serviceDefaults.retentionDays
   */
  readonly retentionDays?: number;
  /**
   * Attempts of a delivery (and of an inbox message) before it moves to its dead-letter queue.
   * @default serviceDefaults.maxAttempts
   */
  readonly maxAttempts?: number;
  /**
   * Destination type → how many of its functions may run at once, overriding the registry.
   * @default - each destination's registry value
   */
  readonly concurrency?: Readonly<Record<string, number>>;
  /**
   * Hosts that source URLs may point at.
   * @default - any public host
   */
  readonly allowedSourceHosts?: readonly string[];
  /**
   * Staging-bucket prefixes a request may name as its `{ bucket, key }` source.
   * @default - none: files reach the service through presigned uploads and the drop folder
   */
  readonly stagingSourcePrefixes?: readonly string[];
  /**
   * Buckets of the deployment's own account that bucket-policy mode may write into. The service's
   * identity writes into customers' buckets; in its own account a bucket policy is not even needed,
   * so writes there are denied unless a bucket is listed here.
   * @default - none
   */
  readonly ownAccountBuckets?: readonly string[];
  /**
   * Hosts stored credentials may be sent to beyond those each destination trusts with them (AWS's
   * own for S3 keys): an S3-compatible store's hosts, e.g. `*.r2.cloudflarestorage.com`.
   * @default - none
   */
  readonly credentialHosts?: readonly string[];
  /**
   * The largest source the service reads, in bytes; larger ones fail before a byte is sent.
   * @default serviceDefaults.maxSourceBytes (50 GiB)
   */
  readonly maxSourceBytes?: number;
  /**
   * Concurrency reserved for (and capped at) the ingress function.
   * @default 100
   */
  readonly ingressConcurrency?: number;
  /**
   * How many `async: false` requests may wait for their delivery at once, deployment-wide; beyond
   * it a request gets its token at once (each waiter holds an ingress instance).
   * @default serviceDefaults.maxSyncWaiters (50)
   */
  readonly maxSyncWaiters?: number;
  /**
   * An SNS topic (that you own) for the alarms: dead letters, failure ratio, oldest message, API 5xx.
   * @default - the alarms notify nobody; they show in the CloudWatch console
   */
  readonly alarmTopicArn?: string;
  /**
   * Share of a destination's finished deliveries that failed for good in 5 minutes above which it alarms.
   * @default 0.1
   */
  readonly failureRatioThreshold?: number;
  /**
   * Age in seconds of the oldest message of a destination's queue above which it alarms.
   * @default 1800
   */
  readonly oldestMessageAgeSeconds?: number;
  /**
   * 5xx answers of the API in 5 minutes above which it alarms.
   * @default 5
   */
  readonly ingressServerErrorThreshold?: number;
}

function validate(props: UploadDestinationsStackProps): void {
  requireIntegerInRange('UploadDestinationsStack', 'retentionDays', props.retentionDays ?? serviceDefaults.retentionDays, 1, 36_500);
  requireIntegerInRange('UploadDestinationsStack', 'maxAttempts', props.maxAttempts ?? serviceDefaults.maxAttempts, 1, 1000);
  requireIntegerInRange('UploadDestinationsStack', 'maxSourceBytes', props.maxSourceBytes ?? serviceDefaults.maxSourceBytes, 1, Number.MAX_SAFE_INTEGER);
  requireIntegerInRange('UploadDestinationsStack', 'ingressConcurrency', props.ingressConcurrency ?? 100, 1, 10_000);
  requireIntegerInRange('UploadDestinationsStack', 'maxSyncWaiters', props.maxSyncWaiters ?? serviceDefaults.maxSyncWaiters, 1, 10_000);
  for (const type of Object.keys(props.concurrency ?? {})) {
    if (!destinationTypes.includes(type as (typeof destinationTypes)[number])) {
      throw new Error(`UploadDestinationsStack: concurrency names unknown destination type '${type}'; known: ${destinationTypes.join(', ')}`);
    }
  }
}

/**
 * The deployed service: the API, the staging bucket and the inbox queue (the three doors) in
 * front of one ingress function; one {@link DestinationPipeline} per destination in the registry;
 * the job table, the sealing key and the callback signing secret they share.
 */
export class UploadDestinationsStack extends Stack {
  public constructor(scope: Construct, id: string, props: UploadDestinationsStackProps = {}) {
    validate(props);
    super(scope, id, {
      description: 'Upload Destinations: delivers files to S3, Azure Blob, YouTube and more.',
      ...props,
    });
    const retentionDays = props.retentionDays ?? serviceDefaults.retentionDays;
    const maxAttempts = props.maxAttempts ?? serviceDefaults.maxAttempts;

    const jobTable = new dynamodb.Table(this, 'JobTable', {
      tableName: resourceNames.table,
      partitionKey: { name: jobTableKeys.partition, type: dynamodb.AttributeType.STRING },
      sortKey: { name: jobTableKeys.sort, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: jobTableKeys.expiry,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      removalPolicy: RemovalPolicy.RETAIN,
      // RETAIN guards against the stack's deletion only; this against a console or API one.
      deletionProtection: true,
    });
    jobTable.addGlobalSecondaryIndex({
      indexName: jobListIndex.name,
      partitionKey: { name: jobListIndex.partition, type: dynamodb.AttributeType.STRING },
      sortKey: { name: jobListIndex.sort, type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.KEYS_ONLY,
    });
    const sealingKey = new kms.Key(this, 'SealingKey', {
      description: 'Seals inline destination secrets (envelope encryption) before they touch a queue or the job table.',
      enableKeyRotation: true,
    });
    // Bucket names are global: the account and region keep two deployments apart.
    const staging = new StagingBucket(this, 'Staging', {
      bucketName: `${resourceNames.stagingBucket}-${this.account}-${this.region}`,
      expirationDays: retentionDays,
    });
    const callbackSigningSecret = new secretsmanager.Secret(this, 'CallbackSigningKey', {
      secretName: `${resourceNames.secretPrefix}${secretNames.callbackSigningKey}`,
      description: 'Signs the callbacks sent when a job finishes.',
      // The functions read the `key` field of the secret's JSON.
      generateSecretString: { secretStringTemplate: '{}', generateStringKey: 'key', passwordLength: 64, excludePunctuation: true },
    });
    Validations.of(callbackSigningSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason: 'Callback receivers verify signatures with this key, so it changes only when the operator has told them.',
    });
    const alarmTopic = props.alarmTopicArn ? sns.Topic.fromTopicArn(this, 'AlarmTopic', props.alarmTopicArn) : undefined;

    const settings: ServiceSettings = {
      tableName: jobTable.tableName,
      stagingBucket: staging.bucket.bucketName,
      sealer: { kind: 'kms', keyId: sealingKey.keyArn },
      secretPrefix: resourceNames.secretPrefix,
      allowedSourceHosts: props.allowedSourceHosts ?? [],
      stagingSourcePrefixes: props.stagingSourcePrefixes ?? [],
      credentialHosts: props.credentialHosts ?? [],
      ...(props.maxSourceBytes === undefined ? {} : { maxSourceBytes: props.maxSourceBytes }),
      ...(props.maxSyncWaiters === undefined ? {} : { maxSyncWaiters: props.maxSyncWaiters }),
      maxAttempts,
      retentionDays,
    };
    const environment = serviceEnvironment(settings);

    const pipelines = destinations.map(
      (definition) =>
        new DestinationPipeline(this, `Destination-${definition.type}`, {
          destinationType: definition.type,
          memoryMb: definition.lambda.memoryMb,
          timeoutSeconds: definition.lambda.timeoutSeconds,
          maxConcurrency: props.concurrency?.[definition.type] ?? definition.lambda.maxConcurrency,
          maxReceiveCount: maxAttempts,
          jobTable,
          stagingBucket: staging.bucket,
          stagingSourcePrefixes: settings.stagingSourcePrefixes,
          sealingKey,
          secretPrefix: resourceNames.secretPrefix,
          callbackSigningSecret,
          environment,
          alarmTopic,
          ...(definition.permissions ? { permissions: definition.permissions } : {}),
          sealsResumeState: definition.capabilities?.resumable?.sealed ?? false,
          writesCredentials: definition.capabilities?.writableCredentials ?? false,
          readsApplicationSecret: definition.applicationSecret !== undefined,
          writableOwnAccountBuckets: props.ownAccountBuckets ?? [],
        }),
    );

    const ingress = new Ingress(this, 'Ingress', {
      jobTable,
      stagingBucket: staging.bucket,
      stagingSourcePrefixes: settings.stagingSourcePrefixes,
      sealingKey,
      destinationQueues: Object.fromEntries(pipelines.map((pipeline) => [pipeline.destinationType, pipeline.queue])),
      destinationFunctions: Object.fromEntries(pipelines.map((pipeline) => [pipeline.destinationType, pipeline.function])),
      maxReceiveCount: maxAttempts,
      ...(props.ingressConcurrency === undefined ? {} : { reservedConcurrency: props.ingressConcurrency }),
      // The account reaches the ingress only: it refuses the account's roles as role_arn, which the
      // destination functions are denied anyway.
      environment: (queueUrls, destinationFunctions) =>
        serviceEnvironment({ ...settings, queueUrls, destinationFunctions, accountId: this.account }, (value) => this.toJsonString(value)),
      alarmTopic,
    });
    const api = new UploadsApi(this, 'Api', { handler: ingress.function });
    new OperationsDashboard(this, 'Dashboard', { destinations: pipelines, ingress: ingress.function, api: api.restApi });
    new OperationsAlarms(this, 'Alarms', {
      destinations: pipelines,
      api: api.restApi,
      alarmTopic,
      ...(props.failureRatioThreshold === undefined ? {} : { failureRatioThreshold: props.failureRatioThreshold }),
      ...(props.oldestMessageAgeSeconds === undefined ? {} : { oldestMessageAgeSeconds: props.oldestMessageAgeSeconds }),
      ...(props.ingressServerErrorThreshold === undefined ? {} : { ingressServerErrors: props.ingressServerErrorThreshold }),
    });

    this.addOutputs(api, ingress, staging);
  }

  private addOutputs(api: UploadsApi, ingress: Ingress, staging: StagingBucket): void {
    const url = api.restApi.url;
    new CfnOutput(this, 'ApiUrl', { description: 'Base URL of the HTTP API (POST v1/uploads).', value: url });
    new CfnOutput(this, 'ApiKeyId', {
      description: 'Send its value as x-api-key. Value: aws apigateway get-api-key --include-value --query value --output text --api-key <this id>',
      value: api.apiKey.keyId,
    });
    new CfnOutput(this, 'InboxQueueUrl', { description: 'Other systems send upload requests (POST v1/uploads bodies) here.', value: ingress.inboxQueue.queueUrl });
    new CfnOutput(this, 'InboxQueueArn', { description: 'Grant sqs:SendMessage on this to the systems that send jobs.', value: ingress.inboxQueue.queueArn });
    new CfnOutput(this, 'StagingBucketName', { description: 'Files dropped here (with their manifest) are delivered.', value: staging.bucket.bucketName });
    new CfnOutput(this, 'SecretPrefix', {
      description: 'Secrets Manager names the functions may read; name credentials secrets with this prefix.',
      value: resourceNames.secretPrefix,
    });
    new CfnOutput(this, 'CanonicalUserIdCommand', {
      description: "The account's canonical user ID, for bucket policies in bucket-policy mode (or: aws s3api list-buckets --query Owner.ID --output text).",
      value: `curl -H "x-api-key: <key>" ${url}v1/canonical-user`,
    });
  }
}

function contextInteger(node: Node, name: string): number | undefined {
  const value: unknown = node.tryGetContext(name);
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isInteger(number)) throw new Error(`context ${name} must be an integer, got '${String(value)}'`);
  return number;
}

function contextNumber(node: Node, name: string): number | undefined {
  const value: unknown = node.tryGetContext(name);
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isFinite(number)) throw new Error(`context ${name} must be a number, got '${String(value)}'`);
  return number;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** A context value that is a JSON object of destination type → integer (`example` shows one). */
function contextIntegerMap(node: Node, name: string, example: string): Record<string, number> | undefined {
  const value: unknown = node.tryGetContext(name);
  if (value === undefined) return undefined;
  const map: unknown = typeof value === 'string' ? parseJson(value) : value;
  const entries = typeof map === 'object' && map !== null && !Array.isArray(map) ? Object.entries(map) : [];
  if (entries.length === 0 || entries.some(([, limit]) => !Number.isInteger(limit))) {
    throw new Error(`context ${name} must be a JSON object of destination type → integer, e.g. ${example}, got '${typeof value === 'string' ? value : JSON.stringify(value)}'`);
  }
  return Object.fromEntries(entries) as Record<string, number>;
}

function contextList(node: Node, name: string): string[] | undefined {
  const value: unknown = node.tryGetContext(name);
  if (value === undefined) return undefined;
  return (Array.isArray(value) ? value.map(String) : String(value).split(',')).map((item) => item.trim()).filter(Boolean);
}

/**
 * The stack props an operator sets as context: `retentionDays`, `maxAttempts`, `concurrency`
 * (JSON map, e.g. `{"youtube":2}`), the comma lists `allowedSourceHosts`, `stagingSourcePrefixes`,
 * `ownAccountBuckets` and `credentialHosts`, the limits `maxSourceBytes`, `ingressConcurrency` and
 * `maxSyncWaiters`, `alarmTopicArn` and the alarms' thresholds
 * (`failureRatioThreshold`, `oldestMessageAgeSeconds`, `ingressServerErrorThreshold`).
 */
export function stackPropsFromContext(node: Node): UploadDestinationsStackProps {
  const alarmTopicArn: unknown = node.tryGetContext('alarmTopicArn');
  return {
    retentionDays: contextInteger(node, 'retentionDays'),
    maxAttempts: contextInteger(node, 'maxAttempts'),
    concurrency: contextIntegerMap(node, 'concurrency', '{"s3":10}'),
    allowedSourceHosts: contextList(node, 'allowedSourceHosts'),
    stagingSourcePrefixes: contextList(node, 'stagingSourcePrefixes'),
    ownAccountBuckets: contextList(node, 'ownAccountBuckets'),
    credentialHosts: contextList(node, 'credentialHosts'),
    maxSourceBytes: contextInteger(node, 'maxSourceBytes'),
    ingressConcurrency: contextInteger(node, 'ingressConcurrency'),
    maxSyncWaiters: contextInteger(node, 'maxSyncWaiters'),
    failureRatioThreshold: contextNumber(node, 'failureRatioThreshold'),
    oldestMessageAgeSeconds: contextInteger(node, 'oldestMessageAgeSeconds'),
    ingressServerErrorThreshold: contextInteger(node, 'ingressServerErrorThreshold'),
    alarmTopicArn: alarmTopicArn === undefined ? undefined : String(alarmTopicArn),
  };
}
