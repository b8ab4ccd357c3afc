import busboy from 'busboy';
import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A file the server took: from a form's file part (POST) or a raw body (PUT). */
export interface StoredUpload {
  /** The file (empty when the server keeps digests only). */
  readonly bytes: Buffer;
  readonly size: number;
  readonly sha256: string;
  readonly contentType: string;
  /** The form field it came in (POST), or undefined (PUT). */
  readonly field: string | undefined;
}

/** One request as the server saw it. */
export interface ReceivedRequest {
  readonly method: string;
  /** Path and query, as sent. */
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  /** Request body bytes that reached the server (0 when it answered before the body). */
  bodyBytes: number;
  /** Form fields (POST), in the order they came. */
  readonly fields: [string, string][];
  /** Form file parts (POST): field, file name, type, size and SHA-256. */
  readonly files: { field: string; filename: string; mimeType: string; size: number; sha256: string }[];
  /** The status answered; 'broken' when the body never arrived whole. */
  status: number | 'broken';
  /** Answered as an earlier request with its Idempotency-Key was: nothing stored. */
  replayed: boolean;
}

/** An answer the server gives instead of its usual one, for the next request to a path. */
export interface ScriptedAnswer {
  /** @default 200 */
  readonly status?: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  /**
   * Answer before the body: to `Expect: 100-continue` with this answer instead of `100 Continue`
   * (as servers do when they will not take the body). @default false: the body is read first
   */
  readonly early?: boolean;
  /** Send no `100 Continue` and read the body anyway, as a server that ignores Expect. @default false */
  readonly ignoresExpect?: boolean;
  /** Read the body, store nothing and drop the connection instead of answering (a crash). @default false */
  readonly drops?: boolean;
}

export interface TestUploadServerOptions {
  /** Basic credentials every request must carry; a wrong one is answered 401, before the body. */
  readonly user?: string;
  readonly password?: string;
  /** Keep each file's size and SHA-256 only, not its bytes: for runs that upload gigabytes. @default false */
  readonly digestsOnly?: boolean;
  /**
   * Honour `Idempotency-Key` (IETF httpapi draft): a request whose key an earlier request that was
   * answered carried gets that answer again, storing nothing; one whose key a request still being
   * received carries gets 409. @default false
   */
  readonly idempotencyKeys?: boolean;
}

/**
 * An upload endpoint on 127.0.0.1 that parses what it is sent as a real server would: forms with
 * busboy (the parser most Node servers use), raw PUT bodies as they come. A POST stores each file
 * part under its file name, a PUT its body under the path after `/upload/`; nothing is stored
 * unless its body arrived whole. It answers `Expect: 100-continue` as Node does (100, or at once
 * with a refusal), records every request, and answers as scripted per path.
 */
export interface TestUploadServer {
  readonly url: string;
  readonly requests: ReceivedRequest[];
  readonly stored: Map<string, StoredUpload>;
  /** Answers for the next requests to `path` (pathname), in turn; then the usual answer again. */
  script(path: string, ...answers: ScriptedAnswer[]): void;
  /** Requests whose body is still being received, once those just torn down have been noticed. */
  inProgress(): Promise<number>;
  close(): Promise<void>;
}

/** Takes a body's chunks in; gives the stored upload (its bytes kept or not) once it has ended. */
function collector(keepBytes: boolean): { add(chunk: Buffer): void; finish(contentType: string, field: string | undefined): StoredUpload } {
  const hash = createHash('sha256');
  const chunks: Buffer[] = [];
  let size = 0;
  return {
    add: (chunk) => {
      hash.update(chunk);
      size += chunk.length;
      if (keepBytes) chunks.push(chunk);
    },
    finish: (contentType, field) => ({ bytes: Buffer.concat(chunks), size, sha256: hash.digest('hex'), contentType, field }),
  };
}

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

