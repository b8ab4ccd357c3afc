import { PassThrough, type Readable } from 'node:stream';
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

  it('lets go of the read it continued from when closed', async () => {
    const opened = new Map<number, Readable>();
    const source = sourceOf(bytes, { opened: (offset, stream) => opened.set(offset, stream) });
    await source.stream({ offset: 600_000, crc32: crc32(bytes.subarray(0, 600_000)) });

    source.close();
    await new Promise((resolve) => setImmediate(resolve));

    expect(opened.get(600_000)?.destroyed).toBe(true);
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

  it('fails at once a read that broke while its body waited to be read', async () => {
    const body = new PassThrough();
    // As a response whose connection was reset before anyone read it: destroyed, its error kept.
    body.once('error', () => undefined);
    body.destroy(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
    await new Promise((resolve) => setImmediate(resolve));
    const source = new SourceReader({ stream: body, startsAt: 0, size: 10, contentType: undefined, name: 'a.bin', version: undefined }, { reopen: async () => Promise.reject(new Error('not asked')) });

    await expect(drain(await source.stream())).rejects.toMatchObject({ code: 'ECONNRESET' });
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

describe('Class: SourceReader, parts read by themselves', () => {
  const lengths = (): number => 300_000;

  it('reads each part with a bounded read of its own and builds the whole CRC-32 from the parts, in whatever order they end', async () => {
    const source = sourceOf(bytes, { ranges: true });

    const ranges = source.rangedParts(lengths)!;
    expect(ranges.map((range) => [range.offset, range.length])).toEqual([[0, 300_000], [300_000, 300_000], [600_000, 300_000], [900_000, 100_003]]);
    const reads = await Promise.all([...ranges].reverse().map((range) => range.open()));
    const read = [];
    for (const one of reads) {
      expect(source.checksum).toBeUndefined();
      read.push(await drain(one.stream));
    }

    expect(Buffer.concat(read.reverse())).toEqual(bytes);
    expect(reads.map((one) => one.crc32()).reverse()).toEqual(ranges.map((range) => crcOf(bytes.subarray(range.offset, range.offset + range.length))));
    expect(source.checksum).toEqual({ algorithm: 'crc32', value: crcOf(bytes), bytes: bytes.length });
    expect(source.position).toBe(bytes.length);
  });

  it('reads the first part from the first answer, which it then lets go, and reads it again with a request of its own', async () => {
    const opened: [number, Readable][] = [];
    const source = sourceOf(bytes, { ranges: true, opened: (offset, stream) => opened.push([offset, stream]) });
    const [first, second] = source.rangedParts(lengths)!;

    const part1 = await drain((await first!.open()).stream);
    await drain((await second!.open()).stream);
    const part1Again = await drain((await first!.open()).stream);

    expect(opened.map(([offset]) => offset)).toEqual([0, 300_000, 0]);
    expect(opened[0]![1].destroyed).toBe(true);
    expect(part1).toEqual(bytes.subarray(0, 300_000));
    expect(part1Again).toEqual(part1);
  });

  it('continues from an offset the destination vouches for, the whole CRC-32 still covering the file', async () => {
    const source = sourceOf(bytes, { ranges: true });

    const ranges = source.rangedParts(lengths, { offset: 600_000, crc32: crc32(bytes.subarray(0, 600_000)) })!;
    for (const range of ranges) await drain((await range.open()).stream);

    expect(ranges.map((range) => range.offset)).toEqual([600_000, 900_000]);
    expect(source.startOffset).toBe(600_000);
    expect(source.checksum?.value).toBe(crcOf(bytes));
  });

  it('reads a part again when asked, counting it once in the whole', async () => {
    const source = sourceOf(bytes, { ranges: true });
    const [first, second] = source.rangedParts(() => 600_000)!;

    await drain((await first!.open()).stream);
    await drain((await first!.open()).stream);
    await drain((await second!.open()).stream);

    expect(source.checksum).toEqual({ algorithm: 'crc32', value: crcOf(bytes), bytes: bytes.length });
  });

  it('offers no parts to read by themselves when the source promises no ranges, has no known size, or the start has no CRC-32', () => {
    expect(sourceOf(bytes).rangedParts(lengths)).toBeUndefined();
    expect(sourceOf(bytes, { ranges: true, size: undefined }).rangedParts(lengths)).toBeUndefined();
    expect(sourceOf(bytes, { ranges: true }).rangedParts(lengths, { offset: 300_000 })).toBeUndefined();
  });

  it('counts as the attempt\'s one read', async () => {
    const source = sourceOf(bytes, { ranges: true });
    source.rangedParts(lengths);

    await expect(source.stream()).rejects.toThrow('read once per attempt');
  });

  it('fails a part the source answers from elsewhere than its offset, as transient', async () => {
    const [, second] = sourceOf(bytes, { ranges: true, ignoresRanges: true }).rangedParts(lengths)!;

    const error = await second!.open().catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(TransientError);
    expect((error as TransientError).code).toBe('SourceRangeIgnored');
  });

  it("lets go of a part's read when the part's stream is destroyed, and of every read when closed", async () => {
    const opened = new Map<number, Readable>();
    const source = sourceOf(bytes, { ranges: true, opened: (offset, stream) => opened.set(offset, stream) });
    const [first, second, third] = source.rangedParts(lengths)!;
    const reads = [await first!.open(), await second!.open(), await third!.open()];
    await drain(reads[0]!.stream);

    reads[1]!.stream.destroy();
    await new Promise((resolve) => setImmediate(resolve));

    expect([0, 300_000, 600_000].map((offset) => opened.get(offset)?.destroyed)).toEqual([true, true, false]);
    source.close();
    await new Promise((resolve) => setImmediate(resolve));
    expect(opened.get(600_000)?.destroyed).toBe(true);
  });

  it('fails a part whose read breaks before its end, and leaves the whole without a checksum', async () => {
    const source = sourceOf(bytes, { ranges: true, failsAt: 400_000 });
    const [, second] = source.rangedParts(lengths)!;

    const error = await drain((await second!.open()).stream).catch((caught: unknown) => caught);

    expect(error).toMatchObject({ code: 'ECONNRESET' });
    expect(source.checksum).toBeUndefined();
    await expect(source.readToEnd()).rejects.toMatchObject({ code: 'SourceNotRead' });
  });
});
