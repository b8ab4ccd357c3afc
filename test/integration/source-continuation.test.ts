import { crc32 } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
