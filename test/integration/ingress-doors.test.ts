import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PurgeQueueCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { APIGatewayProxyEvent, SQSRecord } from 'aws-lambda';
import { accept, acceptOrRecordRejection, newToken } from '../../functions/ingress/accept.ts';
import type { IngressDependencies } from '../../functions/ingress/dependencies.ts';
import { handleHttp } from '../../functions/ingress/http-api.ts';
import { handleInboxMessage, inboxToken } from '../../functions/ingress/inbox-door.ts';
import { handleObjectCreated, jobNoteSuffix, manifestSuffix } from '../../functions/ingress/s3-door.ts';
import { retryJob } from '../../functions/ingress/retry-job.ts';
import type { DeliveryMessage } from '../../shared/contract/message.ts';
import type { FieldError } from '../../shared/errors.ts';
import { createJobTable } from '../../infra/local/job-table.ts';
import { DocumentTable } from '../../shared/jobs/document-table.ts';
import { JobListing } from '../../shared/jobs/job-listing.ts';
import { jobView } from '../../shared/jobs/job-view.ts';
import { JobStore } from '../../shared/jobs/job-store.ts';
import { AwsJsonClient, dynamodbService } from '../../shared/net/aws-json-client.ts';
import type { TestS3 } from '../support/local-s3.ts';
import { harnessCredentials as credentials, harnessRegion as region, harnessStagingBucket as stagingBucket, startIngressHarness, type IngressHarness } from '../support/ingress-harness.ts';

const serviceAccount = '123456789012';
let sqs: SQSClient;
let queueUrl: string;
let table: DocumentTable;
let jobs: JobStore;
let dependencies: IngressDependencies;
let s3: TestS3;
let dynamoEndpoint: string;
let harness: IngressHarness;

beforeAll(async () => {
  harness = await startIngressHarness(['s3'], { accountId: serviceAccount });
  ({ sqs, queueUrl, table, jobs, dependencies, s3, dynamoEndpoint } = harness);
});

