import { Agent, request as httpRequest, createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Readable } from 'node:stream';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { S3Event } from 'aws-lambda';
import { ChunkedBodyRefused, decodedHeaders, isAwsChunked, spoolAwsChunked } from './aws-chunked-spool.ts';
import { startServerThread } from './server-thread.ts';

/** One request as it reached the local S3, for tests that check what was sent. */
export interface RecordedS3Request {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
}

export interface LocalS3Options {
  /** Where objects are kept (s3rver stores them on disk). */
  readonly directory: string;
  readonly port?: number;
  readonly buckets?: readonly string[];
}

export interface LocalS3 {
  /** `http://127.0.0.1:PORT` */
  readonly endpoint: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** The account's canonical user ID, as ListBuckets and GetBucketAcl report it. */
  readonly canonicalUserId: string;
  readonly requests: RecordedS3Request[];
  /** Makes `bucket` behave like one with Object Ownership "bucket owner enforced" (ACLs disabled). */
  enforceBucketOwner(bucket: string): void;
  /** Calls `listener` with each S3 event notification (ObjectCreated:Put, :Post, :Copy, …), as S3 sends them. */
  onEvent(listener: (event: S3Event) => void): void;
  /** Open multipart uploads of `bucket`, as ListMultipartUploads reports them. */
  openUploads(bucket: string): Promise<string[]>;
  /** CPU time s3rver's thread has used so far, in ms (the front's runs on the caller's thread). */
  backendCpuMs(): Promise<number>;
  close(): Promise<void>;
}

const acceptedWhenAclsDisabled = new Set(['bucket-owner-full-control']);
const grantHeaders = ['x-amz-grant-full-control', 'x-amz-grant-read', 'x-amz-grant-read-acp', 'x-amz-grant-write-acp', 'x-amz-grant-write'];

