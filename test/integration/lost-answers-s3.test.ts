import type { Readable } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { s3Destination, s3DestinationSchema } from '../../functions/destinations/s3/schema.ts';
import { defaultMultipartSettings, type S3ResumeState } from '../../functions/destinations/s3/multipart.ts';
import { createS3Uploader } from '../../functions/destinations/s3/upload.ts';
import { StreamedPutRefusedError } from '../../functions/destinations/s3/errors.ts';
import { s3UploaderInParts } from '../support/s3-in-parts.ts';
import { startHttpFaultProxy, type HttpFaultProxy, type ProxiedExchange, type RequestHead } from '../support/fault-proxy/http-fault-proxy.ts';
import { startTestS3, type TestS3 } from '../support/local-s3.ts';
import { attemptFailure, attemptUpload } from '../support/attempts.ts';
import { MemoryResume, patternBytes, sha256, sourceOf } from '../support/sources.ts';
import { CreateMultipartUploadCommand, GetObjectCommand, ListMultipartUploadsCommand } from '@aws-sdk/client-s3';

const MiB = 1024 * 1024;
const module = { definition: s3Destination, uploader: s3UploaderInParts };
let server: TestS3;
let proxy: HttpFaultProxy;

beforeAll(async () => {
  server = await startTestS3(['deliveries']);
  proxy = await startHttpFaultProxy({ upstreamPort: Number(new URL(server.s3.endpoint).port) });
});

afterAll(async () => {
  await proxy.close();
  await server.close();
});

beforeEach(() => {
  proxy.rules.clear();
});

function destination(filename: string) {
  return s3DestinationSchema.parse({
    type: 's3',
    bucket: 'deliveries',
    filename,
    endpoint: proxy.url,
    aws_access_key_id: server.s3.accessKeyId,
    aws_secret_access_key: server.s3.secretAccessKey,
    acl: 'bucket-default',
  });
}

const isPutObject = (key: string) => (head: RequestHead) => head.method === 'PUT' && head.path === `/deliveries/${key}` && !head.query.has('uploadId');
const isComplete = (key: string) => (head: RequestHead) => head.method === 'POST' && head.path === `/deliveries/${key}` && head.query.has('uploadId');
const answered = (exchanges: ProxiedExchange[], match: (head: RequestHead) => boolean) => exchanges.filter((exchange) => match(exchange) && exchange.status === 200).length;

async function storedSha(key: string): Promise<string> {
  const object = await server.reader.send(new GetObjectCommand({ Bucket: 'deliveries', Key: key }));
  return sha256(Buffer.from(await object.Body!.transformToByteArray()));
}

