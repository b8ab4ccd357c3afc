import type { ServerResponse } from 'node:http';
import { crc32 } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { crc32Base64 } from '../../shared/delivery/checksum.ts';
import { TransientError } from '../../shared/errors.ts';
import { SourceReader } from '../../shared/sources/delivery-source.ts';
import { SourceOpener } from '../../shared/sources/source-opener.ts';
import { startTestServer, type TestServer } from '../support/http-servers.ts';
import { localNetwork } from '../support/network.ts';
import { patternBytes } from '../support/sources.ts';

const bytes = patternBytes(300_000, 51);
let server: TestServer;
const ranges: (string | undefined)[] = [];

beforeAll(async () => {
  // A server that streams the file without a length (chunked), honours `Range`, and answers a range
  // from the end as unsatisfiable, naming the file's size, as RFC 9110 has it.
  server = await startTestServer((request, response) => {
    ranges.push(request.headers.range);
    const from = Number(/^bytes=(\d+)-$/.exec(request.headers.range ?? '')?.[1] ?? 0);
    if (from >= bytes.length) {
      response.writeHead(416, { 'content-range': `bytes */${bytes.length}`, 'content-type': 'text/plain' }).end('Range Not Satisfiable');
      return;
    }
    const ranged = from > 0;
    response.writeHead(ranged ? 206 : 200, { etag: '"v1"', ...(ranged ? { 'content-range': `bytes ${from}-${bytes.length - 1}/*` } : {}) });
    response.end(bytes.subarray(from));
  });
});

afterAll(async () => {
  await server.close();
});

async function drain(stream: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return Buffer.concat(chunks);
}

describe('A source of unknown size, continued', () => {
  it('reads nothing, and sums the whole file, when the destination already has every byte (the source answers 416)', async () => {
    const sources = new SourceOpener(async () => Promise.reject(new Error('no bucket here')), localNetwork, { allowedSourceHosts: [] });
    const from = { url: `${server.url}/render.bin` };
    const signal = AbortSignal.timeout(10_000);
    const source = new SourceReader(await sources.open(from, undefined, signal), { reopen: (offset, bounds) => sources.open(from, undefined, signal, offset, bounds) });
    ranges.length = 0;

    const rest = await drain(await source.stream({ offset: bytes.length, crc32: crc32(bytes) }));

    expect(source.size).toBeUndefined();
    expect(ranges).toEqual([`bytes=${bytes.length}-`]);
    expect(rest.length).toBe(0);
    expect(source.checksum).toEqual({ algorithm: 'crc32', value: crc32Base64(crc32(bytes)), bytes: bytes.length });
    source.close();
  });

  it('starts its upload at the end of the file, not past it, when the destination already had the whole file', async () => {
    const sources = new SourceOpener(async () => Promise.reject(new Error('no bucket here')), localNetwork, { allowedSourceHosts: [] });
    const from = { url: `${server.url}/render.bin` };
    const signal = AbortSignal.timeout(10_000);
    const source = new SourceReader(await sources.open(from, undefined, signal), { reopen: (offset, bounds) => sources.open(from, undefined, signal, offset, bounds) });

    await source.readToEnd();

    // What the destination already had: the whole file, none of it sent by this attempt.
    expect(source.startOffset).toBe(bytes.length);
    expect(source.checksum).toEqual({ algorithm: 'crc32', value: crc32Base64(crc32(bytes)), bytes: bytes.length });
    source.close();
  });

  it('fails as transient, rather than joining two files, a source that changed between its first answer and the read it continues from', async () => {
    // Prepare: the file is replaced (a new ETag, other bytes) just after the attempt's first answer.
    const replaced = patternBytes(300_000, 52);
    const changing = await startTestServer((request, response) => {
      const from = Number(/^bytes=(\d+)-$/.exec(request.headers.range ?? '')?.[1] ?? 0);
      const [file, etag] = from > 0 ? [replaced, '"v2"'] : [bytes, '"v1"'];
      response.writeHead(from > 0 ? 206 : 200, { etag, ...(from > 0 ? { 'content-range': `bytes ${from}-${file.length - 1}/${file.length}` } : {}) });
      response.end(file.subarray(from));
    });
    const sources = new SourceOpener(async () => Promise.reject(new Error('no bucket here')), localNetwork, { allowedSourceHosts: [] });
    const from = { url: `${changing.url}/render.bin` };
    const signal = AbortSignal.timeout(10_000);
    const source = new SourceReader(await sources.open(from, undefined, signal), { reopen: (offset, bounds) => sources.open(from, undefined, signal, offset, bounds) });

    // Act
    const read = await source
      .stream({ offset: 100_000, crc32: crc32(bytes.subarray(0, 100_000)) })
      .then(drain)
      .catch((caught: unknown) => caught);

    // Assess
    source.close();
    await changing.close();
    expect(read).toBeInstanceOf(TransientError);
    expect((read as TransientError).code).toBe('SourceChanged');
  });
});

