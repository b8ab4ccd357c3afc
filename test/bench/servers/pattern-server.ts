import type { Server } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { patternStream } from '../input/pattern.ts';
import { listenOnLoopback } from './tls.ts';

/**
 * The bench's input served as a delivery's source URL: `GET /<size>` answers that many bytes of the
 * pattern, with `Accept-Ranges: bytes` and a strong ETag, so the uploader reads its parts by
 * themselves (bounded ranges, `If-Match`) as it reads an object of the staging bucket. It runs in
 * the bench's process, like the sink: an uploader reading it pays for its socket reads, as a
 * function pays for reading its source, and nothing else.
 */
export interface PatternServer {
  /** The source URL of a file of `size` bytes. */
  url(size: number): string;
  close(): Promise<void>;
}

const version = '"pattern"';

export async function startPatternServer(tls?: { key: Buffer; cert: Buffer }): Promise<PatternServer> {
  const { server, endpoint } = await listenOnLoopback((request, response) => {
    const size = Number(new URL(request.url ?? '/', 'http://pattern').pathname.slice(1));
    if (!Number.isSafeInteger(size) || size < 0) {
      response.writeHead(404).end();
      return;
    }
    const range = /^bytes=(\d+)-(\d*)$/.exec(request.headers.range ?? '');
    const start = range ? Number(range[1]) : 0;
    const end = range?.[2] ? Math.min(size, Number(range[2]) + 1) : size;
    if (request.headers['if-match'] !== undefined && request.headers['if-match'] !== version) {
      response.writeHead(412).end();
      return;
    }
    if (range && start >= size) {
      response.writeHead(416, { 'content-range': `bytes */${size}` }).end();
      return;
    }
    const headers = { 'content-length': String(end - start), 'accept-ranges': 'bytes', etag: version, 'content-type': 'application/octet-stream' };
    response.writeHead(range ? 206 : 200, range ? { ...headers, 'content-range': `bytes ${start}-${end - 1}/${size}` } : headers);
    // An uploader that has what it needs closes the connection early (the first answer's rest).
    pipeline(patternStream(end - start, start), response).catch(() => undefined);
  }, tls);
  return {
    url: (size) => `${endpoint}/${size}`,
    close: () =>
      new Promise<void>((resolve) => {
        (server as Server).close(() => resolve());
        (server as Server).closeAllConnections();
      }),
  };
}