describe('S3 destination, answers lost after the store did the work', () => {
  it('writes a single-request object once when the answer to its PutObject is lost: it looks, finds it, and does not send it again', async () => {
    // Prepare
    const bytes = patternBytes(300_000, 61);
    proxy.arm({ label: 'lost', match: isPutObject('lost-put.bin'), fault: { kind: 'lose-answer' } });

    // Act
    const delivered = await attemptUpload(module, destination('lost-put.bin'), sourceOf(bytes));

    // Assess
    expect(delivered.bytes).toBe(bytes.length);
    expect(answered(proxy.exchanges, isPutObject('lost-put.bin'))).toBe(1);
    expect(await storedSha('lost-put.bin')).toBe(sha256(bytes));
  });

  it('completes a multipart upload once when the answer to its completion is lost', async () => {
    const bytes = patternBytes(17 * MiB + 5, 62);
    proxy.arm({ label: 'lost', match: isComplete('lost-complete.bin'), fault: { kind: 'lose-answer' } });

    await attemptUpload(module, destination('lost-complete.bin'), sourceOf(bytes));

    expect(answered(proxy.exchanges, isComplete('lost-complete.bin'))).toBe(1);
    expect(await storedSha('lost-complete.bin')).toBe(sha256(bytes));
  });

  it('lets the next attempt find a single-request object an attempt cut off had made, instead of sending it again', async () => {
    // Over one part, under the switch: one PutObject streamed from the source.
    const bytes = patternBytes(12 * MiB + 3, 64);
    const resume = new MemoryResume<S3ResumeState>();
    proxy.arm({ label: 'silent', match: isPutObject('cut-off-put.bin'), fault: { kind: 'stall', direction: 'response', afterBytes: 0 } });
    const deadline = new AbortController();
    const watcher = setInterval(() => {
      if (proxy.exchanges.some((exchange) => isPutObject('cut-off-put.bin')(exchange) && exchange.status === 200)) deadline.abort(new Error('the function timed out'));
    }, 20);
    const firstAttempt = new Date();
    await attemptFailure(module, destination('cut-off-put.bin'), sourceOf(bytes), { resume, signal: deadline.signal }).finally(() => clearInterval(watcher));

    // A PutObject saves nothing before it goes: the next attempt knows only that one came before.
    expect(resume.saves).toBe(0);
    resume.earlierAttemptsSince = firstAttempt;
    const delivered = await attemptUpload(module, destination('cut-off-put.bin'), sourceOf(bytes), { resume });

    expect(delivered.details).toMatchObject({ parts: 1, resumed_at: bytes.length });
    expect(answered(proxy.exchanges, isPutObject('cut-off-put.bin'))).toBe(1);
    expect(await storedSha('cut-off-put.bin')).toBe(sha256(bytes));
  });

  it('lets the next attempt find the object an attempt cut off while completing had made, instead of uploading it again', async () => {
    // Prepare: the store completes the upload but its answer never comes; the attempt runs out of time.
    const bytes = patternBytes(17 * MiB + 5, 63);
    const resume = new MemoryResume<S3ResumeState>();
    proxy.arm({ label: 'silent', match: isComplete('cut-off.bin'), fault: { kind: 'stall', direction: 'response', afterBytes: 0 } });
    const deadline = new AbortController();
    const watcher = setInterval(() => {
      if (proxy.exchanges.some((exchange) => isComplete('cut-off.bin')(exchange) && exchange.status === 200)) deadline.abort(new Error('the function timed out'));
    }, 20);
    await attemptFailure(module, destination('cut-off.bin'), sourceOf(bytes), { resume, signal: deadline.signal }).finally(() => clearInterval(watcher));
    const before = proxy.exchanges.length;

    // Act
    const delivered = await attemptUpload(module, destination('cut-off.bin'), sourceOf(bytes), { resume });

    // Assess
    const since = proxy.exchanges.slice(before);
    // Held parts (the source offers no ranges) of 8 MiB.
    expect(delivered).toMatchObject({ bytes: bytes.length, details: { parts: 3, resumed_at: bytes.length } });
    expect(since.filter((exchange) => exchange.method === 'PUT' || exchange.method === 'POST')).toEqual([]);
    expect(answered(proxy.exchanges, isComplete('cut-off.bin'))).toBe(1);
    expect(await storedSha('cut-off.bin')).toBe(sha256(bytes));
  });

  it('aborts the multipart upload an attempt made but ended before saving its id, and no other upload', async () => {
    // Prepare: an upload of the same key begun before the attempts, and one of another key.
    const bytes = patternBytes(17 * MiB + 5, 65);
    const before = await server.reader.send(new CreateMultipartUploadCommand({ Bucket: 'deliveries', Key: 'crashed.bin' }));
    const other = await server.reader.send(new CreateMultipartUploadCommand({ Bucket: 'deliveries', Key: 'crashed.bin.other' }));
    await new Promise((resolve) => setTimeout(resolve, 1100));
    // The attempt ends (a crash, its deadline) between the upload's creation and the save of its id.
    const resume = new (class extends MemoryResume<S3ResumeState> {
      public override async save(state: S3ResumeState): Promise<void> {
        if (this.saves === 0 && this.earlierAttemptsSince === undefined) throw new Error('the function crashed');
        await super.save(state);
      }
    })();
    const firstAttempt = new Date();
    await attemptFailure(module, destination('crashed.bin'), sourceOf(bytes), { resume });
    const left = async () =>
      ((await server.reader.send(new ListMultipartUploadsCommand({ Bucket: 'deliveries', Prefix: 'crashed.bin' }))).Uploads ?? []).map((upload) => upload.UploadId);
    expect(await left()).toHaveLength(3);

    // Act
    resume.earlierAttemptsSince = firstAttempt;
    const delivered = await attemptUpload(module, destination('crashed.bin'), sourceOf(bytes), { resume });

    // Assess
    expect(delivered.bytes).toBe(bytes.length);
    expect(await storedSha('crashed.bin')).toBe(sha256(bytes));
    expect((await left()).sort()).toEqual([before.UploadId, other.UploadId].sort());
  });

  it("goes on and delivers when it may not list the bucket's multipart uploads, leaving the one it could not find to the lifecycle rule", async () => {
    const bytes = patternBytes(17 * MiB + 5, 66);
    const resume = new MemoryResume<S3ResumeState>();
    resume.earlierAttemptsSince = new Date();
    const isList = (head: RequestHead) => head.method === 'GET' && /^\/deliveries\/?$/.test(head.path) && head.query.has('uploads');
    const denied = '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>';
    proxy.arm({ label: 'denied', match: isList, fault: { kind: 'answer', status: 403, headers: { 'content-type': 'application/xml' }, body: denied } });

    const delivered = await attemptUpload(module, destination('not-listed.bin'), sourceOf(bytes), { resume });

    expect(delivered.bytes).toBe(bytes.length);
    expect(proxy.exchanges.filter((exchange) => isList(exchange) && exchange.status === 403)).toHaveLength(1);
    expect(await storedSha('not-listed.bin')).toBe(sha256(bytes));
  });
});

