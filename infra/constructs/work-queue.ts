import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DeadLetterQueue } from './dead-letter-queue.ts';
import { requireIntegerInRange } from './validate.ts';

/**
 * A received message stays invisible this many times its consumer's timeout, as AWS advises for
 * Lambda event sources, so throttled or retried invocations do not see it again too early. With
 * Lambda's 900 s limit this stays under SQS's 12 h limit.
 */
export const visibilityTimeoutPerConsumerTimeout = 6;

/**
 * How old a queue's oldest message may grow before its alarm goes off. A delivery's message lives
 * through its attempts and their backoff (minutes, far less when the destination is healthy); one
 * an hour old means deliveries are waiting: a destination backed up at its concurrency, failing
 * slowly on every attempt, or a function that cannot run.
 */
export const defaultOldestMessageAlarmSeconds = 3600;

export interface WorkQueueProps {
  readonly queueName: string;
  readonly deadLetterQueueName: string;
  /** Receives before a message moves to the dead-letter queue. */
  readonly maxReceiveCount: number;
  /** The timeout of the function that consumes the queue; it sets the visibility timeout. */
  readonly consumerTimeoutSeconds: number;
  /** @default - the alarms notify nobody */
  readonly alarmTopic?: sns.ITopic;
  /**
   * The age of the queue's oldest message, in seconds, that raises its alarm (60 s to 14 days).
   * @default defaultOldestMessageAlarmSeconds
   */
  readonly oldestMessageAlarmSeconds?: number;
}

/**
 * A queue that a Lambda function consumes, with its dead-letter queue: encrypted, TLS only, and
 * redrive from the dead-letter queue allowed back to this queue alone. Two alarms watch it: one on
 * the dead-letter queue (a message failed every attempt), one on the age of the queue's oldest
 * message (deliveries are waiting).
 */
export class WorkQueue extends Construct {
  public readonly queue: sqs.Queue;
  public readonly deadLetterQueue: DeadLetterQueue;
  public readonly oldestMessageAlarm: cloudwatch.Alarm;

  public constructor(scope: Construct, id: string, props: WorkQueueProps) {
    requireIntegerInRange(`WorkQueue ${id}`, 'maxReceiveCount', props.maxReceiveCount, 1, 1000);
    const oldestMessageSeconds = props.oldestMessageAlarmSeconds ?? defaultOldestMessageAlarmSeconds;
    requireIntegerInRange(`WorkQueue ${id}`, 'oldestMessageAlarmSeconds', oldestMessageSeconds, 60, 14 * 86_400);
    super(scope, id);
    this.deadLetterQueue = new DeadLetterQueue(this, 'DeadLetter', {
      queueName: props.deadLetterQueueName,
      sourceQueueName: props.queueName,
      alarmTopic: props.alarmTopic,
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      queueName: props.queueName,
      visibilityTimeout: Duration.seconds(visibilityTimeoutPerConsumerTimeout * props.consumerTimeoutSeconds),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      deadLetterQueue: { queue: this.deadLetterQueue.queue, maxReceiveCount: props.maxReceiveCount },
    });
    this.oldestMessageAlarm = new cloudwatch.Alarm(this, 'OldestMessage', {
      alarmDescription: `A message in ${this.queue.queueName} has waited more than ${oldestMessageSeconds} s: deliveries are backed up or keep failing slowly.`,
      metric: this.queue.metricApproximateAgeOfOldestMessage({ period: Duration.minutes(5), statistic: 'Maximum' }),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      threshold: oldestMessageSeconds,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    if (props.alarmTopic) this.oldestMessageAlarm.addAlarmAction(new cloudwatchActions.SnsAction(props.alarmTopic));
  }
}