afterAll(() => harness.close());

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
async function deadLettered(token: string, index: number, store = jobs): Promise<void> {
  const claim = await store.claim(token, index, 60);
  if (claim.kind !== 'claimed') throw new Error(`could not claim destination ${index} of ${token}`);
  await store.fail(token, index, claim.attemptId, { code: 'Timeout', message: 'timed out', retryable: true }, true);
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

describe('Ingress: delivery messages', () => {
  it('carry a file name past ASCII as it was written, on a queue that refuses it unescaped', async () => {
    const filename = '🎬 final\uFFFF.mp4';

    await accept({ source: { url: 'https://renders.example.com/a.mp4' }, upload: { destination: destination(filename) } }, { origin: 'api' }, dependencies);

    expect((await queued()).map((message) => message.destination.filename)).toEqual([filename]);
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
    expect(await acceptOrRecordRejection(() => request('first.mp4'), options, dependencies)).toEqual({ token });

    const { errors } = await acceptOrRecordRejection(() => request('second.mp4'), options, dependencies);

    expect(errors).toEqual([expect.objectContaining({ path: 'idempotency_key' })]);
    const job = await jobs.get(token);
    expect(job?.rejected).toBeUndefined();
    expect(job).toMatchObject({ source: { bucket: stagingBucket, key: 'drop/clip.mp4' }, destinationCount: 1, enqueued: true });
    expect(job?.sealedCallbackUrl).toBeDefined();
  });
});

/** What a door made of a request: accepted, or refused with the errors it named. */
interface Outcome {
  readonly accepted: boolean;
  readonly errors?: readonly FieldError[];
}

/** What one door calls the body it was given, so that the errors of the three doors can be compared. */
const bodyNames = /^the (request body|message body|manifest) /;

function refusal(accepted: boolean, errors: readonly FieldError[] | undefined): Outcome {
  return accepted ? { accepted } : { accepted, errors: errors?.map((error) => ({ ...error, message: error.message.replace(bodyNames, 'the body ') })) };
}

/** `POST /v1/uploads` with `body`. */
async function throughApi(body: string): Promise<Outcome> {
  const event = { httpMethod: 'POST', path: '/v1/uploads', headers: {}, body, isBase64Encoded: false, queryStringParameters: null };
  const answer = await handleHttp(event as unknown as APIGatewayProxyEvent, dependencies);
  return refusal(answer.statusCode === 202, (JSON.parse(answer.body) as { errors?: FieldError[] }).errors);
}

/** What the inbox door made of a message with `body`: its answer, and the job under its token as `GET` shows it. */
async function inboxJob(body: string): Promise<{ answer: string; job: Record<string, unknown> | undefined }> {
  const messageId = crypto.randomUUID();
  const answer = await handleInboxMessage({ messageId, body } as SQSRecord, dependencies);
  const job = await jobs.get(inboxToken(messageId));
  return { answer, job: job && jobView(job) };
}

async function throughInbox(body: string): Promise<Outcome> {
  const { job } = await inboxJob(body);
  return refusal(job?.state !== 'rejected', job?.errors as FieldError[] | undefined);
}

/** A file dropped with `manifest` beside it; the job note the S3 door writes. */
async function dropJobNote(manifest: string | Uint8Array, file = `drop/${newToken()}.mp4`, content = 'a file'): Promise<Record<string, unknown>> {
  await s3.reader.send(new PutObjectCommand({ Bucket: stagingBucket, Key: file, Body: content }));
  await s3.reader.send(new PutObjectCommand({ Bucket: stagingBucket, Key: `${file}${manifestSuffix}`, Body: manifest }));
  await handleObjectCreated({ bucket: stagingBucket, key: `${file}${manifestSuffix}` }, dependencies);
  const note = await s3.reader.send(new GetObjectCommand({ Bucket: stagingBucket, Key: `${file}${jobNoteSuffix}` }));
  return JSON.parse(await note.Body!.transformToString()) as Record<string, unknown>;
}

async function throughDrop(manifest: string): Promise<Outcome> {
  const note = await dropJobNote(manifest);
  return refusal(note.state !== 'rejected', note.errors as FieldError[] | undefined);
}

const inlineKeys = { aws_access_key_id: 'AKIAIOSFODNN7EXAMPLE' };
/** As many fields no destination knows as fit in a request: each is an error of its own. */
const unknownFields = Object.fromEntries(Array.from({ length: 7000 }, (_, index) => [`_${index.toString(36)}`, 0]));
const upload = (fields: Record<string, unknown> = {}) => ({ destination: { ...destination('a.mp4'), ...fields } });
/** The fields that name a role of `account` for the service to assume. */
const assuming = (account: string) => ({ role_arn: `arn:aws:iam::${account}:role/upload-destinations-delivery`, external_id: 'customer-42' });

/** The same request as the API and the inbox take it (with a source) and as a manifest (without: the dropped file is). */
function bodies(request: Record<string, unknown>, text: (json: string) => string = (json) => json): { sent: string; manifest: string } {
  return { sent: text(JSON.stringify({ source: { url: 'https://renders.example.com/a.mp4' }, ...request })), manifest: text(JSON.stringify(request)) };
}

describe('Ingress: the doors treat the same request the same way', () => {
  it.each([
    ['just over the limit (accepted where the API refuses it)', 50_000],
    ['too large for a job item (thrown, so retried and dead-lettered without a record)', 600_000],
  ])('rejects an inbox message larger than the API takes, naming the limit: an inline secret %s', async (_case, secretBytes) => {
    const { sent } = bodies({ upload: upload({ ...inlineKeys, credentials: undefined, aws_secret_access_key: randomBytes(secretBytes).toString('base64') }) });

    const { answer, job } = await inboxJob(sent);

    expect(answer).toBe('rejected');
    expect(job).toMatchObject({ state: 'rejected', errors: [{ path: '', message: 'the message body must be at most 65536 bytes' }] });
    expect(await queued()).toEqual([]);
  });

  it('refuses a presigned source at the inbox, whose sender would never get the URL to upload the file to', async () => {
    const { answer, job } = await inboxJob(JSON.stringify({ source: { presigned: { filename: 'a.mp4' } }, upload: upload() }));

    expect(answer).toBe('rejected');
    expect(job).toMatchObject({ state: 'rejected', errors: [{ path: 'source.presigned', message: expect.stringContaining('POST /v1/uploads') }] });
  });

  // Read as U+FFFD, the file name (or a password) delivered would not be the one sent.
  it('refuses a manifest that is not UTF-8, as the API refuses such a body, noting the rejection and queueing nothing', async () => {
    const latin1 = Buffer.from(JSON.stringify({ upload: upload({ filename: 'renders/café.mp4' }) }), 'latin1');
    const api = await handleHttp(
      { httpMethod: 'POST', path: '/v1/uploads', headers: {}, body: Buffer.from(JSON.stringify({ source: { url: 'https://renders.example.com/a.mp4' }, upload: upload({ filename: 'renders/café.mp4' }) }), 'latin1').toString('base64'), isBase64Encoded: true, queryStringParameters: null } as unknown as APIGatewayProxyEvent,
      dependencies,
    );

    const note = await dropJobNote(latin1);

    expect(JSON.parse(api.body)).toMatchObject({ errors: [{ path: '', message: 'the request body is not valid JSON' }] });
    expect(note).toMatchObject({ state: 'rejected', errors: [{ path: '', message: 'the manifest is not valid JSON' }] });
    expect(await queued()).toEqual([]);
  });

  it('notes the job that delivers a dropped file whose manifest repeats an earlier idempotency key, as the API answers with it', async () => {
    const file = `drop/${newToken()}.mp4`;
    const manifest = JSON.stringify({ upload: upload(), idempotency_key: `drop-${newToken()}` });
    const first = await dropJobNote(manifest, file, 'take 1');

    const again = await dropJobNote(manifest, file, 'take 2');

    expect(again).toMatchObject({ token: first.token, state: 'queued' });
  });

  it.each<[string, { sent: string; manifest: string }, Outcome]>([
    ['a request after a byte order mark', bodies({ upload: upload() }, (json) => `\uFEFF${json}`), { accepted: true }],
    ['a body that is not JSON', { sent: 'deliver please', manifest: 'deliver please' }, { accepted: false, errors: [{ path: '', message: 'the body is not valid JSON' }] }],
    ['JSON that is not an object', { sent: '[]', manifest: '[]' }, { accepted: false, errors: [{ path: '', message: 'the body must be a JSON object' }] }],
    [
      'a body over 64 KiB',
      bodies({ upload: upload({ ...inlineKeys, credentials: undefined, aws_secret_access_key: randomBytes(50_000).toString('base64') }) }),
      { accepted: false, errors: [{ path: '', message: 'the body must be at most 65536 bytes' }] },
    ],
    // SQS refuses U+FFFF as it is written in JSON; fauxqs refuses an emoji's two halves as well.
    ['a file name holding a character SQS refuses unescaped (U+FFFF)', bodies({ upload: upload({ filename: 'a\uFFFF.mp4' }) }), { accepted: true }],
    ['a file name holding an emoji', bodies({ upload: upload({ filename: '🎬 final.mp4' }) }), { accepted: true }],
    [
      "a role of the service's own account, which its functions are denied",
      bodies({ upload: upload({ ...assuming(serviceAccount), credentials: undefined }) }),
      { accepted: false, errors: [{ path: 'upload.destination.role_arn', message: expect.stringContaining("must be a role of another account than the service's own (123456789012)") }] },
    ],
    ["another account's role", bodies({ upload: upload({ ...assuming('111122223333'), credentials: undefined }) }), { accepted: true }],
    [
      'a request of thousands of unknown fields (their errors too many for one job item)',
      bodies({ upload: { destinations: [{ ...destination('a.mp4'), ...unknownFields }] } }),
      {
        accepted: false,
        errors: [
          ...Object.keys(unknownFields).slice(0, 100).map((name) => ({ path: `upload.destinations[0].${name}`, message: 'is not a known field' })),
          { path: '', message: 'and 6900 more errors' },
        ],
      },
    ],
  ])('%s: the API, the inbox and the drop folder agree', async (_case, { sent, manifest }, expected) => {
    const outcome = (door: Promise<Outcome>) => door.catch((error: unknown) => ({ thrown: String(error) }));

    const doors = { api: await outcome(throughApi(sent)), inbox: await outcome(throughInbox(sent)), drop: await outcome(throughDrop(manifest)) };

    expect(doors).toEqual({ api: expected, inbox: expected, drop: expected });
  });
});


let ownTables = 0;

/** The ingress over a job table of its own, so that its listing holds only the jobs of one test. */
async function ingressOfItsOwn(): Promise<{ ingress: IngressDependencies; own: DocumentTable }> {
  const name = `jobs-own-${(ownTables += 1)}`;
  const dynamo = new DynamoDBClient({ region, endpoint: dynamoEndpoint, credentials });
  await createJobTable(dynamo, name);
  dynamo.destroy();
  const own = new DocumentTable(new AwsJsonClient(dynamodbService, { region, endpoint: dynamoEndpoint, credentials }), name);
  return { ingress: { ...dependencies, jobs: new JobStore(own, 1), listing: new JobListing(own), retentionDays: 1 }, own };
}

/** `method path` through the HTTP API, without a body: its status and what it answered. */
async function http(method: string, path: string, ingress: IngressDependencies): Promise<{ status: number; body: Record<string, unknown> }> {
  const event = { httpMethod: method, path, headers: {}, body: null, isBase64Encoded: false, queryStringParameters: null };
  const answer = await handleHttp(event as unknown as APIGatewayProxyEvent, ingress);
  return { status: answer.statusCode, body: JSON.parse(answer.body) as Record<string, unknown> };
}

describe('Ingress: an inbox message repeating an earlier request with its idempotency key', () => {
  const request = (key: string, fields: Record<string, unknown> = {}) => ({
    source: { url: 'https://renders.example.com/a.mp4' },
    upload: upload(fields),
    idempotency_key: key,
  });
  const message = (body: unknown) => ({ messageId: crypto.randomUUID(), body: JSON.stringify(body) }) as SQSRecord;

  it("answers GET of its inbox token with the earlier job and that job's token, listed once, however often the message comes", async () => {
    const { ingress } = await ingressOfItsOwn();
    const sent = request(`render-${newToken()}`);
    const earlier = await accept(sent, { origin: 'api' }, ingress);
    const inbox = message(sent);

    const answers = [await handleInboxMessage(inbox, ingress), await handleInboxMessage(inbox, ingress)];

    expect(answers).toEqual(['accepted', 'accepted']);
    const polled = await http('GET', `/v1/uploads/${inboxToken(inbox.messageId)}`, ingress);
    expect(polled).toEqual(await http('GET', `/v1/uploads/${earlier.token}`, ingress));
    expect(polled).toMatchObject({ status: 200, body: { token: earlier.token, origin: 'api', state: 'queued' } });
    expect((await http('GET', '/v1/uploads', ingress)).body.jobs).toEqual([polled.body]);
    expect((await queued()).map((delivery) => delivery.token)).toEqual([earlier.token]);
  });

  it("retries the earlier job when asked through the inbox token, answering with that job's token", async () => {
    const { ingress } = await ingressOfItsOwn();
    const sent = request(`render-${newToken()}`);
    const earlier = await accept(sent, { origin: 'api' }, ingress);
    const inbox = message(sent);
    await handleInboxMessage(inbox, ingress);
    await queued();
    await deadLettered(earlier.token, 0, ingress.jobs);

    const retried = await http('POST', `/v1/uploads/${inboxToken(inbox.messageId)}/retry`, ingress);

    expect(retried).toEqual({ status: 202, body: { token: earlier.token, retried: [0], skipped: [] } });
    expect((await queued()).map((delivery) => [delivery.token, delivery.index])).toEqual([[earlier.token, 0]]);
  });

  it('records a rejected job under its inbox token when the key was used for another request', async () => {
    const { ingress } = await ingressOfItsOwn();
    const key = `render-${newToken()}`;
    const earlier = await accept(request(key), { origin: 'api' }, ingress);
    const inbox = message(request(key, { filename: 'b.mp4' }));
    const token = inboxToken(inbox.messageId);

    expect(await handleInboxMessage(inbox, ingress)).toBe('rejected');

    expect(await http('GET', `/v1/uploads/${token}`, ingress)).toMatchObject({
      status: 200,
      body: { token, state: 'rejected', errors: [{ path: 'idempotency_key', message: expect.stringContaining(key) }] },
    });
    const listed = (await http('GET', '/v1/uploads', ingress)).body.jobs as { token: string }[];
    expect(listed.map((job) => job.token).sort()).toEqual([earlier.token, token].sort());
  });

  it('keeps what its token answers as long as jobs are kept, and nothing of the request', async () => {
    const { ingress, own } = await ingressOfItsOwn();
    const now = new Date();
    const clocked = { ...ingress, jobs: new JobStore(own, 1, () => now) };
    const secret = `secret-${newToken()}`;
    const sent = request(`render-${newToken()}`, { ...inlineKeys, credentials: undefined, aws_secret_access_key: secret });
    await accept(sent, { origin: 'api' }, clocked);
    const inbox = message(sent);

    await handleInboxMessage(inbox, clocked);

    const { items } = await own.query({
      KeyConditionExpression: '#token = :token',
      ExpressionAttributeNames: { '#token': 'token' },
      ExpressionAttributeValues: { ':token': inboxToken(inbox.messageId) },
    });
    expect(items.map((item) => item.expiresAt)).toEqual([Math.floor(now.getTime() / 1000) + 86_400]);
    expect(JSON.stringify(items)).not.toContain(secret);
  });

  it('throws, for the queue to deliver the message again, when the table refuses to note which job its token answers', async () => {
    const { ingress, own } = await ingressOfItsOwn();
    const sent = request(`render-${newToken()}`);
    const earlier = await accept(sent, { origin: 'api' }, ingress);
    const inbox = message(sent);
    const refused = new Error('throttled');
    const refusing = Object.assign(Object.create(own) as DocumentTable, {
      put: async (item: Record<string, unknown>, expressions?: object) => {
        if (item.token === inboxToken(inbox.messageId)) throw refused;
        return own.put(item, expressions);
      },
    });

    await expect(handleInboxMessage(inbox, { ...ingress, jobs: new JobStore(refusing, 1) })).rejects.toMatchObject({ cause: refused });

    expect(await handleInboxMessage(inbox, ingress)).toBe('accepted');
    expect(await http('GET', `/v1/uploads/${inboxToken(inbox.messageId)}`, ingress)).toMatchObject({ status: 200, body: { token: earlier.token } });
  });
});
