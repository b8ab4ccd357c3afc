import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, GetQueueAttributesCommand, SendMessageCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSEvent } from 'aws-lambda';
import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { s3Destination } from '../../functions/destinations/s3/schema.ts';
import type { S3ResumeState } from '../../functions/destinations/s3/multipart.ts';
import { s3UploaderInParts } from '../support/s3-in-parts.ts';
import { lambdaContext } from '../../infra/local/lambda-context.ts';
import { startLocalS3, type LocalS3 } from '../../infra/local/s3-server.ts';
import { secretNames } from '../../shared/config.ts';
import { jobView } from '../../shared/jobs/job-view.ts';
import { eventHeader } from '../../shared/delivery/callback.ts';
import { crc32Base64 } from '../../shared/delivery/checksum.ts';
import { PermanentError, TransientError, WaitError } from '../../shared/errors.ts';
import { callbackSealingContext, sealedFor, sealingContext, sourceSealingContext, type DeliveryMessage } from '../../shared/contract/message.ts';
import type { OpenableSource } from '../../shared/contract/source.ts';
import type { DeliveryDependencies } from '../../shared/delivery/runner.ts';
import { DocumentTable } from '../../shared/jobs/document-table.ts';
import { JobStore } from '../../shared/jobs/job-store.ts';
import { Queues } from '../../shared/lambda/queues.ts';
import { AwsJsonClient, dynamodbService, sqsService } from '../../shared/net/aws-json-client.ts';
import { destinationHandler } from '../../shared/lambda/destination-handler.ts';
import { StagingObjects } from '../../shared/sources/staging-objects.ts';
import { createLogger } from '../../shared/lambda/logger.ts';
import { createMetrics } from '../../shared/lambda/metrics.ts';
import { EnvelopeSealer, LocalKeyWrapper } from '../../shared/secrets/sealer.ts';
import type { SecretStore } from '../../shared/secrets/secret-store.ts';
import { SourceOpener } from '../../shared/sources/source-opener.ts';
import { localNetwork } from '../support/network.ts';
import { readBody, startTestServer } from '../support/http-servers.ts';
import { patternBytes, sha256 } from '../support/sources.ts';
import { waitFor } from '../support/wait.ts';
import { startJobsAndQueues } from '../support/servers/jobs-and-queues.ts';

const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
const region = 'us-east-1';
let directory: string;
let s3: LocalS3;
let jobs: JobStore;
let sealer: EnvelopeSealer;
const s3Module = { definition: s3Destination, uploader: s3UploaderInParts };
let handler: ReturnType<typeof destinationHandler<typeof s3Destination.schema, S3ResumeState>>;
let dependencies: DeliveryDependencies;
let queue: { url: string; arn: string };
let sqs: SQSClient;
let queues: Queues;
const closers: (() => Promise<unknown>)[] = [];
let sequence = 0;

const stored: Record<string, Record<string, string>> = { [secretNames.credentials('keys')]: { aws_access_key_id: 'S3RVER', aws_secret_access_key: 'S3RVER' } };
const secrets: SecretStore = {
  read: async (name) => {
    const value = stored[name];
    if (!value) throw new Error(`no secret ${name}`);
    return value;
  },
  update: async (name, fields) => {
    stored[name] = { ...stored[name], ...fields };
  },
};

/** Records a one-destination job and returns the queue message for it. */
async function queuedDelivery(
  destination: Record<string, unknown>,
  inline: Record<string, string> = {},
  callbackUrl?: string,
  from: OpenableSource = { bucket: 'staging', key: 'source.bin' },
): Promise<DeliveryMessage> {
  const token = `ud_test_${(sequence += 1)}`;
  const source = 'url' in from ? { url: from.url, sealedUrl: await sealer.seal({ url: from.url }, sourceSealingContext(token)) } : from;
  const sealed = Object.keys(inline).length > 0 ? await sealer.seal(inline, sealingContext(sealedFor<typeof s3Destination.schema>(token, 0, s3Destination, destination))) : undefined;
  await jobs.create(
    {
      token,
      createdAt: new Date().toISOString(),
      source,
      origin: 'api',
      enqueued: true,
      destinationCount: 1,
      ...(callbackUrl ? { sealedCallbackUrl: await sealer.seal({ url: callbackUrl }, callbackSealingContext(token)) } : {}),
    },
    [{ type: 's3', destination, ...(sealed ? { sealed } : {}) }],
  );
  return { version: 1, token, index: 0, type: 's3', destination, ...(sealed ? { sealed } : {}), source, ...(callbackUrl ? { notify: true } : {}) };
}

async function newQueue(name: string): Promise<{ url: string; arn: string }> {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name }));
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
  return { url: QueueUrl!, arn: Attributes!.QueueArn! };
}

