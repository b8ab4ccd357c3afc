import { describe, expect, it } from 'vitest';
import { BufferPool } from '../../shared/streams/buffer-pool.ts';

describe('BufferPool', () => {
  it('hands a buffer given back out again for the same size, and never for another', () => {
    const pool = new BufferPool();
    const buffer = pool.take(1024);
    pool.give(buffer);

    expect(pool.take(2048)).not.toBe(buffer);
    expect(pool.take(1024)).toBe(buffer);
    expect(pool.take(1024)).not.toBe(buffer);
  });

  it('keeps no more than it was told to, and counts what it handed out again as gone', () => {
    const pool = new BufferPool(2);
    const [first, second, third] = [pool.take(8), pool.take(8), pool.take(8)];
    for (const buffer of [first, second, third]) pool.give(buffer);

    const again = [pool.take(8), pool.take(8), pool.take(8)];
    expect(again[0]).toBe(second);
    expect(again[1]).toBe(first);
    expect(again[2]).not.toBe(third);

    pool.give(third);
    expect(pool.take(8)).toBe(third);
  });
});
