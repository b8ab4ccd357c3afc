import { Stack, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as lambdaDestinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as lambdaEventSources from 'aws-cdk-lib/aws-lambda-event-sources';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3Notifications from 'aws-cdk-lib/aws-s3-notifications';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { serviceDefaults, stagingPrefixes } from '../../shared/config.ts';
import { functionEntries, resourceNames } from '../resources.ts';
import { BundledFunction } from './bundled-function.ts';
import { DeadLetterQueue } from './dead-letter-queue.ts';
import { grantJobTable, grantListAllMyBuckets, grantSealingKey, grantStagedObjects, stagedJobNoteKeys, stagedManifestKeys, stagedSourceKeys } from './service-grants.ts';
import { jobListIndex } from '../../shared/jobs/table-keys.ts';
import { WorkQueue } from './work-queue.ts';

export interface IngressProps {
  readonly jobTable: dynamodb.ITable;
  /** Manifests and dropped files are read from it; presigned upload URLs point into it. */
  readonly stagingBucket: s3.IBucket;
  /**
   * Staging prefixes the operator allows `{ bucket, key }` sources under: the ingress may read
   * them besides presigned uploads and drops.
   * @default - none
   */
  readonly stagingSourcePrefixes?: readonly string[];
  /** Inline secrets are sealed with it (encrypt only). */
  readonly sealingKey: kms.IKey;
  /** Destination type → its queue. The ingress is the only sender. */
  readonly destinationQueues: Readonly<Record<string, sqs.IQueue>>;
  /**
   * Destination type → its function, which the ingress invokes (and no other function) to test a
   * destination inside the destination's own code.
   * @default - none: `POST /v1/destinations/test` answers that no function is configured
   */
  readonly destinationFunctions?: Readonly<Record<string, lambda.IFunction>>;
  /** Receives of an inbox message before it moves to the inbox dead-letter queue. */
  readonly maxReceiveCount: number;
  /**
   * Concurrency reserved for and capped at the ingress. Requests waiting for their delivery
   * (`async: false`) hold an ingress instance for up to 25 s; the cap keeps a burst of them from
   * taking the account's concurrency the destination functions need.
   * @default 100
   */
  readonly reservedConcurrency?: number;
  /**
   * The function's environment: the service settings with the destination queues' URLs and the
   * destination functions' names, written by `serviceEnvironment` (passed in so it can name them).
   */
  readonly environment: (queueUrls: Readonly<Record<string, string>>, functionNames: Readonly<Record<string, string>>) => Readonly<Record<string, string>>;
  /** @default - the dead-letter alarms notify nobody */
  readonly alarmTopic?: sns.ITopic;
}

/**
 * The one function behind the three doors: API Gateway requests, ObjectCreated events from the
 * staging bucket and messages in the inbox queue all become validated jobs, one message per
 * destination. S3 events that fail every attempt are kept in a queue of their own, not lost.
 */
export class Ingress extends Construct {
  public readonly function: BundledFunction;
  public readonly inboxQueue: sqs.Queue;
  public readonly inboxDeadLetterQueue: sqs.Queue;
  /** Staging-bucket events the function failed on three times (Lambda's asynchronous retries). */
  public readonly failedEventsQueue: sqs.Queue;

  public constructor(scope: Construct, id: string, props: IngressProps) {
    super(scope, id);
    const queueUrls = Object.fromEntries(Object.entries(props.destinationQueues).map(([type, queue]) => [type, queue.queueUrl]));
    const destinationFunctions = Object.entries(props.destinationFunctions ?? {});
    const functionNames = Object.fromEntries(destinationFunctions.map(([type, destination]) => [type, destination.functionName]));
    this.function = new BundledFunction(this, 'Function', {
      entry: functionEntries.ingress,
      memoryMb: 512,
      reservedConcurrency: props.reservedConcurrency ?? 100,
      timeoutSeconds: serviceDefaults.ingressTimeoutSeconds,
      environment: props.environment(queueUrls, functionNames),
    });

    const inbox = new WorkQueue(this, 'Inbox', {
      queueName: resourceNames.inboxQueue,
      deadLetterQueueName: resourceNames.inboxDeadLetterQueue,
      maxReceiveCount: props.maxReceiveCount,
      consumerTimeoutSeconds: serviceDefaults.ingressTimeoutSeconds,
      alarmTopic: props.alarmTopic,
    });
    this.inboxQueue = inbox.queue;
    this.inboxDeadLetterQueue = inbox.deadLetterQueue.queue;
    this.function.addEventSource(new lambdaEventSources.SqsEventSource(this.inboxQueue, { batchSize: 10, reportBatchItemFailures: true }));

    this.failedEventsQueue = this.addStagingBucketDoor(props.stagingBucket, props.alarmTopic);

    grantJobTable(this.function.role, props.jobTable, jobListIndex.name);
    // It reads sources (a HEAD) and manifests; it writes presigned uploads (signing their URLs) and
    // the job notes of drops, never a dropped file nor a source of the operator's own.
    grantStagedObjects(this.function.role, props.stagingBucket, ['s3:GetObject'], stagedSourceKeys(props.stagingSourcePrefixes ?? []));
    grantStagedObjects(this.function.role, props.stagingBucket, ['s3:PutObject'], [`${stagingPrefixes.presignedUploads}*`, stagedJobNoteKeys]);
    // Accepted manifests are deleted: they may hold inline credentials in clear.
    grantStagedObjects(this.function.role, props.stagingBucket, ['s3:DeleteObject'], [stagedManifestKeys]);
    // Sealing takes a data key per destination; the ingress never encrypts with the key itself,
    // never unseals, and reads no secret.
    grantSealingKey(this.function.role, props.sealingKey, ['kms:GenerateDataKey']);
    for (const queue of Object.values(props.destinationQueues)) queue.grantSendMessages(this.function);
    // The unqualified functions only (no `:*` for versions and aliases): a destination test runs the latest code.
    if (destinationFunctions.length > 0) {
      this.function.role.addToPrincipalPolicy(
        new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: destinationFunctions.map(([, destination]) => destination.functionArn) }),
      );
    }
    grantListAllMyBuckets(this.function.role);
  }

  /** S3 invokes the function asynchronously; events that fail every retry land in a queue. */
  private addStagingBucketDoor(stagingBucket: s3.IBucket, alarmTopic: sns.ITopic | undefined): sqs.Queue {
    // Only the prefixes the ingress acts on, so other staged objects cost no invocation.
    const notified = new s3Notifications.LambdaDestination(this.function);
    for (const prefix of Object.values(stagingPrefixes)) {
      stagingBucket.addEventNotification(s3.EventType.OBJECT_CREATED, notified, { prefix });
    }
    // CDK sets the notification with a handler of its own, a singleton at the stack's root.
    const notificationsHandler = Stack.of(this).node.children.find((child) => child.node.id.startsWith('BucketNotificationsHandler'));
    if (!notificationsHandler) throw new Error('Ingress: CDK no longer adds a BucketNotificationsHandler; update the acknowledgement below');
    Validations.of(notificationsHandler).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason: "CDK's own deploy-time handler that writes the bucket's notification configuration; it only logs with this policy.",
    });

    const failedEvents = new DeadLetterQueue(this, 'FailedEvents', { alarmTopic }).queue;
    Validations.of(failedEvents).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: "This queue is itself a dead-letter queue: the on-failure destination of the function's asynchronous invocations.",
    });
    this.function.configureAsyncInvoke({ onFailure: new lambdaDestinations.SqsDestination(failedEvents) });
    return failedEvents;
  }
}
