import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, GetQueueAttributesCommand, SendMessageCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSEvent } from 'aws-lambda';
import dynalite from 'dynalite';
import { buildApp } from 'fauxqs';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { s3Destination } from '../../functions/destinations/s3/schema.ts';
import { s3Uploader } from '../../functions/destinations/s3/upload.ts';
import { createJobTable } from '../../infra/local/job-table.ts';
import { lambdaContext } from '../../infra/local/lambda-context.ts';
import { startLocalS3, type LocalS3 } from '../../infra/local/s3-server.ts';
import { sealingContext, type DeliveryMessage } from '../../shared/contract/message.ts';
import type { DeliveryDependencies } from '../../shared/delivery/runner.ts';
import { JobStore } from '../../shared/jobs/job-store.ts';
import { destinationHandler } from '../../shared/lambda/destination-handler.ts';
import { createLogger } from '../../shared/lambda/logger.ts';
import { EnvelopeSealer, LocalKeyWrapper } from '../../shared/secrets/sealer.ts';
import type { SecretStore } from '../../shared/secrets/secret-store.ts';
import { SourceOpener } from '../../shared/sources/source-opener.ts';
import { localNetwork } from '../support/network.ts';
import { patternBytes } from '../support/sources.ts';

const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
const region = 'us-east-1';
let directory: string;
let s3: LocalS3;
let jobs: JobStore;
let sealer: EnvelopeSealer;
let handler: ReturnType<typeof destinationHandler<typeof s3Destination.schema>>;
let dependencies: DeliveryDependencies;
let queue: { url: string; arn: string };
let sqs: SQSClient;
const closers: (() => Promise<unknown>)[] = [];
const stored: Record<string, Record<string, string>> = {};
let sequence = 0;

const secrets: SecretStore = {
  read: async (name) => {
    const value = stored[name];
    if (!value) throw new Error(`no secret ${name}`);
    return value;
  },
};

/** Records a one-destination job and returns the queue message for it. */
async function queuedDelivery(
  destination: Record<string, unknown>,
  inline: Record<string, string> = {},
  callbackUrl?: string,
): Promise<DeliveryMessage> {
  const token = `ud_test_${(sequence += 1)}`;
  const sealed = Object.keys(inline).length > 0 ? await sealer.seal(inline, sealingContext(token, 0)) : undefined;
  const source = { bucket: 'staging', key: 'source.bin' };
  await jobs.create(
    { token, createdAt: new Date().toISOString(), source, origin: 'api', enqueued: true, destinationCount: 1, ...(callbackUrl ? { callbackUrl } : {}) },
    [{ type: 's3', destination, ...(sealed ? { sealed } : {}) }],
  );
  return { version: 1, token, index: 0, type: 's3', destination, ...(sealed ? { sealed } : {}), source, ...(callbackUrl ? { notify: true } : {}) };
}

/** An SQS event with one record per message, as the event source mapping sends it. */
async function event(messages: DeliveryMessage[], receiveCount = 1): Promise<SQSEvent> {
  const records = [];
  for (const message of messages) {
    // A real receipt handle, so the handler can change the message's visibility for its retry.
    await sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: JSON.stringify(message) }));
    const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queue.url, MaxNumberOfMessages: 1 }));
    records.push({
      messageId: Messages![0]!.MessageId!,
      receiptHandle: Messages![0]!.ReceiptHandle!,
      body: JSON.stringify(message),
      attributes: { ApproximateReceiveCount: String(receiveCount), SentTimestamp: '0', SenderId: 'x', ApproximateFirstReceiveTimestamp: '0' },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: queue.arn,
      awsRegion: region,
    });
  }
  return { Records: records };
}

const context = (): Context => lambdaContext('upload-destinations-s3', 60);

function putsTo(key: string) {
  return s3.requests.filter((request) => request.method === 'PUT' && request.path === `/deliveries/${key}`);
}

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'ud-handler-'));
  s3 = await startLocalS3({ directory, buckets: ['staging', 'deliveries'] });
  closers.push(() => s3.close());
  const client = new S3Client({ region, endpoint: s3.endpoint, forcePathStyle: true, credentials });
  await client.send(new PutObjectCommand({ Bucket: 'staging', Key: 'source.bin', Body: patternBytes(50_000) }));

  const dynamoServer = dynalite({ createTableMs: 0 });
  await new Promise<void>((resolve) => dynamoServer.listen(0, '127.0.0.1', resolve));
  closers.push(() => new Promise((resolve) => dynamoServer.close(resolve)));
  const dynamo = new DynamoDBClient({ region, endpoint: `http://127.0.0.1:${(dynamoServer.address() as AddressInfo).port}`, credentials });
  await createJobTable(dynamo, 'jobs');

  const sqsServer = buildApp({ logger: false });
  await sqsServer.listen({ port: 0, host: '127.0.0.1' });
  closers.push(() => sqsServer.close());
  sqs = new SQSClient({ region, endpoint: `http://127.0.0.1:${(sqsServer.server.address() as AddressInfo).port}`, credentials });
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'upload-destinations-s3' }));
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
  queue = { url: QueueUrl!, arn: Attributes!.QueueArn! };

  jobs = new JobStore('jobs', dynamo, 1);
  sealer = new EnvelopeSealer(new LocalKeyWrapper(randomBytes(32)));
  dependencies = {
    jobs,
    sealer,
    secrets,
    sources: new SourceOpener(client, localNetwork, { allowedSourceHosts: [] }),
    callbacks: { signingKey: async () => 'key' },
    network: localNetwork,
    maxAttempts: 2,
    retryBaseSeconds: 1,
    leaseSeconds: 60,
    log: createLogger('test'),
  };
  handler = destinationHandler(s3Destination, s3Uploader, { dependencies, sqs });
});