/** A path segment decoded, or undefined when its escapes are broken. */
function safelyDecoded(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/** Text made safe inside an XML element. */
function xmlText(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

function s3ErrorXml(code: string, message: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`;
}

function answer(response: ServerResponse, status: number, xml: string): void {
  response.writeHead(status, { 'content-type': 'application/xml' });
  response.end(xml);
}

/**
 * s3rver behind a small front that fills the gaps the service depends on: AbortMultipartUpload,
 * ListMultipartUploads and ListParts (s3rver has none of them, and keeps no part checksums),
 * GetBucketAcl, tags sent with the upload
 * (`x-amz-tagging`, which s3rver ignores) and buckets with ACLs disabled, answered the way S3
 * answers them. Every request is recorded. Everything else is s3rver's own behaviour.
 */
export async function startLocalS3(options: LocalS3Options): Promise<LocalS3> {
  await mkdir(options.directory, { recursive: true });
  // Beside the store, not in it: s3rver takes every folder in its directory for a bucket.
  const spoolFolder = await mkdtemp(join(tmpdir(), 'local-s3-spool-'));
  const backend = await startServerThread({ kind: 's3rver', port: 0, directory: options.directory, buckets: options.buckets ?? [] });
  const backendAddress = { port: backend.port };
  // Where s3rver keeps a bucket's unfinished multipart uploads, one folder per upload ID.
  const uploadsOf = (bucket: string): string => join(options.directory, bucket, '._S3rver_uploads');
  const canonicalUserId = '123456789000';
  const requests: RecordedS3Request[] = [];
  const agent = new Agent({ keepAlive: true });
  const enforced = new Set<string>();
  /** upload ID or `bucket/key` → the tags to apply once the object exists */
  const pendingTags = new Map<string, string>();
  /** `uploadId#partNumber` → the CRC-32 the part was stored with, as ListParts reports it */
  const partChecksums = new Map<string, string>();

  /** What runs once s3rver has answered a request, before the answer goes back. */
  type Finished = (status: number, body: string, headers: IncomingHttpHeaders) => Promise<void>;

  /** Sends `incoming` on to s3rver with `headers` and `body`, answering with what it answers (after `onDone`). */
  const send = (
    incoming: IncomingMessage,
    headers: IncomingHttpHeaders,
    body: Readable,
    response: ServerResponse,
    onDone?: Finished,
    answerHeaders: IncomingHttpHeaders = {},
  ): void => {
    const upstream = httpRequest({ agent, host: '127.0.0.1', port: backendAddress.port, method: incoming.method, path: incoming.url, headers }, (backendResponse) => {
      if (backendResponse.statusCode === 200) Object.assign(backendResponse.headers, answerHeaders);
      if (!onDone) {
        response.writeHead(backendResponse.statusCode ?? 502, backendResponse.headers);
        backendResponse.pipe(response);
        return;
      }
      const chunks: Buffer[] = [];
      backendResponse.on('data', (chunk: Buffer) => chunks.push(chunk));
      backendResponse.on('end', () => {
        const answered = Buffer.concat(chunks);
        onDone(backendResponse.statusCode ?? 502, answered.toString(), backendResponse.headers)
          .catch(() => undefined)
          .finally(() => {
            response.writeHead(backendResponse.statusCode ?? 502, backendResponse.headers);
            response.end(answered);
          });
      });
    });
    upstream.on('error', () => response.destroy());
    body.pipe(upstream);
  };

  /** s3rver does not decode aws-chunked bodies (it would store the framing): they are decoded and checked first. */
  const forward = (incoming: IncomingMessage, response: ServerResponse, onDone?: Finished): void => {
    if (!isAwsChunked(incoming.headers)) {
      send(incoming, incoming.headers, incoming, response, onDone);
      return;
    }
    spoolAwsChunked(incoming, spoolFolder).then(
      (spooled) => {
        response.once('close', () => void spooled.remove());
        // S3 answers with the checksum it checked: the uploader takes that as the body decoded.
        const echoed = spooled.crc32 === undefined ? {} : { 'x-amz-checksum-crc32': spooled.crc32 };
        send(incoming, decodedHeaders(incoming.headers, spooled.size), createReadStream(spooled.path), response, onDone, echoed);
      },
      (error: unknown) => {
        if (error instanceof ChunkedBodyRefused) answer(response, 400, s3ErrorXml(error.code, error.message));
        else response.destroy();
      },
    );
  };

  const putTags = async (bucket: string, key: string, tagging: string): Promise<void> => {
    const tags = [...new URLSearchParams(tagging)]
      .map(([name, value]) => `<Tag><Key>${name}</Key><Value>${value}</Value></Tag>`)
      .join('');
    await fetch(`http://127.0.0.1:${backendAddress.port}/${bucket}/${key}?tagging`, {
      method: 'PUT',
      body: `<Tagging><TagSet>${tags}</TagSet></Tagging>`,
    });
  };

  const server: Server = createServer((incoming, response) => {
    const url = new URL(incoming.url ?? '/', 'http://local');
    const [, bucket = '', ...keyParts] = url.pathname.split('/');
    const key = keyParts.map((part) => safelyDecoded(part) ?? part).join('/');
    const method = incoming.method ?? 'GET';
    const query = url.searchParams;
    requests.push({ method, path: url.pathname, query, headers: incoming.headers });

    // Names become paths on disk: none may climb out of the store's folder. The raw path is
    // checked, since URL parsing would resolve its dots before anyone saw them.
    const uploadId = query.get('uploadId');
    const rawSegments = (incoming.url ?? '/').split('?')[0]!.split('/').map((segment) => safelyDecoded(segment));
    if ((bucket !== '' && !/^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$/.test(bucket)) || rawSegments.some((segment) => segment === '..' || segment === '.' || segment === undefined)) {
      incoming.resume();
      answer(response, 400, s3ErrorXml('InvalidArgument', 'The bucket name or key is not allowed'));
      return;
    }
    if (uploadId !== null && !/^[A-Za-z0-9]{1,128}$/.test(uploadId)) {
      incoming.resume();
      answer(response, 404, s3ErrorXml('NoSuchUpload', 'The specified upload does not exist'));
      return;
    }

    const acl = incoming.headers['x-amz-acl'];
    const grants = grantHeaders.some((name) => name in incoming.headers);
    const writesObject = method === 'PUT' || (method === 'POST' && query.has('uploads'));
    if (writesObject && key && enforced.has(bucket) && (grants || (typeof acl === 'string' && !acceptedWhenAclsDisabled.has(acl)))) {
      incoming.resume();
      answer(response, 400, s3ErrorXml('AccessControlListNotSupported', 'The bucket does not allow ACLs'));
      return;
    }
    if (method === 'DELETE' && query.has('uploadId')) {
      rm(join(uploadsOf(bucket), query.get('uploadId') ?? ''), { recursive: true, force: true })
        .then(() => {
          response.writeHead(204);
          response.end();
        })
        .catch(() => answer(response, 500, s3ErrorXml('InternalError', 'abort failed')));
      return;
    }
    if (method === 'GET' && key && query.has('uploadId')) {
      listParts(bucket, key, query.get('uploadId') ?? '').then(
        (xml) => answer(response, xml ? 200 : 404, xml ?? s3ErrorXml('NoSuchUpload', 'The specified upload does not exist')),
        () => answer(response, 500, s3ErrorXml('InternalError', 'list failed')),
      );
      return;
    }
    if (method === 'PUT' && query.has('uploadId') && query.has('partNumber')) {
      // The part's CRC-32 came in a header, or in an aws-chunked trailer (echoed in the answer).
      forward(incoming, response, async (status, _body, headers) => {
        const partCrc = incoming.headers['x-amz-checksum-crc32'] ?? headers['x-amz-checksum-crc32'];
        if (status === 200 && typeof partCrc === 'string') partChecksums.set(`${query.get('uploadId')}#${query.get('partNumber')}`, partCrc);
      });
      return;
    }
    if (method === 'GET' && !key && query.has('uploads')) {
      listUploads(bucket, query.get('prefix') ?? '').then(
        (xml) => answer(response, 200, xml),
        () => answer(response, 500, s3ErrorXml('InternalError', 'list failed')),
      );
      return;
    }
    if (method === 'GET' && !key && query.has('acl')) {
      answer(
        response,
        200,
        `<?xml version="1.0" encoding="UTF-8"?>\n<AccessControlPolicy><Owner><ID>${canonicalUserId}</ID><DisplayName>S3rver</DisplayName></Owner><AccessControlList/></AccessControlPolicy>`,
      );
      return;
    }
    const tagging = incoming.headers['x-amz-tagging'];
    if (typeof tagging === 'string' && key && method === 'PUT' && !query.has('uploadId')) {
      forward(incoming, response, async (status) => {
        if (status === 200) await putTags(bucket, key, tagging);
      });
      return;
    }
    if (typeof tagging === 'string' && key && method === 'POST' && query.has('uploads')) {
      forward(incoming, response, async (status, body) => {
        const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(body)?.[1];
        if (status === 200 && uploadId) pendingTags.set(uploadId, tagging);
      });
      return;
    }
    const completing = method === 'POST' && query.has('uploadId') ? pendingTags.get(query.get('uploadId') ?? '') : undefined;
    if (completing !== undefined) {
      forward(incoming, response, async (status) => {
        pendingTags.delete(query.get('uploadId') ?? '');
        if (status === 200) await putTags(bucket, key, completing);
      });
      return;
    }
    forward(incoming, response);
  });

  async function openUploads(bucket: string): Promise<string[]> {
    return readdir(uploadsOf(bucket)).catch(() => []);
  }

  /** ListMultipartUploads, in one page, from s3rver's upload folders (each holds its key, and its key file's time is when it began). */
  async function listUploads(bucket: string, prefix: string): Promise<string> {
    const folder = uploadsOf(bucket);
    const uploads = await Promise.all(
      (await openUploads(bucket)).map(async (uploadId) => {
        const keyFile = join(folder, uploadId, 'key');
        // One aborted, completed or still being made as the folder is read is not listed.
        const found = await Promise.all([readFile(keyFile, 'utf8'), stat(keyFile)]).catch(() => undefined);
        return found && { uploadId, uploadKey: found[0], initiated: found[1].mtime };
      }),
    );
    const items = uploads
      .filter((upload) => upload !== undefined)
      .filter(({ uploadKey }) => uploadKey.startsWith(prefix))
      .map(({ uploadId, uploadKey, initiated }) => `<Upload><Key>${xmlText(uploadKey)}</Key><UploadId>${uploadId}</UploadId><Initiated>${initiated.toISOString()}</Initiated></Upload>`)
      .join('');
    return `<?xml version="1.0" encoding="UTF-8"?>\n<ListMultipartUploadsResult><Bucket>${bucket}</Bucket><Prefix>${xmlText(prefix)}</Prefix><IsTruncated>false</IsTruncated>${items}</ListMultipartUploadsResult>`;
  }

  /** ListParts from s3rver's part files (`<uploads>/<id>/<number>` and its `.md5`), undefined for no such upload. */
  async function listParts(bucket: string, key: string, uploadId: string): Promise<string | undefined> {
    const folder = join(uploadsOf(bucket), uploadId);
    const files = await readdir(folder).catch(() => undefined);
    if (!files) return undefined;
    const numbers = files.filter((file) => /^\d+$/.test(file)).map(Number).sort((a, b) => a - b);
    const parts = await Promise.all(
      numbers.map(async (number) => {
        const { size } = await stat(join(folder, String(number)));
        const md5 = await readFile(join(folder, `${number}.md5`), 'utf8').catch(() => '');
        const crc = partChecksums.get(`${uploadId}#${number}`);
        return `<Part><PartNumber>${number}</PartNumber><ETag>"${md5.trim()}"</ETag><Size>${size}</Size>${crc ? `<ChecksumCRC32>${crc}</ChecksumCRC32>` : ''}</Part>`;
      }),
    );
    return `<?xml version="1.0" encoding="UTF-8"?>\n<ListPartsResult><Bucket>${bucket}</Bucket><Key>${key}</Key><UploadId>${uploadId}</UploadId><IsTruncated>false</IsTruncated>${parts.join('')}</ListPartsResult>`;
  }

  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
    canonicalUserId,
    requests,
    enforceBucketOwner: (bucket) => enforced.add(bucket),
    onEvent: (listener) => {
      // s3rver sends keys as stored; S3 URL-encodes them in notifications (space as '+').
      backend.onEvent((notification) => {
        const event = notification as S3Event;
        for (const record of event.Records) {
          record.s3.object.key = encodeURIComponent(record.s3.object.key).replace(/%20/g, '+').replace(/%2F/g, '/');
        }
        listener(event);
      });
    },
    openUploads,
    backendCpuMs: () => backend.cpuMs(),
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      agent.destroy();
      await backend.stop();
      await rm(spoolFolder, { recursive: true, force: true });
    },
  };
}
