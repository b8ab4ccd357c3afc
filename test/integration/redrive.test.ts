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

beforeAll(async () => {
  app = buildApp({ logger: false });
  await app.listen({ port: 0, host: '127.0.0.1' });
  sqs = new SQSClient({ region: 'us-east-1', endpoint: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
});

afterAll(async () => {
  sqs.destroy();
  await app.close();
});

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
