import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpDestination, httpDestinationSchema } from '../../functions/destinations/http/schema.ts';
import { httpUploader } from '../../functions/destinations/http/upload.ts';
import { HttpAnswerError } from '../../functions/destinations/http/errors.ts';
import { PermanentError, TransientError } from '../../shared/errors.ts';
import { attemptFailure, attemptUpload } from '../support/attempts.ts';
import { startHttpFaultProxy, type HttpFaultProxy } from '../support/fault-proxy/http-fault-proxy.ts';
import { startTestUploadServer, type TestUploadServer } from '../support/servers/http-upload.ts';
import { patternBytes, sha256, sourceOf } from '../support/sources.ts';

const module = { definition: httpDestination, uploader: httpUploader };
let server: TestUploadServer;
let proxy: HttpFaultProxy;

beforeAll(async () => {
  server = await startTestUploadServer({ idempotencyKeys: true });
  proxy = await startHttpFaultProxy({ upstreamPort: Number(new URL(server.url).port) });
});

afterAll(async () => {
  await proxy.close();
  await server.close();
});

/** Requests the server carried out (stored a file from), not those it answered as replays. */
const storedBy = (name: string) => server.requests.filter((request) => !request.replayed && request.status === 200 && request.files.some((file) => file.filename === name));

describe('HTTP destination, an answer lost after the server stored the file', () => {
  it('sends the same Idempotency-Key in every attempt of a delivery, so a server that honours it keeps one file', async () => {
    // Prepare
    const bytes = patternBytes(200_000, 91);
    const destination = httpDestinationSchema.parse({ type: 'http', url: `${proxy.url}/upload`, filename: 'once.bin' });
    proxy.arm({ label: 'lost', fault: { kind: 'lose-answer' } });

    // Act: the first attempt's answer is lost; the next attempt sends the file again.
    const failure = await attemptFailure(module, destination, sourceOf(bytes), { deliveryKey: 'delivery-1' });
    const delivered = await attemptUpload(module, destination, sourceOf(bytes), { deliveryKey: 'delivery-1' });

    // Assess
    expect(failure).toBeInstanceOf(TransientError);
    expect(delivered.details).toMatchObject({ status: 200 });
    expect(storedBy('once.bin')).toHaveLength(1);
    expect(server.requests.map((request) => request.headers['idempotency-key'])).toEqual(['"delivery-1"', '"delivery-1"']);
    expect(server.stored.get('once.bin')?.sha256).toBe(sha256(bytes));
  });

  it("leaves the caller's own Idempotency-Key as it is", async () => {
    const destination = httpDestinationSchema.parse({ type: 'http', url: `${proxy.url}/upload`, filename: 'theirs.bin', headers: { 'Idempotency-Key': 'their-key' } });

    await attemptUpload(module, destination, sourceOf(patternBytes(1000, 92)), { deliveryKey: 'delivery-2' });

    expect(server.requests.at(-1)?.headers['idempotency-key']).toBe('their-key');
  });

  it('takes a 409 to a request with its Idempotency-Key (an earlier attempt still in progress) as a reason to try again, and other 409s as final', () => {
    const inProgress = httpUploader.classify(new HttpAnswerError(409, 'POST http://uploads.example/upload', 'in progress', {}, true, true));
    const conflict = httpUploader.classify(new HttpAnswerError(409, 'PUT http://dav.example/a/b.mp4', 'no parent collection', {}, true, false));

    expect(inProgress).toBeInstanceOf(TransientError);
    expect(inProgress.message).toContain('still working on an earlier attempt of this upload');
    // Not the backoff's first seconds: long enough for the server to give the earlier request up.
    expect((inProgress as TransientError).retryAfterSeconds).toBe(30);
    expect(conflict).toBeInstanceOf(PermanentError);
  });
});