describe('A source that is not the same file when its read continues', () => {
  const first = patternBytes(300_000, 53);
  const offset = 100_000;

  /** Opens `url` as an attempt does, then continues it from `offset` as an upload whose destination vouches for the bytes before. */
  async function continueRead(url: string): Promise<{ source: SourceReader; read: unknown }> {
    const sources = new SourceOpener(async () => Promise.reject(new Error('no bucket here')), localNetwork, { allowedSourceHosts: [] });
    const from = { url: `${url}/render.bin` };
    const signal = AbortSignal.timeout(10_000);
    const source = new SourceReader(await sources.open(from, undefined, signal), { reopen: (at, bounds) => sources.open(from, undefined, signal, at, bounds) });
    const read = await source
      .stream({ offset, crc32: crc32(first.subarray(0, offset)) })
      .then(drain)
      .catch((caught: unknown) => caught);
    source.close();
    return { source, read };
  }

  /** A server whose first answer is `first` whole, and whose answer to a continued read is `continued`. */
  async function serving(continued: (response: ServerResponse) => void, headers: Record<string, string> = {}): Promise<TestServer> {
    const served = await startTestServer((request, response) => {
      if (request.headers.range === undefined) response.writeHead(200, { 'content-length': String(first.length), ...headers }).end(first);
      else continued(response);
    });
    onTestFinished(() => served.close());
    return served;
  }

  it('takes a weak ETag for no version: its Last-Modified names it, and a continued read of another one fails as transient', async () => {
    // Prepare: a weak ETag stays when the bytes change in a way the server deems equivalent.
    const other = patternBytes(300_000, 54);
    const served = await serving(
      (response) => {
        response.writeHead(206, { etag: 'W/"render"', 'last-modified': 'Tue, 03 Mar 2026 10:00:05 GMT', 'content-range': `bytes ${offset}-${other.length - 1}/${other.length}` });
        response.end(other.subarray(offset));
      },
      { etag: 'W/"render"', 'last-modified': 'Tue, 03 Mar 2026 10:00:00 GMT' },
    );

    // Act
    const { source, read } = await continueRead(served.url);

    // Assess
    expect(read).toBeInstanceOf(TransientError);
    expect(read).toMatchObject({ code: 'SourceChanged' });
    expect(source.version).toBe('Tue, 03 Mar 2026 10:00:00 GMT');
  });

  it('has no version when its only validator is a weak ETag', async () => {
    // Only its first answer is asked for.
    const served = await serving((response) => response.writeHead(500).end(), { etag: 'W/"render"' });
    const sources = new SourceOpener(async () => Promise.reject(new Error('no bucket here')), localNetwork, { allowedSourceHosts: [] });

    const opened = await sources.open({ url: `${served.url}/render.bin` }, undefined, AbortSignal.timeout(10_000));
    opened.stream.destroy();

    expect(opened).toMatchObject({ version: undefined, ranges: false });
  });

  it('fails as transient, a changed source, when a continued read is answered 416 naming a file shorter than where it continues', async () => {
    const served = await serving((response) => response.writeHead(416, { 'content-range': 'bytes */50000' }).end(), { etag: '"v1"' });

    const { read } = await continueRead(served.url);

    expect(read).toBeInstanceOf(TransientError);
    expect(read).toMatchObject({ code: 'SourceChanged' });
  });

  it.each([
    ['a range that starts past the one asked for', { 'content-range': `bytes 150000-299999/300000` }, 150_000],
    ['a range that starts before the one asked for', { 'content-range': `bytes 50000-299999/300000` }, 50_000],
    ['no Content-Range', {}, offset],
  ])('fails as transient when a continued read is answered 206 with %s', async (_case, headers, start) => {
    const served = await serving((response) => response.writeHead(206, { etag: '"v1"', ...headers }).end(first.subarray(start)), { etag: '"v1"' });

    const { read } = await continueRead(served.url);

    expect(read).toBeInstanceOf(TransientError);
    expect(read).toMatchObject({ code: 'SourceRangeIgnored' });
  });
});
