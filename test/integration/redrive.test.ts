import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { buildApp } from 'fauxqs';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redrive } from '../../infra/cli/redrive.ts';
import { resourceNames } from '../../infra/resources.ts';

let app: ReturnType<typeof buildApp>;
let sqs: SQSClient;
const endpoint = (): string => `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;

beforeAll(async () => {
  app = buildApp({ logger: false });
  await app.listen({ port: 0, host: '127.0.0.1' });
  sqs = new SQSClient({ region: 'us-east-1', endpoint: endpoint(), credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
});

afterAll(async () => {
  sqs.destroy();
  await app.close();
});

/**
 * A client of the same SQS whose batch deletes fail for the message whose body names `token`, as
 * SQS answers an entry it could not delete (fauxqs deletes whatever it is asked to): the other
 * entries go to SQS, and the answer lists that one as failed.
 */
function sqsRefusingToDelete(token: string): SQSClient {
  const client = new SQSClient({ region: 'us-east-1', endpoint: endpoint(), credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  const bodies = new Map<string, string>();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const refused: { Id: string; Code: string; Message: string; SenderFault: boolean }[] = [];
      if (context.commandName === 'DeleteMessageBatchCommand') {
        const input = args.input as { Entries: { Id?: string; ReceiptHandle?: string }[] };
        const kept = input.Entries.filter((entry) => !bodies.get(entry.ReceiptHandle ?? '')?.includes(token));
        for (const entry of input.Entries.filter((item) => !kept.includes(item))) {
          refused.push({ Id: entry.Id ?? '', Code: 'InternalError', Message: 'We encountered an internal error. Please try again.', SenderFault: false });
        }
        input.Entries = kept;
      }
      const answer = await next(args);
      const output = answer.output as { Messages?: { Body?: string; ReceiptHandle?: string }[]; Failed?: unknown[] };
      for (const message of output.Messages ?? []) bodies.set(message.ReceiptHandle ?? '', message.Body ?? '');
      if (refused.length > 0) output.Failed = [...(output.Failed ?? []), ...refused];
      return answer;
    },
    { step: 'initialize' },
  );
  return client;
}

/** The queue pair of a destination type, as the stack and the local runtime name it. */
async function queuesOf(type: string): Promise<{ queue: string; deadLetters: string }> {
  const queue = (await sqs.send(new CreateQueueCommand({ QueueName: resourceNames.destinationQueue(type) }))).QueueUrl!;
  const deadLetters = (await sqs.send(new CreateQueueCommand({ QueueName: resourceNames.destinationDeadLetterQueue(type) }))).QueueUrl!;
  return { queue, deadLetters };
}

async function depth(url: string): Promise<number> {
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
  return Number(Attributes?.ApproximateNumberOfMessages) + Number(Attributes?.ApproximateNumberOfMessagesNotVisible);
}

describe('Function: redrive, by copying (an SQS without message move tasks)', () => {
  it('moves every dead-lettered message back to its queue, bodies unchanged, naming the jobs', async () => {
    // Prepare: 13 deliveries, more than one batch, and a message that is no delivery.
    const { queue, deadLetters } = await queuesOf('s3');
    const bodies = Array.from({ length: 13 }, (_, index) => JSON.stringify({ version: 1, token: `ud_job${index}`, index: 0, type: 's3' }));
    for (const body of [...bodies, 'not json']) await sqs.send(new SendMessageCommand({ QueueUrl: deadLetters, MessageBody: body }));

    // Act
    const outcome = await redrive({ sqs, type: 's3', method: 'copy' });

    // Assess
    expect(outcome.moved).toBe(14);
    expect((outcome.deadLetters ?? []).map((letter) => letter.token).filter(Boolean).sort()).toEqual(bodies.map((_, index) => `ud_job${index}`).sort());
    expect(await depth(deadLetters)).toBe(0);
    const moved: string[] = [];
    for (let batch = 0; batch < 3; batch += 1) {
      const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queue, MaxNumberOfMessages: 10 }));
      moved.push(...(Messages ?? []).map((message) => message.Body ?? ''));
    }
    expect(moved.sort()).toEqual([...bodies, 'not json'].sort());
  });

  it('moves nothing on a dry run, names the jobs, and leaves the messages to be received again at once', async () => {
    const { queue, deadLetters } = await queuesOf('azureblob');
    await sqs.send(new SendMessageCommand({ QueueUrl: deadLetters, MessageBody: JSON.stringify({ token: 'ud_dry', index: 2 }) }));

    const outcome = await redrive({ sqs, type: 'azureblob', method: 'copy', dryRun: true });

    expect(outcome).toMatchObject({ dryRun: true, moved: undefined, deadLetters: [{ messageId: expect.any(String), token: 'ud_dry', index: 2 }] });
    expect(await depth(queue)).toBe(0);
    const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: deadLetters }));
    expect(Messages).toHaveLength(1);
  });

  it('fails, naming the deliveries, when a message sent back cannot be removed from the dead-letter queue, and never counts it moved', async () => {
    // Prepare: 12 deliveries, and an SQS that will not delete the one of ud_stuck (its receipt handle is refused).
    const { queue, deadLetters } = await queuesOf('sftp');
    const bodies = Array.from({ length: 11 }, (_, index) => JSON.stringify({ token: `ud_sftp${index}`, index: 0 }));
    for (const body of [...bodies, JSON.stringify({ token: 'ud_stuck', index: 1 })]) await sqs.send(new SendMessageCommand({ QueueUrl: deadLetters, MessageBody: body }));
    const refusing = sqsRefusingToDelete('ud_stuck');

    // Act
    const outcome = await redrive({ sqs: refusing, type: 'sftp', method: 'copy' }).catch((error: unknown) => error as Error);

    // Assess: the failure says what happened to which delivery, counting it not moved (9 of the
    // batch it was in, or 11 when it was in the second); the message is still in the dead-letter queue.
    expect(outcome).toBeInstanceOf(Error);
    expect((outcome as Error).message).toMatch(/1 message\(s\) sent back to sftp's queue could not be removed from its dead-letter queue \(.+\): ud_stuck #1; the next redrive sends them again; (9|11) moved$/);
    expect(await depth(deadLetters)).toBe(1);
    expect(await depth(queue)).toBeGreaterThanOrEqual(1);
    refusing.destroy();
  });

  it('says which queue of which type does not exist when the stack has not made it', async () => {
    // Only the dead-letter queue of ftp exists here: its queue is missing.
    await sqs.send(new CreateQueueCommand({ QueueName: resourceNames.destinationDeadLetterQueue('ftp') }));

    const missing = redrive({ sqs, type: 'dropbox', method: 'copy' });
    const missingQueue = redrive({ sqs, type: 'ftp', method: 'copy' });

    await expect(missing).rejects.toThrow(`dropbox's dead-letter queue ${resourceNames.destinationDeadLetterQueue('dropbox')} does not exist`);
    await expect(missingQueue).rejects.toThrow(`ftp's queue ${resourceNames.destinationQueue('ftp')} does not exist`);
  });

  it('refuses a queue it does not know, naming the ones it does', async () => {
    await expect(redrive({ sqs, type: 'carrier-pigeon', method: 'copy' })).rejects.toThrow(/unknown queue 'carrier-pigeon'; redrive one of: s3, azureblob/);
  });
});