describe('S3 destination, one streamed PutObject (aws-chunked, a CRC-32 trailer)', () => {
  const isStreamedPut = (key: string) => (head: RequestHead) => isPutObject(key)(head) && /aws-chunked/.test(String(head.headers['content-encoding']));
  // Over one part, under the switch.
  const size = 12 * MiB + 3;

  it('writes the object once when the answer to its PutObject is lost: it looks, finds it, and does not send it again', async () => {
    const bytes = patternBytes(size, 67);
    proxy.arm({ label: 'lost', match: isStreamedPut('lost-stream.bin'), fault: { kind: 'lose-answer' } });

    const delivered = await attemptUpload({ definition: s3Destination, uploader: createS3Uploader() }, destination('lost-stream.bin'), sourceOf(bytes));

    expect(delivered.details).toMatchObject({ parts: 1 });
    expect(answered(proxy.exchanges, isStreamedPut('lost-stream.bin'))).toBe(1);
    expect(proxy.exchanges.filter(isPutObject('lost-stream.bin'))).toHaveLength(1);
    expect(await storedSha('lost-stream.bin')).toBe(sha256(bytes));
  });

  it('sends a retry in parts, which a further attempt would continue, when the first attempt was cut off mid-stream', async () => {
    // Prepare: the first attempt runs out of time with half the file sent (a slow link, a timeout).
    const bytes = patternBytes(size, 69);
    const uploader = createS3Uploader();
    const resume = new MemoryResume<S3ResumeState>();
    const first = sourceOf(bytes);
    const deadline = new AbortController();
    const watcher = setInterval(() => {
      if (first.position > size / 2) deadline.abort(new Error('the function timed out'));
    }, 5);
    const firstAttempt = new Date();
    await attemptFailure({ definition: s3Destination, uploader }, destination('cut-stream.bin'), first, { resume, signal: deadline.signal }).finally(() => clearInterval(watcher));

    // Act
    resume.earlierAttemptsSince = firstAttempt;
    const retried = await attemptUpload({ definition: s3Destination, uploader }, destination('cut-stream.bin'), sourceOf(bytes), { resume });

    // Assess
    expect(proxy.exchanges.filter(isStreamedPut('cut-stream.bin'))).toHaveLength(1);
    expect(retried.details).toMatchObject({ parts: 2 });
    expect(resume.state).toMatchObject({ uploadId: expect.any(String) });
    expect(await storedSha('cut-stream.bin')).toBe(sha256(bytes));
  });

  it('sends parts from the next attempt on when the store refuses the streamed PutObject, and at once for later deliveries to it', async () => {
    // Prepare: a store that speaks S3 but not SigV4 streaming.
    const uploader = createS3Uploader();
    const refused = '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NotImplemented</Code><Message>A header you provided implies functionality that is not implemented</Message></Error>';
    const notStreaming = (head: RequestHead) => head.method === 'PUT' && /aws-chunked/.test(String(head.headers['content-encoding']));
    proxy.arm({ label: 'no aws-chunked', match: notStreaming, times: Infinity, fault: { kind: 'answer', status: 501, headers: { 'content-type': 'application/xml' }, body: refused } });
    const bytes = patternBytes(size, 68);
    const resume = new MemoryResume<S3ResumeState>();

    // Act
    const first = await attemptFailure({ definition: s3Destination, uploader }, destination('refused-stream.bin'), sourceOf(bytes), { resume });
    resume.earlierAttemptsSince = new Date(Date.now() - 1000);
    const second = await attemptUpload({ definition: s3Destination, uploader }, destination('refused-stream.bin'), sourceOf(bytes), { resume });
    const later = await attemptUpload({ definition: s3Destination, uploader }, destination('later-stream.bin'), sourceOf(bytes));

    // Assess
    expect(first).toBeInstanceOf(StreamedPutRefusedError);
    expect(first.message).toContain('NotImplemented');
    expect(second.details).toMatchObject({ parts: 2 });
    expect(later.details).toMatchObject({ parts: 2 });
    expect(proxy.exchanges.filter(isStreamedPut('refused-stream.bin'))).toHaveLength(1);
    expect(proxy.exchanges.filter(isStreamedPut('later-stream.bin'))).toHaveLength(0);
    expect(await storedSha('refused-stream.bin')).toBe(sha256(bytes));
    expect(await storedSha('later-stream.bin')).toBe(sha256(bytes));
  });

  it('continues a broken upload of held parts in held parts on another function instance, which does not know the store refused aws-chunked', async () => {
    // Prepare: the store refused the streamed PutObject; the next attempt's held parts broke off.
    const refused = '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NotImplemented</Code><Message>A header you provided implies functionality that is not implemented</Message></Error>';
    const chunked = (head: RequestHead) => head.method === 'PUT' && /aws-chunked/.test(String(head.headers['content-encoding']));
    proxy.arm({ label: 'no aws-chunked', match: chunked, times: Infinity, fault: { kind: 'answer', status: 501, headers: { 'content-type': 'application/xml' }, body: refused } });
    const bytes = patternBytes(size, 72);
    const resume = new MemoryResume<S3ResumeState>();
    const instance = { definition: s3Destination, uploader: createS3Uploader() };
    await attemptFailure(instance, destination('held-again.bin'), sourceOf(bytes), { resume });
    resume.earlierAttemptsSince = new Date(Date.now() - 1000);
    await attemptFailure(instance, destination('held-again.bin'), sourceOf(bytes, { failsAt: size - MiB }), { resume });
    const begun = resume.state?.uploadId;
    proxy.exchanges.length = 0;

    // Act: a source that could be read in ranges, on an instance that never saw the refusal.
    const continued = await attemptUpload({ definition: s3Destination, uploader: createS3Uploader() }, destination('held-again.bin'), sourceOf(bytes, { ranges: true }), { resume });

    // Assess
    expect(begun).toEqual(expect.any(String));
    expect(proxy.exchanges.filter(chunked)).toHaveLength(0);
    expect(proxy.exchanges.filter((exchange) => exchange.query.has('uploadId')).every((exchange) => exchange.query.get('uploadId') === begun)).toBe(true);
    expect(continued.details).toMatchObject({ parts: 2 });
    expect(await storedSha('held-again.bin')).toBe(sha256(bytes));
  });
});