/** An SQS event with one record per message, as the event source mapping sends it. */
async function event(messages: DeliveryMessage[], receiveCount = 1, from: { url: string; arn: string } = queue): Promise<SQSEvent> {
  const records = [];
  for (const message of messages) {
    // A real receipt handle, so the handler can change the message's visibility for its retry.
    await sqs.send(new SendMessageCommand({ QueueUrl: from.url, MessageBody: JSON.stringify(message) }));
    const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: from.url, MaxNumberOfMessages: 1 }));
    records.push({
      messageId: Messages![0]!.MessageId!,
      receiptHandle: Messages![0]!.ReceiptHandle!,
      body: JSON.stringify(message),
      attributes: { ApproximateReceiveCount: String(receiveCount), SentTimestamp: '0', SenderId: 'x', ApproximateFirstReceiveTimestamp: '0' },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: from.arn,
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

  const { dynamoEndpoint, sqsEndpoint, close } = await startJobsAndQueues('jobs', { region, credentials });
  closers.push(close);
  sqs = new SQSClient({ region, endpoint: sqsEndpoint, credentials });
  queues = new Queues(new AwsJsonClient(sqsService, { region, endpoint: sqsEndpoint, credentials }));
  queue = await newQueue('upload-destinations-s3');

  jobs = new JobStore(new DocumentTable(new AwsJsonClient(dynamodbService, { region, endpoint: dynamoEndpoint, credentials }), 'jobs'), 1);
  sealer = new EnvelopeSealer(new LocalKeyWrapper(randomBytes(32)));
  dependencies = {
    jobs,
    sealer,
    secrets,
    sources: new SourceOpener(new StagingObjects({ region, endpoint: s3.endpoint, credentials }).get, localNetwork, { allowedSourceHosts: [] }),
    callbacks: { signingKey: async () => 'key' },
    network: localNetwork,
    credentialHosts: ['127.0.0.1'],
    maxAttempts: 2,
    retryBaseSeconds: 1,
    leaseSeconds: 60,
    log: createLogger('test'),
  };
  handler = destinationHandler(s3Module, { dependencies, queues });
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
    const message = await queuedDelivery(destination('inline.bin', { credentials: undefined }), stored[secretNames.credentials('keys')]);

    const answer = await handler(await event([message]), context());

    expect(answer.batchItemFailures).toEqual([]);
    expect(putsTo('inline.bin')).toHaveLength(1);
  });

  it('fails permanently, without retry, when the stored secret holds fields the destination does not take', async () => {
    stored[secretNames.credentials('odd')] = { aws_access_key_id: 'S3RVER', aws_secret_access_key: 'S3RVER', password: 'x' };
    const message = await queuedDelivery(destination('odd.bin', { credentials: 'odd' }));

    const answer = await handler(await event([message]), context());

    expect(answer.batchItemFailures).toEqual([]);
    const record = (await jobs.get(message.token))?.destinations[0];
    expect(record).toMatchObject({ state: 'failed', error: { code: 'InvalidSecret', retryable: false } });
    expect(record?.error?.message).toContain("holds password, which s3 does not take as a secret");
    expect(record?.error?.message).not.toContain('S3RVER');
  });

  // The ingress never sees a stored secret: the function checks it as the door checks inline ones.
  it.each([
    ['sessiontoken', { sessiontoken: 'FQoGZXIvYXdzE-canary\r\nX-Amz-Injected: 1' }],
    ['aws_access_key_id', { aws_access_key_id: 'S3RVER\u0000canary' }],
    ['aws_secret_access_key', { aws_secret_access_key: 'S3RVER\ncanary' }],
  ])('fails for good, uploading nothing and quoting nothing of it, a stored secret whose %s holds a control character', async (field, fields) => {
    const name = `control-${field}`;
    stored[secretNames.credentials(name)] = { aws_access_key_id: 'S3RVER', aws_secret_access_key: 'S3RVER', ...fields };
    const message = await queuedDelivery(destination(`${name}.bin`, { credentials: name }));

    const lines = await writtenLines(async () => handler(await event([message]), context()));

    const record = (await jobs.get(message.token))?.destinations[0];
    expect(record).toMatchObject({ state: 'failed', error: { code: 'InvalidDestination', retryable: false, message: expect.stringContaining(`destination.${field}: must not contain control characters`) } });
    expect(putsTo(`${name}.bin`)).toEqual([]);
    expect(JSON.stringify(record)).not.toContain('canary');
    expect(JSON.stringify(lines)).not.toContain('canary');
  });

  it('refuses to send stored credentials to a host neither the destination nor the operator trusts with them', async () => {
    const strict = destinationHandler(s3Module, { dependencies: { ...dependencies, credentialHosts: [] }, queues });
    const message = await queuedDelivery(destination('elsewhere.bin'));

    const answer = await strict(await event([message]), context());

    expect(answer.batchItemFailures).toEqual([]);
    expect((await jobs.get(message.token))?.destinations[0]).toMatchObject({ state: 'failed', error: { code: 'CredentialHostNotAllowed', retryable: false } });
    expect(putsTo('elsewhere.bin')).toEqual([]);
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
    const withBrokenCallbacks = destinationHandler(s3Module, { dependencies: { ...dependencies, jobs: unavailable }, queues });
    const message = await queuedDelivery(destination('called-back.bin'), {}, 'http://127.0.0.1:1/hook');

    const first = await withBrokenCallbacks(await event([message]), context());
    const again = await withBrokenCallbacks(await event([message], 2), context());

    expect([first.batchItemFailures, again.batchItemFailures]).toEqual([[], []]);
    expect(putsTo('called-back.bin')).toHaveLength(1);
    expect((await jobs.get(message.token))?.destinations[0]).toMatchObject({ state: 'succeeded' });
  });

  it('sends the callback when the attempt that finished the delivery ended before sending it, once the message comes back', async () => {
    // Prepare: a receiver, and a first attempt whose function ends (a crash) right after the delivery is recorded.
    const { receiver, received } = await callbackReceiver();
    const crashing = Object.assign(Object.create(jobs) as JobStore, {
      claimCallback: async () => {
        throw new Error('the function environment crashed');
      },
    });
    const message = await queuedDelivery(destination('crashed-before-callback.bin'), {}, `${receiver.url}/hook`);
    await destinationHandler(s3Module, { dependencies: { ...dependencies, jobs: crashing }, queues })(await event([message]), context());
    const before = received.length;

    // Act: the message comes back (it was never deleted).
    const again = await handler(await event([message], 2), context());
    const twice = await handler(await event([message], 3), context());

    // Assess
    expect([again.batchItemFailures, twice.batchItemFailures]).toEqual([[], []]);
    expect(before).toBe(0);
    expect(received).toEqual(['/hook']);
    expect(putsTo('crashed-before-callback.bin')).toHaveLength(1);
    expect((await jobs.get(message.token))?.callback).toMatchObject({ state: 'sent', outcome: 'succeeded' });
  });

  it('calls back a job of one destination with the job as a read would show it, without reading it back', async () => {
    // Prepare: a receiver, and a store that counts the job reads.
    const bodies: string[] = [];
    const receiver = await startTestServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        bodies.push(Buffer.concat(chunks).toString());
        response.writeHead(204).end();
      });
    });
    closers.push(() => receiver.close());
    let reads = 0;
    const counting = Object.assign(Object.create(jobs) as JobStore, {
      get: async (token: string) => {
        reads += 1;
        return jobs.get(token);
      },
    });
    const counted = destinationHandler(s3Module, { dependencies: { ...dependencies, jobs: counting }, queues });
    const alone = { ...(await queuedDelivery(destination('alone.bin'), {}, `${receiver.url}/hook`)), destinations: 1 };
    const unknown = await queuedDelivery(destination('count-unknown.bin'), {}, `${receiver.url}/hook`);

    // Act
    await counted(await event([alone]), context());
    const readsAlone = reads;
    await counted(await event([unknown]), context());

    // Assess: the one-destination message read nothing; one without its count read the job.
    expect(readsAlone).toBe(0);
    expect(reads).toBe(1);
    const [sent, read] = bodies.map((body) => JSON.parse(body) as Record<string, unknown>);
    const stored = (await jobs.get(alone.token))!;
    expect(sent).toEqual(JSON.parse(JSON.stringify(jobView({ ...stored, callback: undefined }))));
    expect(sent).toMatchObject({ token: alone.token, destinations: [{ state: 'succeeded' }] });
    expect(read).toMatchObject({ token: unknown.token, destinations: [{ state: 'succeeded' }] });
    expect(stored.callback).toMatchObject({ state: 'sent', outcome: 'succeeded' });
  });

  it('sends a callback again when the attempt that claimed it ended without recording it, once its claim has run out', async () => {
    const { receiver, received } = await callbackReceiver();
    const message = await queuedDelivery(destination('claimed-not-sent.bin'), {}, `${receiver.url}/hook`);
    const ended = Object.assign(Object.create(jobs) as JobStore, {
      // Claims for a second, then "crashes" before sending.
      claimCallback: async (token: string, outcome: string) => {
        await jobs.claimCallback(token, outcome, 1);
        throw new Error('the function environment crashed');
      },
    });
    await destinationHandler(s3Module, { dependencies: { ...dependencies, jobs: ended }, queues })(await event([message]), context());
    await new Promise((resolve) => setTimeout(resolve, 2100));

    await handler(await event([message], 2), context());

    expect(received).toEqual(['/hook']);
  });

  it('sends a callback sent again after its sender ended (before recording it) with the same event id and body, so the receiver can drop it', async () => {
    // Prepare: a receiver noting each callback's event id and body, and a first attempt that claims
    // the callback for a second, sends it, then ends before recording it sent.
    const events: { id: string | string[] | undefined; body: string }[] = [];
    const receiver = await startTestServer((request, response) => {
      void readBody(request).then((body) => {
        events.push({ id: request.headers[eventHeader], body: body.toString() });
        response.writeHead(204).end();
      });
    });
    closers.push(() => receiver.close());
    const message = await queuedDelivery(destination('sent-not-recorded.bin'), {}, `${receiver.url}/hook`);
    const ended = Object.assign(Object.create(jobs) as JobStore, {
      claimCallback: (token: string, outcome: string) => jobs.claimCallback(token, outcome, 1),
      recordCallback: async () => {
        throw new Error('the function environment crashed');
      },
    });
    await destinationHandler(s3Module, { dependencies: { ...dependencies, jobs: ended }, queues })(await event([message]), context());
    await new Promise((resolve) => setTimeout(resolve, 2100));

    // Act: the message comes back (it was never deleted).
    await handler(await event([message], 2), context());

    // Assess: the callback went twice (at least once), as one event.
    expect(events).toHaveLength(2);
    expect(events[1]?.body).toBe(events[0]?.body);
    expect(events[1]?.id).toBe(events[0]?.id);
  });

  it('puts a message back that comes while the claim on its callback still holds, and calls back when it comes again after the claim ran out', async () => {
    // Prepare: the attempt that finished claims the callback for 2 s, then "crashes" before sending it.
    const { receiver, received } = await callbackReceiver();
    const message = await queuedDelivery(destination('claim-holds.bin'), {}, `${receiver.url}/hook`);
    const ended = Object.assign(Object.create(jobs) as JobStore, {
      claimCallback: async (token: string, outcome: string) => {
        await jobs.claimCallback(token, outcome, 2);
        throw new Error('the function environment crashed');
      },
    });
    await destinationHandler(s3Module, { dependencies: { ...dependencies, jobs: ended }, queues })(await event([message], 1), context());

    // Act: the message comes back at once (a duplicate, or a short visibility timeout), then its deferred copy.
    const early = await handler(await event([message], 2), context());
    const deferred = await putBack(message.token, 'the message to be put back until the claim runs out');
    const receivedEarly = received.length;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, Date.parse(deferred.notBefore!) - Date.now()) + 100));
    await handler(await event([deferred], 1), context());

    // Assess
    expect(early.batchItemFailures).toEqual([]);
    expect(receivedEarly).toBe(0);
    expect(received).toEqual(['/hook']);
    expect(putsTo('claim-holds.bin')).toHaveLength(1);
  });

  it('puts the message back when the callback it claimed could not be sent (the signing key unreachable), and calls back when it comes again', async () => {
    // Prepare: the attempt that finished claims the callback for 1 s, then cannot read the signing key.
    const { receiver, received } = await callbackReceiver();
    const message = await queuedDelivery(destination('key-unreachable.bin'), {}, `${receiver.url}/hook`);
    const briefClaims = Object.assign(Object.create(jobs) as JobStore, {
      claimCallback: (token: string, outcome: string) => jobs.claimCallback(token, outcome, 1),
    });
    const keyUnreachable = {
      ...dependencies,
      jobs: briefClaims,
      leaseSeconds: 1,
      callbacks: { signingKey: () => Promise.reject(new Error('Secrets Manager is unreachable')) },
    };
    const first = await destinationHandler(s3Module, { dependencies: keyUnreachable, queues })(await event([message], 1), context());

    // Act: the copy put back comes again once the claim has run out.
    const deferred = await putBack(message.token, 'the message to be put back until the claim runs out');
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, Date.parse(deferred.notBefore!) - Date.now()) + 100));
    await handler(await event([deferred], 1), context());

    // Assess
    expect(first.batchItemFailures).toEqual([]);
    expect(received).toEqual(['/hook']);
    expect(putsTo('key-unreachable.bin')).toHaveLength(1);
  });

  it('dead-letters a transient failure on its last attempt whose callback could not be sent, and sends the callback on a message of its own', async () => {
    // Prepare: a store that refuses every connection (transient), and a signing key unreachable on the last attempt.
    const { receiver, received } = await callbackReceiver();
    const message = await queuedDelivery(destination('never.bin', { endpoint: 'http://127.0.0.1:1' }), {}, `${receiver.url}/hook`);
    const briefClaims = Object.assign(Object.create(jobs) as JobStore, {
      claimCallback: (token: string, outcome: string) => jobs.claimCallback(token, outcome, 1),
    });
    const keyUnreachable = { ...dependencies, jobs: briefClaims, callbacks: { signingKey: () => Promise.reject(new Error('Secrets Manager is unreachable')) } };
    await handler(await event([message], 1), context());
    const last = await destinationHandler(s3Module, { dependencies: keyUnreachable, queues })(await event([message], 2), context());

    // Act: the copy sent for the callback comes once the claim has run out.
    const followUp = await putBack(message.token, 'a message of its own for the callback');
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, Date.parse(followUp.notBefore!) - Date.now()) + 100));
    const again = await handler(await event([followUp], 1), context());

    // Assess: the last attempt still failed (to the dead-letter queue); the callback went once, and nothing was uploaded.
    expect(last.batchItemFailures).toHaveLength(1);
    expect(again.batchItemFailures).toEqual([]);
    expect(received).toEqual(['/hook']);
    expect((await jobs.get(message.token))?.destinations[0]).toMatchObject({ state: 'failed', attempts: 2 });
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

