import { CreateQueueCommand, PurgeQueueCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { accept, acceptOrRecordRejection, newToken } from '../../functions/ingress/accept.ts';
import type { IngressDependencies } from '../../functions/ingress/dependencies.ts';
import { retryJob } from '../../functions/ingress/retry-job.ts';
import type { DeliveryMessage } from '../../shared/contract/message.ts';
import { DocumentTable } from '../../shared/jobs/document-table.ts';
import { JobStore } from '../../shared/jobs/job-store.ts';
import { createLogger } from '../../shared/lambda/logger.ts';
import { Queues } from '../../shared/lambda/queues.ts';
import { AwsJsonClient, dynamodbService, sqsService } from '../../shared/net/aws-json-client.ts';
import { EnvelopeSealer, LocalKeyWrapper } from '../../shared/secrets/sealer.ts';
import { startJobsAndQueues } from '../support/servers/jobs-and-queues.ts';

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const region = 'us-east-1';
const stagingBucket = 'upload-destinations-staging';
const closers: (() => Promise<unknown>)[] = [];
let sqs: SQSClient;
let queueUrl: string;
let table: DocumentTable;
let jobs: JobStore;
let dependencies: IngressDependencies;

beforeAll(async () => {
  const { dynamoEndpoint, sqsEndpoint, close } = await startJobsAndQueues('jobs', { region, credentials });
  closers.push(close);
  sqs = new SQSClient({ region, endpoint: sqsEndpoint, credentials });
  queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'upload-destinations-s3' }))).QueueUrl!;

  table = new DocumentTable(new AwsJsonClient(dynamodbService, { region, endpoint: dynamoEndpoint, credentials }), 'jobs');
  jobs = new JobStore(table, 1);
  dependencies = {
    jobs,
    queues: new Queues(new AwsJsonClient(sqsService, { region, endpoint: sqsEndpoint, credentials })),
    queueUrls: { s3: queueUrl },
    sealer: new EnvelopeSealer(new LocalKeyWrapper(randomBytes(32))),
    allowPrivateNetworks: false,
    stagingBucket,
    stagingSourcePrefixes: [],
    credentialHosts: [],
    log: createLogger('test'),
  } as unknown as IngressDependencies;
});

afterAll(async () => {
  sqs.destroy();
  for (const close of closers.reverse()) await close();
});

beforeEach(async () => {
  await sqs.send(new PurgeQueueCommand({ QueueUrl: queueUrl }));
});

async function queued(): Promise<DeliveryMessage[]> {
  const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
  return (Messages ?? []).map((message) => JSON.parse(message.Body!) as DeliveryMessage);
}

function destination(filename: string) {
  return { type: 's3', bucket: 'my-videos', filename, credentials: 'team-s3' };
}

/** Fails destination `index` of `token` after its last attempt, as a dead-lettered delivery leaves it. */
async function deadLettered(token: string, index: number): Promise<void> {
  const claim = await jobs.claim(token, index, 60);
  if (claim.kind !== 'claimed') throw new Error(`could not claim destination ${index} of ${token}`);
  await jobs.fail(token, index, claim.attemptId, { code: 'Timeout', message: 'timed out', retryable: true }, true);
}

/** The table as DynamoDB under throttling leaves it: `item` never written by a batch, always handed back unprocessed. */
function throttling(item: string): DocumentTable {
  return Object.assign(Object.create(table) as DocumentTable, {
    batchPut: async (items: readonly Record<string, unknown>[]) => {
      const written = items.filter((candidate) => candidate.item !== item);
      if (written.length > 0) await table.batchPut(written);
      return items.filter((candidate) => candidate.item === item);
    },
  });
}

describe('Ingress: a job written only in part', () => {
  it('delivers every destination when the request is repeated with its idempotency key', async () => {
    const request = {
      source: { url: 'https://renders.example.com/a.mp4' },
      upload: { destinations: [destination('a.mp4'), destination('b.mp4')] },
      idempotency_key: `partial-${newToken()}`,
    };
    const throttled = { ...dependencies, jobs: new JobStore(throttling('destination#001'), 1) };
    await expect(accept(request, { origin: 'api' }, throttled)).rejects.toThrow(/kept items unprocessed/);

    const { token } = await accept(request, { origin: 'api' }, dependencies);

    expect((await queued()).map((message) => message.index).sort()).toEqual([0, 1]);
    expect((await jobs.get(token))?.destinations.map((record) => record.state)).toEqual(['queued', 'queued']);
  });
});

describe('Ingress: retry of some destinations of a job', () => {
  it('tells the retried delivery how many destinations the whole job has, so its callback waits for all of them', async () => {
    const { token } = await accept(
      {
        source: { url: 'https://renders.example.com/a.mp4' },
        upload: { destinations: [destination('a.mp4'), destination('b.mp4')] },
        callback_url: 'https://hooks.example.com/done',
      },
      { origin: 'api' },
      dependencies,
    );
    await queued();
    await deadLettered(token, 1);

    const answer = await retryJob(token, {}, dependencies);

    expect(answer).toMatchObject({ retried: [1] });
    const [message] = await queued();
    expect(message).toMatchObject({ token, index: 1, notify: true, destinations: 2 });
  });
});

describe('Ingress: a door that records rejections (staging bucket, inbox)', () => {
  it('does not overwrite the job already under its token when a later request reuses the key for something else', async () => {
    const token = `s3-${newToken()}`;
    const options = { origin: 's3', token, idempotencyKey: token };
    const request = (filename: string) => ({
      source: { bucket: stagingBucket, key: 'drop/clip.mp4' },
      upload: { destination: destination(filename) },
      callback_url: 'https://hooks.example.com/done',
    });
    expect(await acceptOrRecordRejection(() => request('first.mp4'), 'manifest', options, dependencies)).toBeUndefined();

    const errors = await acceptOrRecordRejection(() => request('second.mp4'), 'manifest', options, dependencies);

    expect(errors).toEqual([expect.objectContaining({ path: 'idempotency_key' })]);
    const job = await jobs.get(token);
    expect(job?.rejected).toBeUndefined();
    expect(job).toMatchObject({ source: { bucket: stagingBucket, key: 'drop/clip.mp4' }, destinationCount: 1, enqueued: true });
    expect(job?.sealedCallbackUrl).toBeDefined();
  });
});