describe('S3 destination, parts read from the source by themselves', () => {
  it('reads a part again and sends it again when the store fails it, within the attempt', async () => {
    // Prepare: S3's own trouble (500) on the second part's first try.
    const part = defaultMultipartSettings.streamedPartSize;
    const bytes = patternBytes(3 * part + 99, 71);
    const reads: number[] = [];
    const internalError = '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>';
    proxy.arm({
      label: 'part 2 fails once',
      match: (head) => head.method === 'PUT' && head.query.get('partNumber') === '2',
      times: 1,
      fault: { kind: 'answer', status: 500, headers: { 'content-type': 'application/xml' }, body: internalError },
    });
    proxy.exchanges.length = 0;
    const readsOfPart2: Readable[] = [];
    const letGoBeforeReadAgain: boolean[] = [];
    const opened = (offset: number, stream: Readable): void => {
      if (offset !== part) return;
      letGoBeforeReadAgain.push(...readsOfPart2.map((read) => read.destroyed));
      readsOfPart2.push(stream);
    };

    // Act
    const delivered = await attemptUpload(module, destination('part-again.bin'), sourceOf(bytes, { ranges: true, reads, opened }));

    // Assess: part 2 went twice, the rest once; nothing read twice but what part 2's failed try took.
    const partPuts = proxy.exchanges.filter((exchange) => exchange.method === 'PUT' && exchange.query.has('partNumber')).map((exchange) => exchange.query.get('partNumber'));
    expect(partPuts.sort()).toEqual(['1', '2', '2', '3', '4']);
    expect(delivered.details).toMatchObject({ parts: 4 });
    expect(reads.reduce((sum, length) => sum + length, 0)).toBeGreaterThanOrEqual(bytes.length);
    expect(reads.reduce((sum, length) => sum + length, 0)).toBeLessThanOrEqual(bytes.length + part);
    expect(letGoBeforeReadAgain).toEqual([true]);
    expect(await storedSha('part-again.bin')).toBe(sha256(bytes));
  });
});
