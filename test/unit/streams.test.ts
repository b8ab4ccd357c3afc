import { PassThrough, Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { partSizer } from '../../functions/destinations/s3/multipart.ts';
import { crc32Base64, RunningCrc32 } from '../../shared/delivery/checksum.ts';
import { BufferPool } from '../../shared/streams/buffer-pool.ts';
import { feed } from '../../shared/streams/feed.ts';
import { readParts } from '../../shared/streams/chunks.ts';
import { forEachConcurrently } from '../../shared/streams/parallel.ts';

const MiB = 1024 * 1024;
const settings = { partSize: 8 * MiB, concurrency: 4, maxBytesInFlight: 64 * MiB };

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}

describe('Function: readParts', () => {
  it('cuts a stream of odd-sized chunks into exact parts, the last one shorter', async () => {
    const input = Buffer.from(Array.from({ length: 1000 }, (_, index) => index % 251));
    const chunks = [input.subarray(0, 7), input.subarray(7, 400), input.subarray(400, 401), input.subarray(401)];

    const parts = await collect(readParts(Readable.from(chunks), () => 300));

    expect(parts.map((part) => part.length)).toEqual([300, 300, 300, 100]);
    expect(Buffer.concat(parts)).toEqual(input);
  });

  it('yields one empty part for an empty stream', async () => {
    expect((await collect(readParts(Readable.from([]), () => 10))).map((part) => part.length)).toEqual([0]);
  });

  it('asks for growing part sizes by index', async () => {
    const parts = await collect(readParts(Readable.from([Buffer.alloc(10)]), (index) => 2 ** index));

    expect(parts.map((part) => part.length)).toEqual([1, 2, 4, 3]);
  });
});

describe('Function: partSizer', () => {
  it('keeps the minimum part size for files that fit in 10,000 of them', () => {
    expect(partSizer(4 * 1024 * MiB, settings)(0)).toBe(8 * MiB);
  });

  it('grows parts so a large known size fits in 10,000 parts', () => {
    const size = 1024 * 1024 * MiB; // 1 TiB
    const part = partSizer(size, settings)(0);

    expect(part % MiB).toBe(0);
    expect(Math.ceil(size / part)).toBeLessThanOrEqual(10_000);
  });

  it('doubles parts every 1,000 for an unknown size', () => {
    const sizeOf = partSizer(undefined, settings);

    expect([sizeOf(0), sizeOf(999), sizeOf(1000), sizeOf(2000)]).toEqual([8 * MiB, 8 * MiB, 16 * MiB, 32 * MiB]);
  });

  it('never goes below 5 MiB or above 5 GiB', () => {
    expect(partSizer(undefined, { ...settings, partSize: MiB })(0)).toBe(5 * MiB);
    expect(partSizer(undefined, { ...settings, partSize: 64 * MiB })(9999)).toBe(5 * 1024 * MiB);
  });
});

describe('Function: forEachConcurrently', () => {
  it('runs at most the given number at once and keeps results in order', async () => {
    let running = 0;
    let most = 0;

    const results = await forEachConcurrently(Readable.from([1, 2, 3, 4, 5, 6, 7]), () => 3, async (item) => {
      running += 1;
      most = Math.max(most, running);
      await new Promise((resolve) => setTimeout(resolve, 5 * (8 - item)));
      running -= 1;
      return item * 10;
    });

    expect(results).toEqual([10, 20, 30, 40, 50, 60, 70]);
    expect(most).toBe(3);
  });

  it('stops pulling items after a failure and rethrows it', async () => {
    const pulled: number[] = [];
    async function* items() {
      for (let item = 0; item < 100; item += 1) {
        pulled.push(item);
        yield item;
      }
    }

    const run = forEachConcurrently(items(), () => 2, async (item) => {
      if (item === 3) throw new Error('part 3 failed');
      await new Promise((resolve) => setTimeout(resolve, 1));
    });

    await expect(run).rejects.toThrow('part 3 failed');
    expect(pulled.length).toBeLessThan(10);
  });
});

describe('Class: RunningCrc32', () => {
  it('builds the whole CRC-32 from parts, equal to summing every byte at once', () => {
    const bytes = Buffer.from(Array.from({ length: 100_003 }, (_, index) => (index * 7919) % 256));
    const running = new RunningCrc32();

    const partCrcs = [bytes.subarray(0, 40_000), bytes.subarray(40_000, 40_001), bytes.subarray(40_001)].map((part) => running.add(part));

    expect(running.base64).toBe(crc32Base64(crc32(bytes)));
    expect(partCrcs[1]).toBe(crc32(bytes.subarray(40_000, 40_001)));
    expect(running.bytes).toBe(bytes.length);
  });
});

describe('Class: BufferPool', () => {
  it('hands back a returned buffer of the same size instead of allocating', () => {
    const pool = new BufferPool();
    const first = pool.take(1024);

    pool.give(first);

    expect(pool.take(1024)).toBe(first);
    expect(pool.take(1024)).not.toBe(first);
    expect(pool.take(2048)).toHaveLength(2048);
  });
});

describe('Function: readParts, allocation', () => {
  it('takes a part buffer only when the part has bytes, so an exact multiple costs no extra part', async () => {
    const sizes: number[] = [];

    const parts = await collect(
      readParts(Readable.from([Buffer.alloc(600)]), () => 300, (size) => {
        sizes.push(size);
        return Buffer.alloc(size);
      }),
    );

    expect(parts.map((part) => part.length)).toEqual([300, 300]);
    expect(sizes).toEqual([300, 300]);
  });
});

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('Function: feed', () => {
  it('passes the source on whole', async () => {
    const destination = feed(Readable.from([Buffer.from('ab'), Buffer.from('cd')]), new PassThrough());
    const chunks: Buffer[] = [];

    for await (const chunk of destination) chunks.push(chunk as Buffer);

    expect(Buffer.concat(chunks).toString()).toBe('abcd');
  });

  it('fails the destination with a source that fails while piped', async () => {
    const source = new PassThrough();
    const destination = feed(source, new PassThrough());
    const failed = new Promise((resolve) => destination.once('error', resolve));

    source.destroy(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));

    expect(await failed).toMatchObject({ code: 'ECONNRESET' });
  });

  it('fails the destination with a source that broke before it was piped', async () => {
    const source = new PassThrough();
    source.once('error', () => undefined);
    source.destroy(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
    await tick();

    const destination = feed(source, new PassThrough());
    const failed = new Promise((resolve) => destination.once('error', resolve));

    expect(await failed).toMatchObject({ code: 'ECONNRESET' });
  });

  it('lets go of the source when the destination is destroyed', async () => {
    const source = new PassThrough();
    const destination = feed(source, new PassThrough());

    destination.destroy();
    await tick();

    expect(source.destroyed).toBe(true);
  });
});
