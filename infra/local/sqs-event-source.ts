import { DeleteMessageBatchCommand, ReceiveMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';

/** Invokes the consuming function with one batch. */
export type SqsHandler = (event: SQSEvent) => Promise<SQSBatchResponse | void>;

export interface SqsEventSourceOptions {
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly handler: SqsHandler;
  /** Records per invocation, like the event source mapping's batch size. @default 10 */
  readonly batchSize?: number;
  /** Invocations running at once (Lambda's concurrency). @default 4 */
  readonly concurrency?: number;
  /** Long-poll wait per receive. @default 1 */
  readonly waitTimeSeconds?: number;
  /** Called when an invocation throws; the batch stays on the queue for redelivery. */
  readonly onError?: (error: unknown) => void;
}

function toRecord(message: Message, queueArn: string): SQSRecord {
  const attributes = message.Attributes ?? {};
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: {
      ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? '1',
      SentTimestamp: attributes.SentTimestamp ?? String(Date.now()),
      SenderId: attributes.SenderId ?? 'local',
      ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: queueArn.split(':')[3] ?? 'us-east-1',
  };
}

/**
 * What Lambda's SQS event source mapping does, for the local runtime: long-poll the queue, invoke
 * the handler with a batch, delete the records it did not report as failed. Failed records stay
 * and come back when their visibility timeout ends (the handler may have shortened it for backoff);
 * the queue's redrive policy moves them to the dead-letter queue after the last receive.
 */
export class SqsEventSource {
  private running = false;
  private loops: Promise<void>[] = [];
  private stopping = new AbortController();

  public constructor(private readonly options: SqsEventSourceOptions) {}

  /** Starts polling (again, after `stop`). */
  public start(): void {
    this.running = true;
    this.stopping = new AbortController();
    for (let index = 0; index < (this.options.concurrency ?? 4); index += 1) this.loops.push(this.poll());
  }

  /** Stops polling once the invocations running now have returned; their messages stay on the queue. */
  public async stop(): Promise<void> {
    this.running = false;
    this.stopping.abort();
    await Promise.all(this.loops);
    this.loops = [];
  }

  private async poll(): Promise<void> {
    const { sqs, queueUrl, queueArn, handler } = this.options;
    while (this.running) {
      let messages: Message[];
      try {
        const answer = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: this.options.batchSize ?? 10,
            WaitTimeSeconds: this.options.waitTimeSeconds ?? 1,
            MessageSystemAttributeNames: ['All'],
          }),
          { abortSignal: this.stopping.signal },
        );
        messages = answer.Messages ?? [];
      } catch (error) {
        if (!this.running) return;
        this.options.onError?.(error);
        await new Promise((resolve) => setTimeout(resolve, 500));
        continue;
      }
      if (messages.length === 0) continue;
      const records = messages.map((message) => toRecord(message, queueArn));
      let failed: Set<string>;
      try {
        const response = await handler({ Records: records });
        failed = new Set((response?.batchItemFailures ?? []).map((failure) => failure.itemIdentifier));
      } catch (error) {
        this.options.onError?.(error);
        continue;
      }
      const done = records.filter((record) => !failed.has(record.messageId));
      if (done.length > 0) {
        await sqs
          .send(
            new DeleteMessageBatchCommand({
              QueueUrl: queueUrl,
              Entries: done.map((record, index) => ({ Id: String(index), ReceiptHandle: record.receiptHandle })),
            }),
          )
          .catch((error: unknown) => this.options.onError?.(error));
      }
    }
  }
}