/** The copy of a delivery's message put back on the queue to come again later (it has a `notBefore`). */
function putBack(token: string, what: string): Promise<DeliveryMessage> {
  return waitFor(async () => {
    const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queue.url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
    const bodies = (Messages ?? []).map((item) => JSON.parse(item.Body ?? '{}') as DeliveryMessage);
    return bodies.find((body) => body.token === token && body.notBefore !== undefined);
  }, 10_000, what);
}

/** A callback receiver that answers 204 and notes the path of each callback; closed after the test. */
async function callbackReceiver(): Promise<{ receiver: Awaited<ReturnType<typeof startTestServer>>; received: string[] }> {
  const received: string[] = [];
  const receiver = await startTestServer((request, response) => {
    request.resume();
    request.on('end', () => {
      received.push(request.url ?? '');
      response.writeHead(204).end();
    });
  });
  closers.push(() => receiver.close());
  return { receiver, received };
}

/**
 * A source server for `bytes` that honours `Range`, and breaks the connection after `breakAt`
 * bytes of the file while `breaks` is above zero, like a network that drops mid-transfer.
 */
async function breakingSource(bytes: Buffer, options: { breakAt: number; breaks: number; delayMs?: number }) {
  const served: { from: number; bytes: number }[] = [];
  let breaks = options.breaks;
  const server = await startTestServer((request, response) => {
    const from = Number(/^bytes=(\d+)-$/.exec(request.headers.range ?? '')?.[1] ?? 0);
    const status = from > 0 ? 206 : 200;
    response.writeHead(status, {
      'content-length': String(bytes.length - from),
      etag: `"${sha256(bytes).slice(0, 16)}"`,
      ...(status === 206 ? { 'content-range': `bytes ${from}-${bytes.length - 1}/${bytes.length}` } : {}),
    });
    const record = { from, bytes: 0 };
    served.push(record);
    const breaking = breaks > 0;
    if (breaking) breaks -= 1;
    (async () => {
      for (let offset = from; offset < bytes.length; offset += 256 * 1024) {
        const end = Math.min(offset + 256 * 1024, bytes.length);
        if (breaking && end > options.breakAt) {
          response.write(bytes.subarray(offset, options.breakAt));
          record.bytes += options.breakAt - offset;
          await new Promise((resolve) => setTimeout(resolve, 20));
          response.destroy();
          return;
        }
        if (!response.write(bytes.subarray(offset, end))) await new Promise((resolve) => response.once('drain', resolve));
        record.bytes += end - offset;
        if (options.delayMs) await new Promise((resolve) => setTimeout(resolve, options.delayMs));
      }
      response.end();
    })().catch(() => response.destroy());
  });
  closers.push(() => server.close());
  return { url: `${server.url}/render.bin`, served };
}

