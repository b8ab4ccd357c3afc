import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  StartMessageMoveTaskCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { destinationTypes } from '../../functions/destinations/registry.ts';
import { resourceNames } from '../resources.ts';

/** What can be redriven: a destination type's dead-letter queue, or the inbox's (`inbox`). */
export const redrivableQueues: readonly string[] = [...destinationTypes, 'inbox'];

export interface RedriveOptions {
  readonly sqs: SQSClient;
  /** A destination type, or `inbox`. */
  readonly type: string;
  /** Count only; move nothing. */
  readonly dryRun?: boolean;
  /**
   * `move-task`: SQS's own StartMessageMoveTask (AWS), which moves every message back to the queue
   * it came from, at its own pace. `copy`: receive, send to the queue, delete, in batches of ten
   * (for SQS servers without it, as the local runtime's).
   */
  readonly method: 'move-task' | 'copy';
  /** `move-task` only: a ceiling on messages moved per second. @default SQS's own (up to 500/s) */
  readonly maxMessagesPerSecond?: number;
}

export interface RedriveResult {
  readonly type: string;
  readonly deadLetterQueueUrl: string;
  readonly queueUrl: string;
  /** Messages in the dead-letter queue when asked (ApproximateNumberOfMessages: not in flight). */
  readonly waiting: number;
  /** Messages moved (`copy`); undefined for `move-task`, which moves them after this returns. */
  readonly moved: number | undefined;
  /** The move task's handle (`move-task`), to follow or cancel it with the AWS CLI. */
  readonly taskHandle: string | undefined;
  readonly dryRun: boolean;
}

function queueNames(type: string): { queue: string; deadLetterQueue: string } {
  if (type === 'inbox') return { queue: resourceNames.inboxQueue, deadLetterQueue: resourceNames.inboxDeadLetterQueue };
  if (!destinationTypes.includes(type as (typeof destinationTypes)[number])) {
    throw new RangeError(`unknown queue '${type}'; redrive one of: ${redrivableQueues.join(', ')}`);
  }
  return { queue: resourceNames.destinationQueue(type), deadLetterQueue: resourceNames.destinationDeadLetterQueue(type) };
}

async function urlOf(sqs: SQSClient, name: string): Promise<string> {
  const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: name }));
  if (!QueueUrl) throw new Error(`queue ${name} has no URL`);
  return QueueUrl;
}

/** Receives, sends on and deletes every message of `from`, ten at a time, until a receive comes back empty. */
async function copyAll(sqs: SQSClient, from: string, to: string): Promise<number> {
  let moved = 0;
  for (;;) {
    const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: from, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: 60 }));
    if (Messages.length === 0) return moved;
    const entries = Messages.map((message, index) => ({ Id: String(index), MessageBody: message.Body ?? '' }));
    const sent = await sqs.send(new SendMessageBatchCommand({ QueueUrl: to, Entries: entries }));
    // Only what reached the queue leaves the dead-letter queue; the rest stays for the next run.
    const delivered = new Set((sent.Successful ?? []).map((entry) => entry.Id));
    const done = Messages.filter((_message, index) => delivered.has(String(index)));
    if (done.length > 0) {
      await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: from, Entries: done.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle ?? '' })) }));
    }
    moved += done.length;
    if ((sent.Failed ?? []).length > 0) throw new Error(`could not send ${sent.Failed!.length} message(s) back to the queue (${sent.Failed![0]?.Message ?? 'no reason given'}); ${moved} moved`);
  }
}

/**
 * Moves a dead-letter queue's messages back to the queue they failed on, after the cause is fixed:
 * each is delivered again (the claim every delivery makes keeps a delivered one from uploading
 * twice). `dryRun` only counts them. The one redrive of the project: the CLI's `redrive` command
 * calls it.
 */
export async function redrive(options: RedriveOptions): Promise<RedriveResult> {
  const names = queueNames(options.type);
  const [deadLetterQueueUrl, queueUrl] = await Promise.all([urlOf(options.sqs, names.deadLetterQueue), urlOf(options.sqs, names.queue)]);
  const { Attributes } = await options.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: deadLetterQueueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'QueueArn'] }),
  );
  const waiting = Number(Attributes?.ApproximateNumberOfMessages ?? 0);
  const result = { type: options.type, deadLetterQueueUrl, queueUrl, waiting, dryRun: options.dryRun ?? false };
  if (options.dryRun || waiting === 0) return { ...result, moved: options.dryRun ? undefined : 0, taskHandle: undefined };
  if (options.method === 'copy') return { ...result, moved: await copyAll(options.sqs, deadLetterQueueUrl, queueUrl), taskHandle: undefined };
  const { TaskHandle } = await options.sqs.send(
    new StartMessageMoveTaskCommand({
      SourceArn: Attributes?.QueueArn,
      ...(options.maxMessagesPerSecond === undefined ? {} : { MaxNumberOfMessagesPerSecond: options.maxMessagesPerSecond }),
    }),
  );
  return { ...result, moved: undefined, taskHandle: TaskHandle };
}
