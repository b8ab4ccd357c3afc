import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { crc32Base64, crc32Combine } from '../../../shared/delivery/checksum.ts';
import { type ChecksumAlgorithm, digestOf, receiveBody, S3Error } from './s3-body.ts';
import { listenOnLoopback } from './tls.ts';
import { UploadClock } from './upload-clock.ts';

/**
 * A loopback server that speaks enough S3 (path-style) for every client in the bench to upload
 * correctly, and throws the bytes away: PutObject, the multipart calls, HeadObject, and the bucket
 * calls clients make on their way (HeadBucket, CreateBucket, ListBuckets, GetBucketLocation).
 * It checks what S3 checks cheaply (lengths, part order, part sizes, ETags in the completion) and,
 * in verification runs, every digest the client sent and the CRC32 of the whole object.
 */

const minimumPartSize = 5 * 1024 * 1024;

/** What the sink remembers of an uploaded object (never its bytes). */
export interface SunkObject {
  readonly size: number;
  readonly etag: string;
  readonly lastModified: Date;
  readonly headers: Readonly<Record<string, string>>;
  readonly parts: number;
  /** Size of the first part (the client's part size); the object size for a single PUT. */
  readonly partSize: number;
  /** How the client protected the bytes, over all its requests. */
  readonly integrity: readonly string[];
  /** CRC32 of the whole object, in verification runs only. */
  readonly crc32: number | undefined;
}

interface Part {
  readonly size: number;
  readonly etag: string;
  readonly checksums: ReadonlyMap<ChecksumAlgorithm, string>;
  /** In verification runs only. */
  readonly crc32: number | undefined;
}

interface MultipartUpload {
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly checksumAlgorithm: ChecksumAlgorithm | undefined;
  readonly checksumType: string | undefined;
  readonly parts: Map<number, Part>;
  readonly integrity: Set<string>;
}

export interface S3SinkOptions {
  readonly tls?: { readonly key: Buffer; readonly cert: Buffer };
}

export interface S3Sink {
  readonly endpoint: string;
  readonly clock: UploadClock;
  /** When true, bodies are kept and every digest is checked (small uploads only). */
  verify: boolean;
  object(bucket: string, key: string): SunkObject | undefined;
  /** Forgets an object and its timing, so long runs do not accumulate state. */
  forget(bucket: string, key: string): void;
  close(): Promise<void>;
}

const storedHeaderNames = ['content-type', 'cache-control', 'content-disposition', 'content-encoding', 'content-language', 'expires'];

function objectHeaders(request: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (typeof value !== 'string') continue;
    if (name.startsWith('x-amz-meta-') || storedHeaderNames.includes(name)) headers[name] = value;
  }
  // aws-chunked is a transfer framing, not how the object is stored.
  if (headers['content-encoding']) {
    const rest = headers['content-encoding'].split(',').map((part) => part.trim()).filter((part) => part !== 'aws-chunked');
    if (rest.length > 0) headers['content-encoding'] = rest.join(', ');
    else delete headers['content-encoding'];
  }
  return headers;
}

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (character) => `&#${character.charCodeAt(0)};`);
}

/** Clients escape the ETag's quotes differently (`&quot;`, `&#34;`, none at all). */
function unescapeXml(text: string): string {
  const named: Record<string, string> = { quot: '"', apos: "'", lt: '<', gt: '>', amp: '&' };
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (entity, name: string) => {
    if (name.startsWith('#x') || name.startsWith('#X')) return String.fromCodePoint(Number.parseInt(name.slice(2), 16));
    if (name.startsWith('#')) return String.fromCodePoint(Number(name.slice(1)));
    return named[name] ?? entity;
  });
}

function sendXml(response: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  const payload = `<?xml version="1.0" encoding="UTF-8"?>\n${body}`;
  response.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(payload), ...headers });
  response.end(payload);
}