function partBytesTo(key: string): number {
  return putsTo(key).reduce((sum, request) => sum + Number(request.headers['content-length'] ?? 0), 0);
}

describe('Function: destinationHandler, resuming', () => {
  const MiB = 1024 * 1024;

  it('continues a multipart upload that broke at 70 % from its stored parts, sending only the missing ones', async () => {
    // Prepare: the source drops its connection at 70 % the first time.
    const bytes = patternBytes(40 * MiB + 11, 31);
    const source = await breakingSource(bytes, { breakAt: Math.floor(bytes.length * 0.7), breaks: 1 });
    const message = await queuedDelivery(destination('resumed.bin'), {}, undefined, { url: source.url });

    // Act
    const first = await handler(await event([message], 1), context());
    const afterFirst = partBytesTo('resumed.bin');
    const second = await handler(await event([message], 2), context());

    // Assess
    expect(first.batchItemFailures).toHaveLength(1);
    expect(second.batchItemFailures).toEqual([]);
    const record = (await jobs.get(message.token))?.destinations[0];
    expect(record).toMatchObject({ state: 'succeeded', bytes: bytes.length, checksum: { value: crc32Base64(crc32(bytes)) } });
    expect(record?.details?.resumed_at).toBeGreaterThan(0);
    expect(partBytesTo('resumed.bin')).toBe(bytes.length);
    expect(afterFirst).toBe(record?.details?.resumed_at);
    // The second attempt read the source from where the stored parts end (a ranged request).
    expect(source.served.at(-1)).toEqual({ from: record?.details?.resumed_at, bytes: bytes.length - Number(record?.details?.resumed_at) });
    expect(await s3.openUploads('deliveries')).toEqual([]);
    const { Body } = await new S3Client({ region, endpoint: s3.endpoint, forcePathStyle: true, credentials }).send(new GetObjectCommand({ Bucket: 'deliveries', Key: 'resumed.bin' }));
    expect(sha256(Buffer.from(await Body!.transformToByteArray()))).toBe(sha256(bytes));
  });

  it('goes on while each attempt gets further, and aborts the multipart upload when the delivery finally fails, leaving no parts behind', async () => {
    const bytes = patternBytes(30 * MiB, 32);
    const source = await breakingSource(bytes, { breakAt: 20 * MiB, breaks: 10 });
    const message = await queuedDelivery(destination('abandoned.bin'), {}, undefined, { url: source.url });

    await handler(await event([message], 1), context());
    const uploadsBetween = await s3.openUploads('deliveries');
    // The second attempt began further in (the first stored 16 MiB), so the upload goes on…
    const second = await handler(await event([message], 2), context());
    const afterSecond = (await jobs.get(message.token))?.destinations[0];
    // …but the third begins where the second did: it has stopped moving, and its last attempt is final.
    await handler(await event([message], 2), context());

    expect(uploadsBetween).toHaveLength(1);
    expect(second.batchItemFailures).toEqual([]);
    expect(afterSecond).toMatchObject({ state: 'retrying' });
    expect((await jobs.get(message.token))?.destinations[0]).toMatchObject({ state: 'failed', error: { code: 'ECONNRESET', retryable: true } });
    expect(await s3.openUploads('deliveries')).toEqual([]);
  });

  it('fails for good, aborting its parts, a delivery that has run past the time one delivery may take', async () => {
    const bytes = patternBytes(30 * MiB, 36);
    const source = await breakingSource(bytes, { breakAt: 20 * MiB, breaks: 1 });
    const message = await queuedDelivery(destination('expired.bin'), {}, undefined, { url: source.url });
    const impatient = destinationHandler(s3Module, { dependencies: { ...dependencies, maxDeliverySeconds: 1, maxAttempts: 5 }, queues });
    await impatient(await event([message], 1), context());
    const uploadsBetween = await s3.openUploads('deliveries');
    await new Promise((resolve) => setTimeout(resolve, 1100));

    await impatient(await event([message], 2), context());

    expect(uploadsBetween).toHaveLength(1);
    expect((await jobs.get(message.token))?.destinations[0]).toMatchObject({ state: 'failed', error: { code: 'DeliveryExpired', retryable: false } });
    expect(await s3.openUploads('deliveries')).toEqual([]);
  });

  it('starts again, discarding the stored parts, when the source changed between attempts', async () => {
    const bytes = patternBytes(30 * MiB, 33);
    const first = await breakingSource(bytes, { breakAt: 20 * MiB, breaks: 1 });
    const message = await queuedDelivery(destination('changed.bin'), {}, undefined, { url: first.url });
    await handler(await event([message], 1), context());
    const changed = patternBytes(30 * MiB, 34);
    const second = await breakingSource(changed, { breakAt: 0, breaks: 0 });

    const answer = await handler(await event([{ ...message, source: { url: second.url, sealedUrl: await sealer.seal({ url: second.url }, sourceSealingContext(message.token)) } }], 2), context());

    expect(answer.batchItemFailures).toEqual([]);
    expect((await jobs.get(message.token))?.destinations[0]).toMatchObject({ state: 'succeeded', checksum: { value: crc32Base64(crc32(changed)) } });
    expect(await s3.openUploads('deliveries')).toEqual([]);
  });

  it('starts again and delivers when the source changed and the stored parts cannot be discarded (no right to abort them)', async () => {
    // Prepare: the credentials may write but not abort multipart uploads (a separate S3 permission).
    const bytes = patternBytes(30 * MiB, 38);
    const first = await breakingSource(bytes, { breakAt: 20 * MiB, breaks: 1 });
    const message = await queuedDelivery(destination('changed-unaborted.bin'), {}, undefined, { url: first.url });
    await handler(await event([message], 1), context());
    const changed = patternBytes(30 * MiB, 39);
    const second = await breakingSource(changed, { breakAt: 0, breaks: 0 });
    const refused = new PermanentError('s3://deliveries: AccessDenied: not allowed to abort multipart uploads', { code: 'AccessDenied' });
    const unaborting = destinationHandler({ ...s3Module, uploader: { ...s3UploaderInParts, discard: async () => Promise.reject(refused) } }, { dependencies, queues });

    // Act
    const answer = await unaborting(await event([{ ...message, source: { url: second.url, sealedUrl: await sealer.seal({ url: second.url }, sourceSealingContext(message.token)) } }], 2), context());

    // Assess
    expect(answer.batchItemFailures).toEqual([]);
    expect((await jobs.get(message.token))?.destinations[0]).toMatchObject({ state: 'succeeded', checksum: { value: crc32Base64(crc32(changed)) } });
  });

  it('aborts the multipart upload it has just started when its resume state cannot be saved, so nothing is left that no attempt knows of', async () => {
    // Prepare: the job table refuses the first resume state (throttled past the client's retries).
    const bytes = patternBytes(20 * MiB, 37);
    const source = await breakingSource(bytes, { breakAt: 0, breaks: 0 });
    const message = await queuedDelivery(destination('unsaved.bin'), {}, undefined, { url: source.url });
    const throttled = Object.assign(Object.create(jobs) as JobStore, {
      saveResume: async () => {
        throw Object.assign(new Error('Rate of requests exceeds the allowed throughput.'), { name: 'ThrottlingException' });
      },
    });
    const refusing = destinationHandler(s3Module, { dependencies: { ...dependencies, jobs: throttled }, queues });

    // Act
    const first = await refusing(await event([message], 1), context());
    const uploadsBetween = await s3.openUploads('deliveries');
    const second = await handler(await event([message], 2), context());

    // Assess
    expect(first.batchItemFailures).toHaveLength(1);
    expect(uploadsBetween).toEqual([]);
    expect(second.batchItemFailures).toEqual([]);
    expect((await jobs.get(message.token))?.destinations[0]).toMatchObject({ state: 'succeeded', bytes: bytes.length });
    expect(await s3.openUploads('deliveries')).toEqual([]);
  });

  it('shows the bytes read so far while the upload runs', async () => {
    const bytes = patternBytes(20 * MiB, 35);
    const source = await breakingSource(bytes, { breakAt: 0, breaks: 0, delayMs: 40 });
    const message = await queuedDelivery(destination('progress.bin'), {}, undefined, { url: source.url });
    const watched = destinationHandler(s3Module, { dependencies: { ...dependencies, progressSeconds: 0.2 }, queues });

    const running = watched(await event([message], 1), context());
    const seen = await waitFor(async () => {
      const view = jobView((await jobs.get(message.token))!);
      const [first] = view.destinations as { state: string; bytes_sent?: number }[];
      return first?.state === 'uploading' && (first.bytes_sent ?? 0) > 0 ? first.bytes_sent : undefined;
    }, 20_000, 'bytes_sent');
    await running;

    expect(seen).toBeGreaterThan(0);
    expect(seen).toBeLessThan(bytes.length);
  });
});

