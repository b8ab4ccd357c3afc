import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  QueueDoesNotExist,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  StartMessageMoveTaskCommand,
  type Message,
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
  /** `copy` only: the deliveries the messages name (moved, or in a dry run, read and let go). */
  readonly deadLetters: readonly DeadLetter[] | undefined;
}

function queueNames(type: string): { queue: string; deadLetterQueue: string } {
  if (type === 'inbox') return { queue: resourceNames.inboxQueue, deadLetterQueue: resourceNames.inboxDeadLetterQueue };
  if (!destinationTypes.includes(type as (typeof destinationTypes)[number])) {
    throw new RangeError(`unknown queue '${type}'; redrive one of: ${redrivableQueues.join(', ')}`);
  }
  return { queue: resourceNames.destinationQueue(type), deadLetterQueue: resourceNames.destinationDeadLetterQueue(type) };
}

/** The URL of queue `name`; one that does not exist is named with what it is (`s3's queue`). */
async function urlOf(sqs: SQSClient, name: string, what: string): Promise<string> {
  let QueueUrl: string | undefined;
  try {
    ({ QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: name })));
  } catch (error) {
    if (!(error instanceof QueueDoesNotExist)) throw error;
    throw new Error(`${what} ${name} does not exist in this account and region (is the stack deployed there, or the local runtime running?)`, { cause: error });
  }
  if (!QueueUrl) throw new Error(`${what} ${name} has no URL`);
  return QueueUrl;
}

/** A dead-lettered delivery, as its message names it. */
export interface DeadLetter {
  readonly messageId: string;
  /** The job's token and the destination's index, when the body names them. */
  readonly token: string | undefined;
  readonly index: number | undefined;
}

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

/** A dead letter as a line names it: `ud_… #2`. */
export function describeDeadLetter(letter: DeadLetter): string {
  return `${letter.token ?? '(no job named)'}${letter.index === undefined ? '' : ` #${letter.index}`}`;
}

/**
 * Deletes messages whose copies are on the queue already from the dead-letter queue; returns
 * those it could not delete, each with why. Such a message stays, and the next redrive sends it
 * again (harmless: a delivery's claim keeps it from uploading twice, but it must not be silent).
 */
async function deleteMoved(sqs: SQSClient, queueUrl: string, messages: readonly Message[]): Promise<{ message: Message; reason: string; cause?: unknown }[]> {
  try {
    const answer = await sqs.send(
      new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: messages.map((message, position) => ({ Id: String(position), ReceiptHandle: message.ReceiptHandle ?? '' })) }),
    );
    return (answer.Failed ?? []).map((entry) => ({ message: messages[Number(entry.Id)]!, reason: entry.Message ?? entry.Code ?? 'no reason given' }));
  } catch (error) {
    return messages.map((message) => ({ message, reason: error instanceof Error ? error.message : String(error), cause: error }));
  }
}

/** How long a message the redrive holds stays invisible to everyone else. */
const holdSeconds = 60;

async function receive(sqs: SQSClient, queueUrl: string): Promise<Message[]> {
  const answer = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: holdSeconds, WaitTimeSeconds: 0 }));
  return answer.Messages ?? [];
}

function batchesOfTen<T>(items: readonly T[]): T[][] {
  const batches: T[][] = [];
  for (let start = 0; start < items.length; start += 10) batches.push(items.slice(start, start + 10));
  return batches;
}

/**
 * Receives every message of `from` and sends it on to `to`, ten at a time, until a receive comes
 * back empty. A message is deleted only once its copy was sent, so a redrive that stops half-way
 * loses nothing (it may send one twice, which the delivery's claim makes harmless). A dry run
 * reads the messages and lets them go again untouched.
 */
async function copyAll(sqs: SQSClient, from: string, to: string, dryRun: boolean, type: string): Promise<DeadLetter[]> {
  const deadLetters: DeadLetter[] = [];
  const held: Message[] = [];
  try {
    for (let batch = await receive(sqs, from); batch.length > 0; batch = await receive(sqs, from)) {
      if (dryRun) {
        held.push(...batch);
        deadLetters.push(...batch.map(deadLetterOf));
        continue;
      }
      const sent = await sqs.send(new SendMessageBatchCommand({ QueueUrl: to, Entries: batch.map((message, position) => ({ Id: String(position), MessageBody: message.Body ?? '' })) }));
      // Only what reached the queue leaves the dead-letter queue; the rest stays for the next run.
      const delivered = new Set((sent.Successful ?? []).map((entry) => entry.Id));
      const done = batch.filter((_message, position) => delivered.has(String(position)));
      const stuck = done.length > 0 ? await deleteMoved(sqs, from, done) : [];
      deadLetters.push(...done.filter((message) => !stuck.some((failure) => failure.message === message)).map(deadLetterOf));
      if (stuck.length > 0) {
        const named = stuck.map((failure) => describeDeadLetter(deadLetterOf(failure.message))).join(', ');
        throw new Error(
          `${stuck.length} message(s) sent back to ${type}'s queue could not be removed from its dead-letter queue (${stuck[0]!.reason}): ${named}; ` +
            `the next redrive sends them again; ${deadLetters.length} moved`,
          { cause: stuck[0]!.cause },
        );
      }
      const failed = sent.Failed ?? [];
      if (failed.length > 0) throw new Error(`could not send ${failed.length} message(s) back to the queue (${failed[0]?.Message ?? failed[0]?.Code ?? 'no reason given'}); ${deadLetters.length} moved`);
    }
  } finally {
    for (const batch of batchesOfTen(held)) {
      await sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: from,
          Entries: batch.map((message, position) => ({ Id: String(position), ReceiptHandle: message.ReceiptHandle ?? '', VisibilityTimeout: 0 })),
        }),
      );
    }
  }
  return deadLetters;
}

/**
 * Moves a dead-letter queue's messages back to the queue they failed on, after the cause is fixed:
 * each is delivered again (the claim every delivery makes keeps a delivered one from uploading
 * twice). `dryRun` only counts them. The one redrive of the project: the CLI's `redrive` command
 * calls it.
 */
export async function redrive(options: RedriveOptions): Promise<RedriveResult> {
  const names = queueNames(options.type);
  // One after the other, so that when neither exists the error names the one redrive reads from.
  const deadLetterQueueUrl = await urlOf(options.sqs, names.deadLetterQueue, `${options.type}'s dead-letter queue`);
  const queueUrl = await urlOf(options.sqs, names.queue, `${options.type}'s queue`);
  const { Attributes } = await options.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: deadLetterQueueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'QueueArn'] }),
  );
  const waiting = Number(Attributes?.ApproximateNumberOfMessages ?? 0);
  const result = { type: options.type, deadLetterQueueUrl, queueUrl, waiting, dryRun: options.dryRun ?? false };
  if (options.method === 'copy') {
    const deadLetters = await copyAll(options.sqs, deadLetterQueueUrl, queueUrl, options.dryRun ?? false, options.type);
    return { ...result, moved: options.dryRun ? undefined : deadLetters.length, taskHandle: undefined, deadLetters };
  }
  if (options.dryRun || waiting === 0) return { ...result, moved: options.dryRun ? undefined : 0, taskHandle: undefined, deadLetters: undefined };
  const { TaskHandle } = await options.sqs.send(
    new StartMessageMoveTaskCommand({
      SourceArn: Attributes?.QueueArn,
      ...(options.maxMessagesPerSecond === undefined ? {} : { MaxNumberOfMessagesPerSecond: options.maxMessagesPerSecond }),
    }),
  );
  return { ...result, moved: undefined, taskHandle: TaskHandle, deadLetters: undefined };
}
