import { DeleteMessageBatchCommand, ReceiveMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { SqsEventSource } from '../../infra/local/sqs-event-source.ts';

/** A queue the event source can poll: receives take what is there, or wait until stopped. */
function fakeQueue(bodies: readonly string[]) {
  const waiting: Message[] = bodies.map((body, index) => ({ MessageId: `m${index}`, ReceiptHandle: `r${index}`, Body: body, Attributes: { ApproximateReceiveCount: '1' } }));
  const deleted: string[] = [];
  let receives = 0;
  const sqs = {
    async send(command: unknown, options?: { abortSignal?: AbortSignal }) {
      if (command instanceof ReceiveMessageCommand) {
        receives += 1;
        const batch = waiting.splice(0, command.input.MaxNumberOfMessages ?? 1);
        if (batch.length > 0) return { Messages: batch };
        // An empty queue: the long poll ends when the source stops (or after a moment).
        await new Promise((resolve, reject) => {
          const timer = setTimeout(resolve, 20);
          options?.abortSignal?.addEventListener('abort', () => {
            clearTimeout(timer);
            reject(new Error('aborted'));
          });
        });
        return {};
      }
      if (command instanceof DeleteMessageBatchCommand) {
        deleted.push(...(command.input.Entries ?? []).map((entry) => entry.ReceiptHandle ?? ''));
        return {};
      }
      throw new Error('unexpected command');
    },
  } as unknown as SQSClient;
  return { sqs, deleted, receives: () => receives, remaining: () => waiting.length };
}

describe('Class: SqsEventSource', () => {
  it('runs at most `concurrency` invocations at once, and deletes what they did not report as failed', async () => {
    // Prepare
    const queue = fakeQueue(['0', '1', '2', '3', '4', '5', '6', '7']);
    let running = 0;
    let most = 0;
    const seen: string[] = [];
    const source = new SqsEventSource({
      sqs: queue.sqs,
      queueUrl: 'http://sqs/q',
      queueArn: 'arn:aws:sqs:us-east-1:000000000000:q',
      batchSize: 1,
      concurrency: 3,
      handler: async (event) => {
        running += 1;
        most = Math.max(most, running);
        seen.push(...event.Records.map((record) => record.body));
        await new Promise((resolve) => setTimeout(resolve, 10));
        running -= 1;
        return { batchItemFailures: event.Records.filter((record) => record.body === '3').map((record) => ({ itemIdentifier: record.messageId })) };
      },
    });

    // Act
    source.start();
    while (seen.length < 8) await new Promise((resolve) => setTimeout(resolve, 5));
    await source.stop();

    // Assess
    expect(most).toBe(3);
    expect(seen.sort()).toEqual(['0', '1', '2', '3', '4', '5', '6', '7']);
    expect(queue.deleted.sort()).toEqual(['r0', 'r1', 'r2', 'r4', 'r5', 'r6', 'r7']);
    expect(running).toBe(0);
  });

  it('hands a batch to one invocation, with the records as Lambda shapes them', async () => {
    // Prepare
    const queue = fakeQueue(['a', 'b', 'c']);
    const batches: string[][] = [];
    const source = new SqsEventSource({
      sqs: queue.sqs,
      queueUrl: 'http://sqs/q',
      queueArn: 'arn:aws:sqs:eu-west-1:000000000000:q',
      handler: async (event) => {
        batches.push(event.Records.map((record) => `${record.body}@${record.awsRegion}/${record.eventSource}`));
      },
    });

    // Act
    source.start();
    while (batches.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    await source.stop();

    // Assess
    expect(batches).toEqual([['a@eu-west-1/aws:sqs', 'b@eu-west-1/aws:sqs', 'c@eu-west-1/aws:sqs']]);
    expect(queue.deleted).toEqual(['r0', 'r1', 'r2']);
  });

  it('leaves a batch whose invocation threw on the queue, and tells why', async () => {
    // Prepare
    const queue = fakeQueue(['x']);
    const errors: unknown[] = [];
    const source = new SqsEventSource({
      sqs: queue.sqs,
      queueUrl: 'http://sqs/q',
      queueArn: 'arn:aws:sqs:us-east-1:000000000000:q',
      handler: async () => {
        throw new Error('the function crashed');
      },
      onError: (error) => errors.push(error),
    });

    // Act
    source.start();
    while (errors.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    await source.stop();

    // Assess
    expect(queue.deleted).toEqual([]);
    expect(String(errors[0])).toContain('the function crashed');
  });
});