describe('Function: destinationHandler, waits and retry hints', () => {
  /** A destination whose uploads fail as `failure` says: the runner's handling is under test, not S3. */
  function failingModule(failure: () => Error) {
    return { definition: s3Destination, uploader: { ...s3UploaderInParts, upload: async () => Promise.reject(failure()) } };
  }

  it('defers a delivery that must wait for a quota without spending an attempt, and says until when', async () => {
    const until = new Date(Date.now() + 3 * 3600_000);
    const waiting = destinationHandler(failingModule(() => new WaitError('daily upload quota used up', { code: 'quotaExceeded', until })), { dependencies, queues });
    const message = await queuedDelivery(destination('quota.bin'));
    const own = await newQueue('upload-destinations-s3-quota');

    const answer = await waiting(await event([message], 1, own), context());

    expect(answer.batchItemFailures).toEqual([]);
    const view = jobView((await jobs.get(message.token))!);
    expect(view.destinations).toMatchObject([{ state: 'waiting', wait_until: until.toISOString(), error: { code: 'quotaExceeded' } }]);
    // Sent back delayed by 15 minutes, SQS's longest delay, to come back and wait again.
    const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: own.url, AttributeNames: ['ApproximateNumberOfMessagesDelayed'] }));
    expect(Attributes?.ApproximateNumberOfMessagesDelayed).toBe('1');
  });

  it('sends a deferred delivery back again, without claiming it, when it returns before its time', async () => {
    const message = await queuedDelivery(destination('early.bin'));
    const notBefore = new Date(Date.now() + 3600_000).toISOString();

    const answer = await handler(await event([{ ...message, notBefore }], 1), context());

    expect(answer.batchItemFailures).toEqual([]);
    expect(putsTo('early.bin')).toEqual([]);
    expect((await jobs.get(message.token))?.destinations[0]).toMatchObject({ state: 'queued', attempts: 0 });
  });

  it("keeps the delivery's secret values out of the recorded reason, whatever the destination's error quoted", async () => {
    const careless = destinationHandler(
      failingModule(() => new Error('refused: the server says your key S3RVER is not valid (Bearer sk_live_abcdef)')),
      { dependencies, queues },
    );
    const message = await queuedDelivery(destination('careless.bin'));

    await careless(await event([message], 2), context());

    const recorded = (await jobs.get(message.token))?.destinations[0]?.error?.message ?? '';
    expect(recorded).toContain('refused: the server says your key');
    expect(recorded).not.toContain('S3RVER');
    expect(recorded).not.toContain('sk_live_abcdef');
  });

  it("retries after the destination's Retry-After instead of the backoff", async () => {
    const throttled = destinationHandler(
      failingModule(() => new TransientError('slow down', { code: 'HTTP429', retryAfterSeconds: 2 })),
      { dependencies: { ...dependencies, retryBaseSeconds: 600 }, queues },
    );
    const message = await queuedDelivery(destination('throttled.bin'));

    const answer = await throttled(await event([message], 1), context());

    expect(answer.batchItemFailures).toHaveLength(1);
    const { Messages } = await waitFor(async () => {
      const received = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queue.url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
      return received.Messages?.some((item) => JSON.parse(item.Body ?? '{}').token === message.token) ? received : undefined;
    }, 10_000, 'the message to come back after its Retry-After');
    expect(Messages?.length).toBeGreaterThan(0);
  });
});

