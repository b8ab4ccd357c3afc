import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ListMessageMoveTasksCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  StartMessageMoveTaskCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';

/** A dead-lettered delivery, as its message names it. */
export interface DeadLetter {
  readonly messageId: string;
  /** The job's token and the destination's index, when the body names them. */
  readonly token: string | undefined;
  readonly index: number | undefined;
}

export interface RedriveOutcome {
  /** Messages moved back (or, in a dry run, that would be). */
  readonly messages: number;
  /** The deliveries they name. */
  readonly deadLetters: readonly DeadLetter[];
}

/** How long a message the redrive holds stays invisible to everyone else. */
const holdSeconds = 60;

function deadLetterOf(message: Message): DeadLetter {
  let token: string | undefined;
  let index: number | undefined;
  try {
    const body = JSON.parse(message.Body ?? '') as { token?: unknown; index?: unknown };
    token = typeof body.token === 'string' ? body.token : undefined;
    index = typeof body.index === 'number' ? body.index : undefined;
  } catch {
    // Not a delivery message: it is moved all the same, and shows without a job.
  }
  return { messageId: message.MessageId ?? '', token, index };
}

async function receive(sqs: SQSClient, queueUrl: string): Promise<Message[]> {
  const answer = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: holdSeconds, WaitTimeSeconds: 0 }));
  return answer.Messages ?? [];
}

/**
 * Moves every message of a dead-letter queue back to its queue by receiving, sending and deleting
 * them, ten at a time: for an SQS without message move tasks (the local runtime's). A message is
 * deleted only once its copy was sent, so a redrive that stops half-way loses nothing (it may send
 * one twice, which the delivery's claim makes harmless). A dry run reads the messages and lets
 * them go again untouched.
 */
export async function redriveByMoving(sqs: SQSClient, deadLetterQueueUrl: string, queueUrl: string, options: { readonly dryRun: boolean }): Promise<RedriveOutcome> {
  const deadLetters: DeadLetter[] = [];
  const held: Message[] = [];
  try {
    for (let batch = await receive(sqs, deadLetterQueueUrl); batch.length > 0; batch = await receive(sqs, deadLetterQueueUrl)) {
      if (options.dryRun) {
        held.push(...batch);
        deadLetters.push(...batch.map(deadLetterOf));
        continue;
      }
      const sent = await sqs.send(
        new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: batch.map((message, position) => ({ Id: String(position), MessageBody: message.Body ?? '' })) }),
      );
      const failed = sent.Failed ?? [];
      if (failed.length > 0) throw new Error(`could not send ${failed.length} message(s) back: ${failed.map((entry) => entry.Message ?? entry.Code).join('; ')}`);
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: deadLetterQueueUrl,
          Entries: batch.map((message, position) => ({ Id: String(position), ReceiptHandle: message.ReceiptHandle ?? '' })),
        }),
      );
      deadLetters.push(...batch.map(deadLetterOf));
    }
  } finally {
    for (let start = 0; start < held.length; start += 10) {
      const batch = held.slice(start, start + 10);
      await sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: deadLetterQueueUrl,
          Entries: batch.map((message, position) => ({ Id: String(position), ReceiptHandle: message.ReceiptHandle ?? '', VisibilityTimeout: 0 })),
        }),
      );
    }
  }
  return { messages: deadLetters.length, deadLetters };
}

/** What SQS was asked to do, and what it reports. */
export interface MoveTaskOutcome {
  /** Messages in the dead-letter queue when asked. */
  readonly messages: number;
  /** The started task's handle (to cancel it); undefined in a dry run. */
  readonly taskHandle: string | undefined;
  /** Move tasks of this queue SQS reports, most recent first: status and messages moved. */
  readonly tasks: readonly { readonly status: string; readonly moved: number; readonly toMove: number | undefined }[];
}

/**
 * Redrives a dead-letter queue in AWS with an SQS message move task, which moves every message
 * back to the queue it was dead-lettered from (the queue's redrive-allow policy permits only that
 * one). A dry run only counts the messages and lists the queue's move tasks.
 */
export async function redriveWithMoveTask(sqs: SQSClient, deadLetterQueueUrl: string, options: { readonly dryRun: boolean }): Promise<MoveTaskOutcome> {
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: deadLetterQueueUrl, AttributeNames: ['QueueArn', 'ApproximateNumberOfMessages'] }),
  );
  const arn = Attributes?.QueueArn;
  if (!arn) throw new Error(`SQS did not report the ARN of ${deadLetterQueueUrl}`);
  const messages = Number(Attributes?.ApproximateNumberOfMessages ?? 0);
  const taskHandle = options.dryRun || messages === 0 ? undefined : (await sqs.send(new StartMessageMoveTaskCommand({ SourceArn: arn }))).TaskHandle;
  const { Results } = await sqs.send(new ListMessageMoveTasksCommand({ SourceArn: arn, MaxResults: 5 }));
  return {
    messages,
    taskHandle,
    tasks: (Results ?? []).map((task) => ({
      status: task.Status ?? 'UNKNOWN',
      moved: task.ApproximateNumberOfMessagesMoved ?? 0,
      toMove: task.ApproximateNumberOfMessagesToMove,
    })),
  };
}