function sendError(response: ServerResponse, error: S3Error, resource: string): void {
  if (response.headersSent) {
    response.destroy();
    return;
  }
  sendXml(
    response,
    error.status,
    `<Error><Code>${error.code}</Code><Message>${escapeXml(error.message)}</Message><Resource>${escapeXml(resource)}</Resource><RequestId>bench</RequestId></Error>`,
  );
}

function checksumHeaders(checksums: ReadonlyMap<ChecksumAlgorithm, string>): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [algorithm, value] of checksums) headers[`x-amz-checksum-${algorithm}`] = value;
  return headers;
}

function multipartEtag(parts: readonly Part[]): string {
  const hash = createHash('md5');
  for (const part of parts) hash.update(Buffer.from(part.etag, 'hex'));
  return `${hash.digest('hex')}-${parts.length}`;
}

/** A stand-in ETag when the client sent no Content-MD5: unique, and cheap (the bytes are not hashed). */
function syntheticEtag(seed: string): string {
  return createHash('md5').update(seed).digest('hex');
}

export async function startS3Sink(options: S3SinkOptions = {}): Promise<S3Sink> {
  const objects = new Map<string, SunkObject>();
  const uploads = new Map<string, MultipartUpload>();
  const clock = new UploadClock();
  let counter = 0;
  const sink = {
    verify: false,
  };

  async function putObject(request: IncomingMessage, response: ServerResponse, path: string): Promise<void> {
    const body = await receiveBody(request, { keep: false, verify: sink.verify });
    const etag = body.md5Hex ?? syntheticEtag(`${path}:${(counter += 1)}`);
    objects.set(path, {
      size: body.bytes,
      etag,
      lastModified: new Date(),
      headers: objectHeaders(request),
      parts: 1,
      partSize: body.bytes,
      integrity: body.integrity,
      crc32: body.crc32,
    });
    response.writeHead(200, { etag: `"${etag}"`, ...checksumHeaders(body.checksums) });
    response.end();
  }

  function createUpload(request: IncomingMessage, response: ServerResponse, bucket: string, key: string, path: string): void {
    const uploadId = randomBytes(16).toString('hex');
    const algorithm = request.headers['x-amz-checksum-algorithm'];
    const checksumAlgorithm = typeof algorithm === 'string' ? (algorithm.toLowerCase() as ChecksumAlgorithm) : undefined;
    const checksumType = request.headers['x-amz-checksum-type'];
    uploads.set(uploadId, {
      path,
      headers: objectHeaders(request),
      checksumAlgorithm,
      checksumType: typeof checksumType === 'string' ? checksumType.toUpperCase() : undefined,
      parts: new Map(),
      integrity: new Set(),
    });
    request.resume();
    const headers: Record<string, string> = {};
    if (checksumAlgorithm) headers['x-amz-checksum-algorithm'] = checksumAlgorithm.toUpperCase();
    if (typeof checksumType === 'string') headers['x-amz-checksum-type'] = checksumType.toUpperCase();
    sendXml(
      response,
      200,
      `<InitiateMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Bucket>${escapeXml(bucket)}</Bucket><Key>${escapeXml(key)}</Key><UploadId>${uploadId}</UploadId></InitiateMultipartUploadResult>`,
      headers,
    );
  }

  function uploadOf(uploadId: string, path: string): MultipartUpload {
    const upload = uploads.get(uploadId);
    if (!upload || upload.path !== path) {
      throw new S3Error(404, 'NoSuchUpload', 'The specified multipart upload does not exist.');
    }
    return upload;
  }

  async function uploadPart(request: IncomingMessage, response: ServerResponse, path: string, uploadId: string, partNumber: number): Promise<void> {
    const upload = uploadOf(uploadId, path);
    if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > 10_000) {
      throw new S3Error(400, 'InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive.');
    }
    const body = await receiveBody(request, { keep: false, verify: sink.verify });
    const etag = body.md5Hex ?? syntheticEtag(`${uploadId}:${partNumber}:${(counter += 1)}`);
    upload.parts.set(partNumber, { size: body.bytes, etag, checksums: body.checksums, crc32: body.crc32 });
    for (const item of body.integrity) upload.integrity.add(item);
    response.writeHead(200, { etag: `"${etag}"`, ...checksumHeaders(body.checksums) });
    response.end();
  }

  async function completeUpload(request: IncomingMessage, response: ServerResponse, bucket: string, key: string, path: string, uploadId: string): Promise<void> {
    const upload = uploadOf(uploadId, path);
    const body = await receiveBody(request, { keep: true, verify: false });
    const xml = body.data?.toString('utf8') ?? '';
    const listed = [...xml.matchAll(/<Part>([\s\S]*?)<\/Part>/g)].map((match) => {
      const inner = match[1] ?? '';
      return {
        number: Number(/<PartNumber>(\d+)<\/PartNumber>/.exec(inner)?.[1]),
        etag: unescapeXml(/<ETag>([\s\S]*?)<\/ETag>/.exec(inner)?.[1] ?? '').replaceAll('"', '').trim(),
      };
    });
    if (listed.length === 0) throw new S3Error(400, 'MalformedXML', 'The XML you provided lists no parts.');
    const parts: Part[] = [];
    let previous = 0;
    for (const item of listed) {
      if (item.number <= previous) throw new S3Error(400, 'InvalidPartOrder', 'The list of parts was not in ascending order.');
      previous = item.number;
      const part = upload.parts.get(item.number);
      if (!part || part.etag !== item.etag) throw new S3Error(400, 'InvalidPart', `Part ${item.number} was not uploaded or its ETag does not match.`);
      parts.push(part);
    }
    parts.forEach((part, index) => {
      if (index < parts.length - 1 && part.size < minimumPartSize) {
        throw new S3Error(400, 'EntityTooSmall', `Part ${index + 1} is ${part.size} bytes, below the 5 MiB minimum.`);
      }
    });

    // The whole object's CRC from the parts' (verification runs, where every part has one).
    let wholeCrc: number | undefined = 0;
    for (const part of parts) wholeCrc = part.crc32 === undefined || wholeCrc === undefined ? undefined : crc32Combine(wholeCrc, part.crc32, part.size);
    const headers: Record<string, string> = {};
    let checksumXml = '';
    const algorithm = upload.checksumAlgorithm;
    if (algorithm) {
      const fullObject = request.headers[`x-amz-checksum-${algorithm}`];
      if (typeof fullObject === 'string') {
        // A full-object checksum the client computed itself: check it when the bytes are at hand.
        if (wholeCrc !== undefined && algorithm === 'crc32' && fullObject !== crc32Base64(wholeCrc)) {
          throw new S3Error(400, 'BadDigest', 'The full-object CRC32 you specified did not match the calculated checksum.');
        }
        checksumXml = `<Checksum${algorithm.toUpperCase()}>${fullObject}</Checksum${algorithm.toUpperCase()}><ChecksumType>FULL_OBJECT</ChecksumType>`;
      } else {
        const raw = parts.map((part) => Buffer.from(part.checksums.get(algorithm) ?? '', 'base64'));
        const composite = digestOf(algorithm, Buffer.concat(raw));
        if (composite !== undefined) {
          checksumXml = `<Checksum${algorithm.toUpperCase()}>${composite}-${parts.length}</Checksum${algorithm.toUpperCase()}><ChecksumType>COMPOSITE</ChecksumType>`;
        }
      }
    }
    const etag = multipartEtag(parts);
    uploads.delete(uploadId);
    objects.set(path, {
      size: parts.reduce((sum, part) => sum + part.size, 0),
      etag,
      lastModified: new Date(),
      headers: upload.headers,
      parts: parts.length,
      partSize: parts[0]?.size ?? 0,
      integrity: [...upload.integrity],
      crc32: wholeCrc,
    });
    sendXml(
      response,
      200,
      `<CompleteMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Location>${escapeXml(`${endpoint}${path}`)}</Location><Bucket>${escapeXml(bucket)}</Bucket><Key>${escapeXml(key)}</Key><ETag>"${etag}"</ETag>${checksumXml}</CompleteMultipartUploadResult>`,
      headers,
    );
  }

  function headObject(response: ServerResponse, path: string): void {
    const object = objects.get(path);
    if (!object) {
      response.writeHead(404);
      response.end();
      return;
    }
    response.writeHead(200, {
      'content-length': object.size,
      etag: `"${object.etag}"`,
      'last-modified': object.lastModified.toUTCString(),
      'accept-ranges': 'bytes',
      ...object.headers,
    });
    response.end();
  }

  async function route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://sink');
    const segments = url.pathname.split('/');
    const bucket = decodeURIComponent(segments[1] ?? '');
    const key = segments.slice(2).map(decodeURIComponent).join('/');
    const path = `/${bucket}/${key}`;
    const query = url.searchParams;
    const uploadId = query.get('uploadId');
    const method = request.method ?? 'GET';

    if (!bucket) {
      request.resume();
      if (method !== 'GET') throw new S3Error(405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.');
      sendXml(response, 200, '<ListAllMyBucketsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Owner><ID>bench</ID><DisplayName>bench</DisplayName></Owner><Buckets></Buckets></ListAllMyBucketsResult>');
      return;
    }
    if (!key) {
      request.resume();
      if (method === 'GET' && query.has('location')) {
        sendXml(response, 200, '<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/"></LocationConstraint>');
      } else if (method === 'GET') {
        sendXml(response, 200, `<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>${escapeXml(bucket)}</Name><Prefix></Prefix><KeyCount>0</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated></ListBucketResult>`);
      } else {
        // HeadBucket, CreateBucket (rclone creates the bucket unless told not to), DeleteBucket.
        response.writeHead(method === 'DELETE' ? 204 : 200);
        response.end();
      }
      return;
    }
    switch (method) {
      case 'PUT':
        if (request.headers['x-amz-copy-source']) throw new S3Error(501, 'NotImplemented', 'The sink does not copy objects.');
        if (uploadId !== null) return uploadPart(request, response, path, uploadId, Number(query.get('partNumber')));
        return putObject(request, response, path);
      case 'POST':
        if (query.has('uploads')) return createUpload(request, response, bucket, key, path);
        if (uploadId !== null) return completeUpload(request, response, bucket, key, path, uploadId);
        break;
      case 'DELETE':
        request.resume();
        if (uploadId !== null) {
          uploadOf(uploadId, path);
          uploads.delete(uploadId);
        } else {
          objects.delete(path);
        }
        response.writeHead(204);
        response.end();
        return;
      case 'HEAD':
        request.resume();
        return headObject(response, path);
      case 'GET':
        request.resume();
        // The bytes were discarded; an object that was stored still answers like S3 for its metadata.
        throw new S3Error(404, 'NoSuchKey', 'The sink discards object data; HEAD the object instead.');
    }
    request.resume();
    throw new S3Error(405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.');
  }

  const listener = clock.wrap((request, response) => {
    route(request, response).catch((error: unknown) => {
      const s3Error = error instanceof S3Error ? error : new S3Error(500, 'InternalError', String(error));
      sendError(response, s3Error, request.url ?? '/');
    });
  });
  const { server, endpoint } = await listenOnLoopback(listener, options.tls);

  return Object.assign(sink, {
    endpoint,
    clock,
    object: (bucket: string, key: string) => objects.get(`/${bucket}/${key}`),
    forget(bucket: string, key: string) {
      objects.delete(`/${bucket}/${key}`);
      clock.forget(`/${bucket}/${key}`);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}
