import { Duration } from 'aws-cdk-lib';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DeadLetterQueue } from './dead-letter-queue.ts';

/** SQS refuses a longer visibility timeout. */
export const maxVisibilityTimeoutSeconds = 12 * 60 * 60;

export interface WorkQueueProps {
  readonly queueName: string;
  readonly deadLetterQueueName: string;
  /** Receives before a message moves to the dead-letter queue. */
  readonly maxReceiveCount: number;
  readonly visibilityTimeoutSeconds: number;
  /** @default - the dead-letter alarm notifies nobody */
  readonly alarmTopic?: sns.ITopic;
}

/**
 * A queue that a Lambda function consumes, with its dead-letter queue: encrypted, TLS only, and
 * redrive from the dead-letter queue allowed back to this queue alone.
 */
export class WorkQueue extends Construct {
  public readonly queue: sqs.Queue;
  public readonly deadLetterQueue: DeadLetterQueue;

  public constructor(scope: Construct, id: string, props: WorkQueueProps) {
    super(scope, id);
    if (!Number.isInteger(props.maxReceiveCount) || props.maxReceiveCount < 1 || props.maxReceiveCount > 1000) {
      throw new Error(`${id}: maxReceiveCount must be an integer from 1 to 1000, got ${props.maxReceiveCount}`);
    }
    if (props.visibilityTimeoutSeconds > maxVisibilityTimeoutSeconds) {
      throw new Error(`${id}: visibility timeout must be at most ${maxVisibilityTimeoutSeconds} s, got ${props.visibilityTimeoutSeconds}`);
    }
    this.deadLetterQueue = new DeadLetterQueue(this, 'DeadLetter', {
      queueName: props.deadLetterQueueName,
      sourceQueueName: props.queueName,
      alarmTopic: props.alarmTopic,
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      queueName: props.queueName,
      visibilityTimeout: Duration.seconds(props.visibilityTimeoutSeconds),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      deadLetterQueue: { queue: this.deadLetterQueue.queue, maxReceiveCount: props.maxReceiveCount },
    });
  }
}
