import { Duration } from 'aws-cdk-lib';
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

export interface WorkQueueProps {
  readonly queueName: string;
  readonly deadLetterQueueName: string;
  /** Receives before a message moves to the dead-letter queue. */
  readonly maxReceiveCount: number;
  /** The timeout of the function that consumes the queue; it sets the visibility timeout. */
  readonly consumerTimeoutSeconds: number;
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
    requireIntegerInRange(`WorkQueue ${id}`, 'maxReceiveCount', props.maxReceiveCount, 1, 1000);
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
  }
}
