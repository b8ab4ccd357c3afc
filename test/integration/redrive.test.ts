import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ListMessageMoveTasksCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { buildApp } from 'fauxqs';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redriveByMoving, redriveWithMoveTask } from '../../infra/cli/redrive/move-messages.ts';
import { resourceNames } from '../../infra/resources.ts';

let app: ReturnType<typeof buildApp>;
let sqs: SQSClient;
let sequence = 0;

beforeAll(async () => {
  app = buildApp({ logger: false });
  await app.listen({ port: 0, host: '127.0.0.1' });
  sqs = new SQSClient({ region: 'us-east-1', endpoint: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
});

afterAll(async () => {
  sqs.destroy();
  await app.close();
});

async function queues(): Promise<{ queue: string; deadLetters: string }> {
  sequence += 1;
  const queue = (await sqs.send(new CreateQueueCommand({ QueueName: `work-${sequence}` }))).QueueUrl!;
  const deadLetters = (await sqs.send(new CreateQueueCommand({ QueueName: `work-${sequence}-dlq` }))).QueueUrl!;
  return { queue, deadLetters };
}

async function depth(url: string): Promise<number> {
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
  return Number(Attributes?.ApproximateNumberOfMessages) + Number(Attributes?.ApproximateNumberOfMessagesNotVisible);
}

describe('Function: redriveByMoving', () => {
  it('moves every dead-lettered message back to its queue, bodies unchanged, naming the jobs', async () => {
    // Prepare: 13 deliveries, more than one batch, and a message that is no delivery.
    const { queue, deadLetters } = await queues();
    const bodies = Array.from({ length: 13 }, (_, index) => JSON.stringify({ version: 1, token: `ud_job${index}`, index: 0, type: 's3' }));
    for (const body of [...bodies, 'not json']) await sqs.send(new SendMessageCommand({ QueueUrl: deadLetters, MessageBody: body }));

    // Act
    const outcome = await redriveByMoving(sqs, deadLetters, queue, { dryRun: false });

    // Assess
    expect(outcome.messages).toBe(14);
    expect(outcome.deadLetters.map((letter) => letter.token).filter(Boolean).sort()).toEqual(bodies.map((_, index) => `ud_job${index}`).sort());
    expect(await depth(deadLetters)).toBe(0);
    const moved: string[] = [];
    for (let batch = 0; batch < 3; batch += 1) {
      const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queue, MaxNumberOfMessages: 10 }));
      moved.push(...(Messages ?? []).map((message) => message.Body ?? ''));
    }
    expect(moved.sort()).toEqual([...bodies, 'not json'].sort());
  });

  it('moves nothing on a dry run, and leaves the messages to be received again at once', async () => {
    const { queue, deadLetters } = await queues();
    await sqs.send(new SendMessageCommand({ QueueUrl: deadLetters, MessageBody: JSON.stringify({ token: 'ud_dry', index: 2 }) }));

    const outcome = await redriveByMoving(sqs, deadLetters, queue, { dryRun: true });

    expect(outcome.deadLetters).toEqual([{ messageId: expect.any(String), token: 'ud_dry', index: 2 }]);
    expect(await depth(queue)).toBe(0);
    const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: deadLetters }));
    expect(Messages).toHaveLength(1);
  });
});

describe('Function: redriveWithMoveTask', () => {
  const dlqUrl = 'https://sqs.eu-west-1.amazonaws.com/111111111111/upload-destinations-s3-dlq';
  const dlqArn = 'arn:aws:sqs:eu-west-1:111111111111:upload-destinations-s3-dlq';

  it('starts a message move task from the dead-letter queue, which SQS sends back to the queue it came from', async () => {
    const mocked = mockClient(SQSClient);
    mocked.on(GetQueueAttributesCommand).resolves({ Attributes: { QueueArn: dlqArn, ApproximateNumberOfMessages: '3' } });
    mocked.on(StartMessageMoveTaskCommand).resolves({ TaskHandle: 'handle-1' });
    mocked.on(ListMessageMoveTasksCommand).resolves({ Results: [{ Status: 'RUNNING', ApproximateNumberOfMessagesMoved: 1, ApproximateNumberOfMessagesToMove: 3 }] });

    const outcome = await redriveWithMoveTask(new SQSClient({ region: 'eu-west-1' }), dlqUrl, { dryRun: false });

    expect(mocked.commandCalls(StartMessageMoveTaskCommand).map((call) => call.args[0].input)).toEqual([{ SourceArn: dlqArn }]);
    expect(outcome).toEqual({ messages: 3, taskHandle: 'handle-1', tasks: [{ status: 'RUNNING', moved: 1, toMove: 3 }] });
    mocked.restore();
  });

  it('only counts on a dry run', async () => {
    const mocked = mockClient(SQSClient);
    mocked.on(GetQueueAttributesCommand).resolves({ Attributes: { QueueArn: dlqArn, ApproximateNumberOfMessages: '3' } });
    mocked.on(ListMessageMoveTasksCommand).resolves({ Results: [] });

    const outcome = await redriveWithMoveTask(new SQSClient({ region: 'eu-west-1' }), dlqUrl, { dryRun: true });

    expect(mocked.commandCalls(StartMessageMoveTaskCommand)).toEqual([]);
    expect(outcome).toEqual({ messages: 3, taskHandle: undefined, tasks: [] });
    mocked.restore();
  });
});

describe('Command: npm run redrive', () => {
  const run = (args: string[]) =>
    promisify(execFile)(process.execPath, ['--no-warnings', '--import', 'tsx', 'infra/cli/redrive.ts', ...args], {
      env: { ...process.env, SQS_PORT: String((app.server.address() as AddressInfo).port) },
    }).then(
      ({ stdout }) => ({ code: 0, stdout, stderr: '' }),
      (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
    );

  it("lists a destination's dead letters on a dry run, then moves them back to its queue", async () => {
    // Prepare: the local runtime's queues of the SFTP destination, one dead letter.
    const queue = (await sqs.send(new CreateQueueCommand({ QueueName: resourceNames.destinationQueue('sftp') }))).QueueUrl!;
    const deadLetters = (await sqs.send(new CreateQueueCommand({ QueueName: resourceNames.destinationDeadLetterQueue('sftp') }))).QueueUrl!;
    await sqs.send(new SendMessageCommand({ QueueUrl: deadLetters, MessageBody: JSON.stringify({ token: 'ud_cli', index: 0 }) }));

    // Act
    const dryRun = await run(['sftp', '--local', '--dry-run']);
    const afterDryRun = await depth(queue);
    const redrive = await run(['sftp', '--local']);

    // Assess
    expect(dryRun.stdout).toContain('ud_cli #0');
    expect(dryRun.stdout).toContain('would redrive 1 message(s)');
    expect(afterDryRun).toBe(0);
    expect(redrive.stdout).toContain('redrove 1 message(s) of upload-destinations-sftp-dlq to upload-destinations-sftp');
    expect(await depth(queue)).toBe(1);
    expect(await depth(deadLetters)).toBe(0);
  });

  it('refuses a destination type the registry does not know, naming the known ones', async () => {
    const answer = await run(['carrier-pigeon', '--local']);

    expect(answer.code).toBe(2);
    expect(answer.stderr).toContain("unknown destination type 'carrier-pigeon'; known: s3, azureblob");
  });
});
