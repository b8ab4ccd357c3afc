import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalPipeline, type LocalPipeline } from '../../infra/local/pipeline.ts';
import { resourceNames } from '../../infra/resources.ts';
import { patternBytes, sha256 } from '../support/sources.ts';
import { waitFor } from '../support/wait.ts';

let pipeline: LocalPipeline;
let state: string;
let s3: S3Client;
let sqs: SQSClient;
const bytes = patternBytes(200_000, 11);
const staging = resourceNames.stagingBucket;

async function job(token: string): Promise<Record<string, any>> {
  return (await (await fetch(`${pipeline.apiUrl}/v1/uploads/${token}`)).json()) as Record<string, any>;
}

async function settled(token: string): Promise<Record<string, any>> {
  return waitFor(async () => {
    const view = await job(token);
    return ['succeeded', 'failed', 'partially_failed', 'rejected'].includes(view.state) ? view : undefined;
  }, 20_000, `job ${token}`);
}

/**
 * The delivered object once it is whole: s3rver writes an object's file as the bytes come (S3
 * shows an object only once complete), so a read while it is being written is short.
 */
async function delivered(key: string): Promise<Buffer> {
  return waitFor(async () => {
    try {
      const object = await s3.send(new GetObjectCommand({ Bucket: pipeline.deliveryBucket, Key: key }));
      const body = Buffer.from(await object.Body!.transformToByteArray());
      return body.length === bytes.length ? body : undefined;
    } catch {
      return undefined;
    }
  }, 20_000, `${key} to be delivered`);
}

/** The job note the S3 door writes beside a dropped file. */
async function jobNote(fileKey: string): Promise<Record<string, any>> {
  return waitFor(async () => {
    try {
      const object = await s3.send(new GetObjectCommand({ Bucket: staging, Key: `${fileKey}.upload-job.json` }));
      return JSON.parse(await object.Body!.transformToString()) as Record<string, any>;
    } catch {
      return undefined;
    }
  }, 10_000, `the job note of ${fileKey}`);
}

function destination(filename: string) {
  return { type: 's3', bucket: pipeline.deliveryBucket, filename, endpoint: pipeline.s3.endpoint, credentials: 'local-s3' };
}

beforeAll(async () => {
  state = await mkdtemp(join(tmpdir(), 'ud-doors-'));
  pipeline = await startLocalPipeline({ stateDirectory: state, maxAttempts: 2, retryBaseSeconds: 1, stagingSourcePrefixes: ['inbox/'] });
  const credentials = { accessKeyId: pipeline.s3.accessKeyId, secretAccessKey: pipeline.s3.secretAccessKey };
  s3 = new S3Client({ region: 'us-east-1', endpoint: pipeline.s3.endpoint, forcePathStyle: true, credentials });
  sqs = new SQSClient({ region: 'us-east-1', endpoint: pipeline.sqsEndpoint, credentials });
});

afterAll(async () => {
  s3.destroy();
  sqs.destroy();
  await pipeline.close();
  await rm(state, { recursive: true, force: true });
});

async function exists(key: string): Promise<boolean> {
  try {
    await s3.send(new HeadObjectCommand({ Bucket: staging, Key: key }));
    return true;
  } catch {
    return false;
  }
}

