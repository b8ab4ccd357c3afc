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
  /**
   * Long-poll wait per receive. @default 1: a receive abandoned by `stop` still waits in the
   * embedded SQS and would take (and hide) a message sent before it ends, so it must end soon.
   */
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
 *
 * One receiver per queue hands batches to up to `concurrency` invocations at once, and receives
 * again only while one is free: several receivers long-polling one queue would all be woken by
 * each message (the embedded SQS wakes every waiter), and all but one would come back empty.
 */
export class SqsEventSource {
  private running = false;
  private receiver: Promise<void> | undefined;
  private stopping = new AbortController();
  private readonly invocations = new Set<Promise<void>>();

  public constructor(private readonly options: SqsEventSourceOptions) {}

  /** Starts polling (again, after `stop`). */
  public start(): void {
    this.running = true;
    this.stopping = new AbortController();
    this.receiver = this.receive();
  }

  /** Stops polling once the invocations running now have returned; their messages stay on the queue. */
  public async stop(): Promise<void> {
    this.running = false;
    this.stopping.abort();
    await this.receiver;
    this.receiver = undefined;
  }

  private async receive(): Promise<void> {
    const { sqs, queueUrl, queueArn } = this.options;
    const concurrency = this.options.concurrency ?? 4;
    while (this.running) {
      if (this.invocations.size >= concurrency) {
        await Promise.race(this.invocations);
        continue;
      }
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
        if (!this.running) break;
        this.options.onError?.(error);
        await new Promise((resolve) => setTimeout(resolve, 500));
        continue;
      }
      if (messages.length === 0) continue;
      const invocation = this.invoke(messages.map((message) => toRecord(message, queueArn)));
      this.invocations.add(invocation);
      void invocation.finally(() => this.invocations.delete(invocation));
    }
    await Promise.all(this.invocations);
  }

  /** One invocation with `records`, then the deletion of those it did not report as failed. */
  private async invoke(records: SQSRecord[]): Promise<void> {
    const { sqs, queueUrl, handler } = this.options;
    let failed: Set<string>;
    try {
      const response = await handler({ Records: records });
      failed = new Set((response?.batchItemFailures ?? []).map((failure) => failure.itemIdentifier));
    } catch (error) {
      this.options.onError?.(error);
      return;
    }
    const done = records.filter((record) => !failed.has(record.messageId));
    if (done.length === 0) return;
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
