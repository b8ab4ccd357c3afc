import { PassThrough } from 'node:stream';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { crc32Base64 } from '../../shared/delivery/checksum.ts';
import { PermanentError, TransientError } from '../../shared/errors.ts';
import { SourceReader } from '../../shared/sources/delivery-source.ts';
import { patternBytes, sourceOf } from '../support/sources.ts';

async function drain(stream: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return Buffer.concat(chunks);
}

const crcOf = (bytes: Buffer): string => crc32Base64(crc32(bytes));
const bytes = patternBytes(1_000_003, 41);

describe('Class: SourceReader', () => {
  it('passes a stream on whole and sums it', async () => {
    const source = sourceOf(bytes);

    expect(await drain(await source.stream())).toEqual(bytes);
    expect(source.checksum).toEqual({ algorithm: 'crc32', value: crcOf(bytes), bytes: bytes.length });
  });

  it('cuts parts with their own CRC-32 and sums the whole from them', async () => {
    const source = sourceOf(bytes);
    const parts = [];

    for await (const part of source.parts(() => 300_000)) parts.push({ offset: part.offset, length: part.bytes.length, crc32: part.crc32, copy: Buffer.from(part.bytes) });

    expect(parts.map((part) => [part.offset, part.length])).toEqual([[0, 300_000], [300_000, 300_000], [600_000, 300_000], [900_000, 100_003]]);
    expect(parts.every((part) => part.crc32 === crcOf(part.copy))).toBe(true);
    expect(source.checksum?.value).toBe(crcOf(bytes));
  });

  it('continues from an offset the destination vouches for with a ranged read, summing the whole file', async () => {
    const reads: number[] = [];
    const source = sourceOf(bytes, { reads });

    const rest = await drain(await source.stream({ offset: 600_000, crc32: crc32(bytes.subarray(0, 600_000)) }));

    expect(rest).toEqual(bytes.subarray(600_000));
    expect(reads.reduce((sum, length) => sum + length, 0)).toBe(bytes.length - 600_000);
    expect(source.checksum?.value).toBe(crcOf(bytes));
  });

  it('asks the source for nothing when the destination already has every byte (a range from the end is unsatisfiable)', async () => {
    const reopened: number[] = [];
    const first = sourceOf(bytes);
    const source = new SourceReader(
      { stream: (await first.stream()) as never, startsAt: 0, size: bytes.length, contentType: undefined, name: 'a.bin', version: '"v1"' },
      {
        reopen: async (offset) => {
          reopened.push(offset);
          throw Object.assign(new Error('The requested range is not satisfiable'), { status: 416 });
        },
      },
    );

    const parts = [];
    for await (const part of source.parts(() => 300_000, { offset: bytes.length, crc32: crc32(bytes) })) parts.push(part);

    expect(parts).toEqual([]);
    expect(reopened).toEqual([]);
    expect(source.checksum).toEqual({ algorithm: 'crc32', value: crcOf(bytes), bytes: bytes.length });
  });

  it('reads and sums, without passing on, the bytes before an offset it cannot skip', async () => {
    const source = sourceOf(bytes, { ignoresRanges: true });

    const rest = await drain(await source.stream({ offset: 600_000, crc32: crc32(bytes.subarray(0, 600_000)) }));

    expect(rest).toEqual(bytes.subarray(600_000));
    expect(source.checksum?.value).toBe(crcOf(bytes));
  });

  it('reads the whole file for the checksum when the upload read none of it', async () => {
    const source = sourceOf(bytes);

    await source.readToEnd();

    expect(source.checksum?.value).toBe(crcOf(bytes));
  });

  it('fails a source that ends before its announced size, as transient', async () => {
    const error = await drain(await sourceOf(bytes, { size: bytes.length + 1 }).stream()).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(TransientError);
    expect((error as TransientError).code).toBe('SourceTruncated');
  });

  it('fails a source that sends more than it announced, as transient', async () => {
    const error = await drain(await sourceOf(bytes, { size: 1000 }).stream()).catch((caught: unknown) => caught);

    expect((error as TransientError).code).toBe('SourceTooLong');
  });

  it('refuses, before a byte is read, a source announced larger than allowed', () => {
    const body = { stream: new PassThrough(), startsAt: 0, size: 5000, contentType: undefined, name: 'a', version: undefined };

    expect(() => new SourceReader(body, { reopen: async () => body, maxBytes: 4999 })).toThrow(PermanentError);
  });

  it('fails for good, mid-stream, a source of unknown size that grows past the limit', async () => {
    const stream = new PassThrough();
    stream.end(bytes);
    const source = new SourceReader(
      { stream, startsAt: 0, size: undefined, contentType: undefined, name: 'a', version: undefined },
      { reopen: () => Promise.reject(new Error('no reopen')), maxBytes: 500_000 },
    );

    const error = await drain(await source.stream()).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(PermanentError);
    expect((error as PermanentError).code).toBe('SourceTooLarge');
  });

  it('fails a source that stops sending while the upload waits for it, as transient', async () => {
    const stream = new PassThrough();
    stream.write(bytes.subarray(0, 1000));
    const source = new SourceReader(
      { stream, startsAt: 0, size: bytes.length, contentType: undefined, name: 'a', version: undefined },
      { reopen: () => Promise.reject(new Error('no reopen')), idleSeconds: 0.2 },
    );

    const error = await drain(await source.stream()).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(TransientError);
    expect((error as TransientError).code).toBe('SourceStalled');
  });
});
