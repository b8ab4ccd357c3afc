import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { partSizer } from '../../functions/destinations/s3/multipart.ts';
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
