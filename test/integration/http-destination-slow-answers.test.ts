import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { httpDestination, httpDestinationSchema } from '../../functions/destinations/http/schema.ts';
import { httpUploader } from '../../functions/destinations/http/upload.ts';
import { PermanentError } from '../../shared/errors.ts';
import { attemptFailure, attemptUpload } from '../support/attempts.ts';
import { startTestUploadServer, type TestUploadServer } from '../support/servers/http-upload.ts';
import { patternBytes, sha256, sourceOf } from '../support/sources.ts';

const module = { definition: httpDestination, uploader: httpUploader };
/** Longer than the upload waits for `100 Continue` before it sends the body anyway (1 s). */
const slowBodyMs = 1500;

/** A request the slow server saw: its path and how many body bytes reached it. */
interface SeenRequest {
  readonly path: string;
  bodyBytes: number;
}

let uploads: TestUploadServer;
let slow: Server;
let slowUrl: string;
const seen: SeenRequest[] = [];
/** Answers by path: a status and headers sent at once (before any body), the answer's body ending only after {@link slowBodyMs}. */
const answers = new Map<string, { status: number; headers?: Record<string, string> }>();

/**
 * Answers as soon as the request's headers arrive, without `100 Continue`, and ends its answer's
 * (chunked) body only later, as a server that streams its pages does.
 */
function answerSlowly(request: IncomingMessage, response: ServerResponse): void {
  const path = new URL(request.url ?? '/', 'http://test').pathname;
  const record: SeenRequest = { path, bodyBytes: 0 };
  seen.push(record);
  request.on('data', (chunk: Buffer) => {
    record.bodyBytes += chunk.length;
  });
  const { status, headers } = answers.get(path) ?? { status: 200 };
  response.writeHead(status, { 'content-type': 'text/plain', ...headers });
  response.write('answer begins');
  setTimeout(() => response.end(' and ends'), slowBodyMs);
}

beforeAll(async () => {
  uploads = await startTestUploadServer();
  slow = createServer(answerSlowly);
  // Answer a request that expects 100-continue as any other: at once, the body unasked for.
  slow.on('checkContinue', answerSlowly);
  await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
  slowUrl = `http://127.0.0.1:${(slow.address() as AddressInfo).port}`;
});

afterAll(async () => {
  slow.closeAllConnections();
  await new Promise((resolve) => slow.close(resolve));
  await uploads.close();
});

beforeEach(() => {
  seen.length = 0;
  answers.clear();
  uploads.requests.length = 0;
  uploads.stored.clear();
});

describe('HTTP destination: a final answer that came before the body, whose own body ends later', () => {
  it('fails permanently on a success answered before the file was sent, though the answer ends after the wait for 100 Continue', async () => {
    const destination = httpDestinationSchema.parse({ type: 'http', url: `${slowUrl}/upload/eager`, filename: 'eager.bin' });

    const error = await attemptFailure(module, destination, sourceOf(patternBytes(10_000, 31)));

    expect(error).toBeInstanceOf(PermanentError);
    expect(error.code).toBe('AnsweredBeforeBody');
    expect(seen).toMatchObject([{ path: '/upload/eager', bodyBytes: 0 }]);
  });

  it('follows a 307 answered before the body, though the answer ends after the wait for 100 Continue', async () => {
    const bytes = patternBytes(10_000, 32);
    answers.set('/upload/moved', { status: 307, headers: { location: `${uploads.url}/upload/here` } });
    const destination = httpDestinationSchema.parse({ type: 'http', url: `${slowUrl}/upload/moved`, filename: 'moved.bin' });

    const delivered = await attemptUpload(module, destination, sourceOf(bytes));

    expect(uploads.stored.get('moved.bin')?.sha256).toBe(sha256(bytes));
    expect(delivered.details).toMatchObject({ redirects: 1 });
    expect(seen).toMatchObject([{ path: '/upload/moved', bodyBytes: 0 }]);
  });
});