afterAll(async () => {
  for (const close of closers.reverse()) await close();
  await rm(directory, { recursive: true, force: true });
});

beforeEach(() => {
  s3.requests.length = 0;
});

function destination(filename: string, fields: Record<string, unknown> = {}) {
  return { type: 's3', bucket: 'deliveries', filename, endpoint: s3.endpoint, credentials: 'keys', ...fields };
}

describe('Function: destinationHandler (S3)', () => {
  beforeAll(() => {
    stored.keys = { aws_access_key_id: 'S3RVER', aws_secret_access_key: 'S3RVER' };
  });

  it('does not upload again when a delivered message is redelivered', async () => {
    const message = await queuedDelivery(destination('once.bin'));

    const first = await handler(await event([message]), context());
    const second = await handler(await event([message], 2), context());

    expect(first.batchItemFailures).toEqual([]);
    expect(second.batchItemFailures).toEqual([]);
    expect(putsTo('once.bin')).toHaveLength(1);
    expect((await jobs.get(message.token))?.destinations[0]).toMatchObject({ state: 'succeeded', attempts: 1 });
  });

  it('lets only one of two concurrent copies upload; the other is retried later', async () => {
    const message = await queuedDelivery(destination('concurrent.bin'));

    const answers = await Promise.all([handler(await event([message]), context()), handler(await event([message]), context())]);

    expect(putsTo('concurrent.bin')).toHaveLength(1);
    expect(answers.map((answer) => answer.batchItemFailures.length).sort()).toEqual([0, 1]);
  });

  it('opens inline secrets sealed for this delivery', async () => {
    const message = await queuedDelivery(destination('inline.bin', { credentials: undefined }), stored.keys);

    const answer = await handler(await event([message]), context());

    expect(answer.batchItemFailures).toEqual([]);
    expect(putsTo('inline.bin')).toHaveLength(1);
  });

  it('fails permanently, without retry, when the stored secret holds fields the destination does not take', async () => {
    stored.odd = { aws_access_key_id: 'S3RVER', aws_secret_access_key: 'S3RVER', password: 'x' };
    const message = await queuedDelivery(destination('odd.bin', { credentials: 'odd' }));

    const answer = await handler(await event([message]), context());

    expect(answer.batchItemFailures).toEqual([]);
    const record = (await jobs.get(message.token))?.destinations[0];
    expect(record).toMatchObject({ state: 'failed', error: { code: 'InvalidSecret', retryable: false } });
    expect(record?.error?.message).toContain("holds password, which s3 does not take");
    expect(record?.error?.message).not.toContain('S3RVER');
  });

  it('marks a transient failure on the last attempt failed and dead-letters it; a redrive delivers it', async () => {
    // Nothing listens on port 1: every attempt's connection is refused, a transient failure.
    const flaky = await queuedDelivery(destination('later.bin', { endpoint: 'http://127.0.0.1:1' }));

    const first = await handler(await event([flaky], 1), context());
    const last = await handler(await event([flaky], 2), context());

    expect(first.batchItemFailures).toHaveLength(1);
    expect(last.batchItemFailures).toHaveLength(1);
    expect((await jobs.get(flaky.token))?.destinations[0]).toMatchObject({ state: 'failed', attempts: 2, error: { retryable: true } });

    // Redrive: the same message comes back from the dead-letter queue, now to a reachable store.
    const redriven = await handler(await event([{ ...flaky, destination: destination('later.bin') }], 1), context());

    expect(redriven.batchItemFailures).toEqual([]);
    expect((await jobs.get(flaky.token))?.destinations[0]).toMatchObject({ state: 'succeeded', attempts: 3, error: null });
    expect(putsTo('later.bin')).toHaveLength(1);
  });

  it('keeps a delivery that happened when its callback cannot be recorded, and does not upload it again', async () => {
    const unavailable = Object.assign(Object.create(jobs) as JobStore, {
      claimCallback: async () => {
        throw new Error('table unavailable');
      },
    });
    const withBrokenCallbacks = destinationHandler(s3Destination, s3Uploader, { dependencies: { ...dependencies, jobs: unavailable }, sqs });
    const message = await queuedDelivery(destination('called-back.bin'), {}, 'http://127.0.0.1:1/hook');

    const first = await withBrokenCallbacks(await event([message]), context());
    const again = await withBrokenCallbacks(await event([message], 2), context());

    expect([first.batchItemFailures, again.batchItemFailures]).toEqual([[], []]);
    expect(putsTo('called-back.bin')).toHaveLength(1);
    expect((await jobs.get(message.token))?.destinations[0]).toMatchObject({ state: 'succeeded' });
  });

  it('fails a message that is not a delivery as a batch item (retried, then dead-lettered), leaving the others', async () => {
    const good = await queuedDelivery(destination('good.bin'));
    const batch = await event([good]);
    batch.Records.push({ ...batch.Records[0]!, messageId: 'broken', body: '{"version":2}' });

    const answer = await handler(batch, context());

    expect(answer.batchItemFailures).toEqual([{ itemIdentifier: 'broken' }]);
    expect(putsTo('good.bin')).toHaveLength(1);
  });
});