export async function startTestUploadServer(options: TestUploadServerOptions = {}): Promise<TestUploadServer> {
  const requests: ReceivedRequest[] = [];
  const stored = new Map<string, StoredUpload>();
  const scripts = new Map<string, ScriptedAnswer[]>();
  let receiving = 0;
  /** Idempotency key → the answer given to the request that carried it (undefined while it is being received). */
  const answersByKey = new Map<string, { status: number; headers: Record<string, string>; body: string } | undefined>();

  const answer = (record: ReceivedRequest, response: ServerResponse, scripted: ScriptedAnswer | undefined, stored: string[], key?: string): void => {
    const status = scripted?.status ?? 200;
    record.status = status;
    const headers = { 'content-type': 'application/json', ...scripted?.headers };
    const body = scripted?.body ?? JSON.stringify({ stored });
    if (key !== undefined) answersByKey.set(key, { status, headers, body });
    response.writeHead(status, headers);
    response.end(body);
  };

  /**
   * Answers a request whose idempotency key was seen before, once its body has arrived (read and
   * dropped), as the earlier request was answered; false when the key is new.
   */
  const answeredBefore = (request: IncomingMessage, response: ServerResponse, record: ReceivedRequest, key: string | undefined, expectsContinue: boolean): boolean => {
    if (key === undefined || !answersByKey.has(key)) return false;
    const earlier = answersByKey.get(key);
    record.status = earlier?.status ?? 409;
    record.replayed = true;
    if (expectsContinue) response.writeContinue();
    request.resume();
    request.once('end', () => {
      if (earlier) response.writeHead(earlier.status, { ...earlier.headers, 'idempotent-replayed': 'true' }).end(earlier.body);
      else response.writeHead(409, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'a request with this Idempotency-Key is in progress' }));
    });
    return true;
  };

  /** The credentials check: a refusal echoes what it got, as careless servers do (the client must hide it). */
  const refusal = (request: IncomingMessage): ScriptedAnswer | undefined => {
    if (options.user === undefined) return undefined;
    if (request.headers.authorization === basic(options.user, options.password ?? '')) return undefined;
    return {
      status: 401,
      early: true,
      headers: { 'www-authenticate': 'Basic realm="uploads"' },
      body: JSON.stringify({ error: 'invalid credentials', received: request.headers.authorization ?? null }),
    };
  };

  const nextScripted = (request: IncomingMessage): ScriptedAnswer | undefined => {
    const path = new URL(request.url ?? '/', 'http://test').pathname;
    return scripts.get(path)?.shift();
  };

  const receive = (request: IncomingMessage, response: ServerResponse, record: ReceivedRequest, scripted: ScriptedAnswer | undefined, key: string | undefined): void => {
    receiving += 1;
    let done = false;
    if (key !== undefined) answersByKey.set(key, undefined);
    const finish = (names: string[] | undefined): void => {
      if (done) return;
      done = true;
      receiving -= 1;
      if (scripted?.drops === true || names === undefined) {
        // Nothing was kept: the key may be used again.
        if (key !== undefined) answersByKey.delete(key);
      }
      if (scripted?.drops === true) {
        record.status = 'broken';
        response.socket?.destroy();
        return;
      }
      if (names === undefined) {
        record.status = 'broken';
        if (!response.headersSent && !response.destroyed) response.writeHead(400).end('the body did not arrive whole');
        return;
      }
      answer(record, response, scripted, names, key);
    };
    const succeeds = scripted === undefined || ((scripted.status ?? 200) < 300 && scripted.drops !== true);
    request.on('close', () => {
      if (!request.complete) finish(undefined);
    });
    const type = request.headers['content-type'] ?? '';
    if (request.method === 'POST' && type.startsWith('multipart/form-data')) {
      const files: [string, StoredUpload][] = [];
      const form = busboy({ headers: request.headers, defParamCharset: 'utf8', preservePath: true });
      form.on('field', (name, value) => record.fields.push([name, value]));
      form.on('file', (field, stream, info) => {
        const body = collector(!options.digestsOnly);
        stream.on('data', (chunk: Buffer) => body.add(chunk));
        stream.on('end', () => {
          const filename = info.filename ?? '';
          const file = body.finish(info.mimeType, field);
          record.files.push({ field, filename, mimeType: info.mimeType, size: file.size, sha256: file.sha256 });
          files.push([filename, file]);
        });
      });
      form.on('error', () => finish(undefined));
      form.on('close', () => {
        if (succeeds) for (const [name, file] of files) stored.set(name, file);
        finish(files.map(([name]) => name));
      });
      request.pipe(form);
      return;
    }
    const body = collector(!options.digestsOnly);
    request.on('data', (chunk: Buffer) => body.add(chunk));
    request.on('end', () => {
      const name = decodeURIComponent(new URL(request.url ?? '/', 'http://test').pathname.replace(/^\/upload\//, ''));
      if (request.method === 'PUT' && succeeds) stored.set(name, body.finish(request.headers['content-type'] ?? '', undefined));
      finish(request.method === 'PUT' ? [name] : []);
    });
  };

  const recordOf = (request: IncomingMessage): ReceivedRequest => {
    const record: ReceivedRequest = { method: request.method ?? '', url: request.url ?? '', headers: request.headers, bodyBytes: 0, fields: [], files: [], status: 'broken', replayed: false };
    requests.push(record);
    // Counts whatever body reaches the server, read or not (after an early answer Node drains it).
    request.on('data', (chunk: Buffer) => {
      record.bodyBytes += chunk.length;
    });
    return record;
  };

  const handle = (request: IncomingMessage, response: ServerResponse, expectsContinue: boolean): void => {
    const record = recordOf(request);
    const key = options.idempotencyKeys ? (request.headers['idempotency-key'] as string | undefined) : undefined;
    if (answeredBefore(request, response, record, key, expectsContinue)) return;
    const scripted = refusal(request) ?? nextScripted(request);
    if (scripted?.early === true) {
      answer(record, response, scripted, []);
      return;
    }
    if (request.method === 'OPTIONS') {
      record.status = 204;
      response.writeHead(204, { allow: 'OPTIONS, POST, PUT' }).end();
      return;
    }
    if (expectsContinue && scripted?.ignoresExpect !== true) response.writeContinue();
    receive(request, response, record, scripted, key);
  };

  const server = createServer((request, response) => handle(request, response, false));
  // Without this listener Node answers every Expect with 100 Continue itself.
  server.on('checkContinue', (request, response) => handle(request, response, true));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    stored,
    script: (path, ...answers) => scripts.set(path, [...(scripts.get(path) ?? []), ...answers]),
    inProgress: async () => {
      // A body torn down by the client is noticed on the server's next turns of the event loop.
      for (let turn = 0; turn < 50 && receiving > 0; turn += 1) await new Promise((resolve) => setTimeout(resolve, 20));
      return receiving;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