describe('Function: redrive, with a message move task (AWS)', () => {
  const dlqUrl = 'https://sqs.eu-west-1.amazonaws.com/111111111111/upload-destinations-s3-dlq';
  const dlqArn = 'arn:aws:sqs:eu-west-1:111111111111:upload-destinations-s3-dlq';

  function mockedSqs(): ReturnType<typeof mockClient> {
    const mocked = mockClient(SQSClient);
    mocked.on(GetQueueUrlCommand).callsFake((input: { QueueName: string }) => ({ QueueUrl: `https://sqs.eu-west-1.amazonaws.com/111111111111/${input.QueueName}` }));
    mocked.on(GetQueueAttributesCommand).resolves({ Attributes: { QueueArn: dlqArn, ApproximateNumberOfMessages: '3' } });
    mocked.on(StartMessageMoveTaskCommand).resolves({ TaskHandle: 'handle-1' });
    return mocked;
  }

  it('starts a task from the dead-letter queue, which SQS moves back to the queue it came from, at the pace asked', async () => {
    const mocked = mockedSqs();

    const outcome = await redrive({ sqs: new SQSClient({ region: 'eu-west-1' }), type: 's3', method: 'move-task', maxMessagesPerSecond: 20 });

    expect(mocked.commandCalls(StartMessageMoveTaskCommand).map((call) => call.args[0].input)).toEqual([{ SourceArn: dlqArn, MaxNumberOfMessagesPerSecond: 20 }]);
    expect(outcome).toMatchObject({ deadLetterQueueUrl: dlqUrl, waiting: 3, moved: undefined, taskHandle: 'handle-1' });
    mocked.restore();
  });

  it('only counts on a dry run', async () => {
    const mocked = mockedSqs();

    const outcome = await redrive({ sqs: new SQSClient({ region: 'eu-west-1' }), type: 's3', method: 'move-task', dryRun: true });

    expect(mocked.commandCalls(StartMessageMoveTaskCommand)).toEqual([]);
    expect(outcome).toMatchObject({ waiting: 3, taskHandle: undefined, dryRun: true });
    mocked.restore();
  });
});