/** Runs `act` and returns the JSON lines it wrote to standard output (EMF records, log lines). */
async function writtenLines(act: () => Promise<unknown>): Promise<Record<string, any>[]> {
  const lines: Record<string, any>[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    for (const line of String(chunk).split('\n').filter((text) => text.startsWith('{'))) lines.push(JSON.parse(line) as Record<string, any>);
    return true;
  });
  try {
    await act();
  } finally {
    spy.mockRestore();
  }
  return lines;
}

/** The EMF records among `lines`: those whose `_aws` names the metrics in them. */
function emfRecords(lines: readonly Record<string, any>[]): Record<string, any>[] {
  return lines.filter((line) => line._aws?.CloudWatchMetrics);
}

function metricNames(record: Record<string, any>): string[] {
  return record._aws.CloudWatchMetrics[0].Metrics.map((metric: { Name: string }) => metric.Name);
}

describe('Function: destinationHandler, metrics and logs', () => {
  beforeEach(() => {
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
  });
  afterEach(() => {
    vi.unstubAllEnvs();
  });
  const observed = () => destinationHandler(s3Module, { dependencies: { ...dependencies, log: new Logger({ serviceName: 'test', logLevel: 'INFO' }) }, queues, metrics: createMetrics({ destination: 's3' }) });

  it('emits one set of delivery metrics for a delivery (not one per part), in the embedded metric format', async () => {
    // Prepare
    const acceptedAt = new Date(Date.now() - 2000).toISOString();
    const message = { ...(await queuedDelivery(destination('metrics/ok.bin'))), acceptedAt };
    const handle = observed();

    // Act
    const records = emfRecords(await writtenLines(async () => handle(await event([message]), context())));

    // Assess
    const delivery = records.filter((record) => metricNames(record).includes('DeliveriesSucceeded'));
    expect(delivery).toHaveLength(1);
    const record = delivery[0]!;
    expect(record._aws.CloudWatchMetrics[0]).toMatchObject({ Namespace: 'UploadDestinations', Dimensions: [['service', 'destination']] });
    expect(record).toMatchObject({ service: 'upload-destinations', destination: 's3', DeliveriesSucceeded: 1, BytesDelivered: 50_000, DeliveryAttempts: 1, MessagesReceived: 1 });
    expect(record.TimeToDelivered).toBeGreaterThanOrEqual(2000);
    expect(record.DeliveryDuration).toBeGreaterThan(0);
    expect(record.Throughput).toBeGreaterThan(0);
    expect(records.some((item) => metricNames(item).includes('DeliveriesFailed'))).toBe(false);
  });

  it('counts a failure for good by its error code, beside the count without it', async () => {
    // Prepare
    const message = await queuedDelivery(destination('metrics/refused.bin', { bucket: 'no-such-bucket' }));
    const handle = observed();

    // Act
    const records = emfRecords(await writtenLines(async () => handle(await event([message]), context())));

    // Assess
    const failed = records.filter((record) => metricNames(record).includes('DeliveriesFailed'));
    expect(failed.map((record) => record._aws.CloudWatchMetrics[0].Dimensions[0]).sort()).toEqual([
      ['service', 'destination'],
      ['service', 'destination', 'code'],
    ]);
    expect(failed.find((record) => record.code)).toMatchObject({ destination: 's3', code: 'NoSuchBucket', DeliveriesFailed: 1 });
  });

  it('counts each failure by its own code, one after another in one function', async () => {
    // Prepare
    const refused = await queuedDelivery(destination('metrics/refused-again.bin', { bucket: 'no-such-bucket' }));
    const unreachable = await queuedDelivery(destination('metrics/unreachable.bin', { endpoint: 'http://127.0.0.1:1' }));
    const handle = observed();

    // Act
    const records = emfRecords(
      await writtenLines(async () => {
        await handle(await event([refused]), context());
        await handle(await event([unreachable]), context());
      }),
    );

    // Assess
    const byCode = records.filter((record) => record.code !== undefined);
    expect(byCode.map((record) => [Object.keys(record).filter((key) => /^(Deliveries|Attempts)/.test(key)), record.code])).toEqual([
      [['DeliveriesFailed'], 'NoSuchBucket'],
      [['AttemptsRetried'], expect.not.stringMatching(/^NoSuchBucket$/)],
    ]);
    expect(byCode.map((record) => record._aws.CloudWatchMetrics[0].Dimensions[0])).toEqual([
      ['service', 'destination', 'code'],
      ['service', 'destination', 'code'],
    ]);
  });

  it("keeps the delivery's secret values out of the log line of a partial upload that could not be discarded", async () => {
    // Prepare: an upload that fails for good after saving its state, whose removal fails quoting the key.
    const careless = {
      ...s3Module,
      uploader: {
        ...s3UploaderInParts,
        upload: async ({ resume }: { resume: { save: (state: S3ResumeState) => Promise<void> } }) => {
          await resume.save({ uploadId: 'u1' } as unknown as S3ResumeState);
          throw new PermanentError('refused', { code: 'Refused' });
        },
        discard: async () => Promise.reject(new Error('abort refused: the key S3RVER may not abort (Bearer sk_live_abcdef)')),
      },
    };
    const handle = destinationHandler(careless, { dependencies: { ...dependencies, log: new Logger({ serviceName: 'test', logLevel: 'INFO' }) }, queues });
    const message = await queuedDelivery(destination('metrics/undiscarded.bin'));

    // Act: warnings go to standard error.
    const written: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => written.push(String(chunk)) > 0);
    try {
      await handle(await event([message]), context());
    } finally {
      spy.mockRestore();
    }

    // Assess
    const lines = written.flatMap((chunk) => chunk.split('\n')).filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>);
    const warned = lines.filter((line) => line.message === 'could not discard the partial upload');
    expect(warned).toHaveLength(1);
    expect(JSON.stringify(warned)).toContain('abort refused');
    expect(JSON.stringify(warned)).not.toContain('S3RVER');
    expect(JSON.stringify(warned)).not.toContain('sk_live_abcdef');
  });

  it('logs every line of a delivery with the job token as its correlation id, the callback included', async () => {
    // Prepare
    const hook = await startTestServer((_request, response) => response.writeHead(204).end());
    const message = await queuedDelivery(destination('metrics/correlated.bin'), {}, `${hook.url}/hook`);
    const handle = observed();

    // Act
    const lines = await writtenLines(async () => handle(await event([message]), context()));
    await hook.close();

    // Assess
    const logged = lines.filter((line) => line.message !== undefined);
    expect(logged.map((line) => line.message)).toEqual(expect.arrayContaining(['delivery started', 'delivery succeeded', 'callback']));
    expect(logged.every((line) => line.correlation_id === message.token)).toBe(true);
  });
});