describe('the S3 door', () => {
  it('delivers a file dropped with its manifest, whichever lands first, and notes the job beside it', async () => {
    // Act: the manifest first, then the file.
    await s3.send(
      new PutObjectCommand({
        Bucket: staging,
        Key: 'drop/team a/clip.mp4.upload.json',
        Body: JSON.stringify({ upload: { destination: destination('dropped/clip.mp4') } }),
      }),
    );
    await s3.send(new PutObjectCommand({ Bucket: staging, Key: 'drop/team a/clip.mp4', Body: bytes }));

    // Assess
    expect(sha256(await delivered('dropped/clip.mp4'))).toBe(sha256(bytes));
    const note = await jobNote('drop/team a/clip.mp4');
    expect(note.token).toMatch(/^s3-/);
    expect((await settled(note.token)).state).toBe('succeeded');
    const puts = pipeline.s3.requests.filter((entry) => entry.method === 'PUT' && entry.path === '/deliveries/dropped/clip.mp4');
    expect(puts).toHaveLength(1);
  });

  it('deletes an accepted manifest, whose inline credentials must not stay in clear', async () => {
    const manifest = {
      upload: {
        destination: {
          type: 's3',
          bucket: pipeline.deliveryBucket,
          filename: 'dropped/inline.mp4',
          endpoint: pipeline.s3.endpoint,
          aws_access_key_id: pipeline.s3.accessKeyId,
          aws_secret_access_key: pipeline.s3.secretAccessKey,
        },
      },
    };
    await s3.send(new PutObjectCommand({ Bucket: staging, Key: 'drop/inline.mp4', Body: bytes }));
    await s3.send(new PutObjectCommand({ Bucket: staging, Key: 'drop/inline.mp4.upload.json', Body: JSON.stringify(manifest) }));

    expect(sha256(await delivered('dropped/inline.mp4'))).toBe(sha256(bytes));
    await waitFor(async () => ((await exists('drop/inline.mp4.upload.json')) ? undefined : true), 10_000, 'the manifest to go');
  });

  it('rejects a manifest larger than a request may be, without reading it', async () => {
    await s3.send(new PutObjectCommand({ Bucket: staging, Key: 'drop/huge.mp4', Body: bytes }));
    await s3.send(new PutObjectCommand({ Bucket: staging, Key: 'drop/huge.mp4.upload.json', Body: `{"pad":"${'x'.repeat(70_000)}"}` }));

    const note = await jobNote('drop/huge.mp4');
    expect(note.state).toBe('rejected');
    expect(note.errors[0].message).toContain('the manifest must be at most 65536 bytes');
  });

  it('records a rejected job, with the reason, for a bad manifest', async () => {
    await s3.send(new PutObjectCommand({ Bucket: staging, Key: 'drop/bad.mp4', Body: bytes }));
    await s3.send(
      new PutObjectCommand({
        Bucket: staging,
        Key: 'drop/bad.mp4.upload.json',
        Body: JSON.stringify({ upload: { destination: { type: 's3', bucket: pipeline.deliveryBucket } } }),
      }),
    );

    const note = await jobNote('drop/bad.mp4');
    expect(note.state).toBe('rejected');
    expect(note.errors.map((error: { path: string }) => error.path)).toContain('upload.destination.filename');
  });

  it('starts a presigned-upload job when its file lands', async () => {
    const answer = await fetch(`${pipeline.apiUrl}/v1/uploads`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        source: { presigned: { filename: 'take 2.mp4', content_type: 'video/mp4' } },
        upload: { destination: destination('presigned/') },
      }),
    });
    const accepted = (await answer.json()) as Record<string, any>;
    expect(answer.status).toBe(202);
    expect(accepted).toMatchObject({ upload_method: 'PUT', upload_headers: { 'content-type': 'video/mp4' } });
    expect((await job(accepted.token)).state).toBe('awaiting_source');

    const put = await fetch(accepted.upload_url, { method: 'PUT', headers: accepted.upload_headers, body: bytes });

    expect(put.status).toBe(200);
    expect(sha256(await delivered('presigned/take 2.mp4'))).toBe(sha256(bytes));
    expect((await settled(accepted.token)).state).toBe('succeeded');
  });
});

describe('the SQS inbox door', () => {
  it('delivers the request an inbox message carries', async () => {
    await s3.send(new PutObjectCommand({ Bucket: staging, Key: 'inbox/source.mp4', Body: bytes }));

    const { MessageId } = await sqs.send(
      new SendMessageCommand({
        QueueUrl: pipeline.inboxQueueUrl,
        MessageBody: JSON.stringify({ source: { bucket: staging, key: 'inbox/source.mp4' }, upload: { destination: destination('from-inbox.mp4') } }),
      }),
    );

    expect(sha256(await delivered('from-inbox.mp4'))).toBe(sha256(bytes));
    expect((await settled(`inbox-${MessageId}`)).state).toBe('succeeded');
  });

  it('turns an invalid message into a rejected job with the reason, and does not retry it', async () => {
    const { MessageId } = await sqs.send(
      new SendMessageCommand({ QueueUrl: pipeline.inboxQueueUrl, MessageBody: JSON.stringify({ source: { url: 'nope' }, upload: {} }) }),
    );

    const view = await settled(`inbox-${MessageId}`);

    expect(view.state).toBe('rejected');
    expect(view.errors).toEqual(
      expect.arrayContaining([
        { path: 'source.url', message: 'must be an http:// or https:// URL' },
        { path: 'upload.destination', message: 'give exactly one of destination or destinations' },
      ]),
    );
    const inDeadLetter = await sqs.send(new ReceiveMessageCommand({ QueueUrl: pipeline.inboxDeadLetterQueueUrl, WaitTimeSeconds: 1 }));
    expect(inDeadLetter.Messages ?? []).toHaveLength(0);
  });

  it('rejects a message that is not JSON', async () => {
    const { MessageId } = await sqs.send(new SendMessageCommand({ QueueUrl: pipeline.inboxQueueUrl, MessageBody: 'deliver please' }));

    const view = await settled(`inbox-${MessageId}`);

    expect(view).toMatchObject({ state: 'rejected', errors: [{ path: '', message: 'the message body is not valid JSON' }] });
  });
});
